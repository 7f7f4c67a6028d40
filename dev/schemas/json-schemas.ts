import * as z from 'zod/mini';
import { checkoutRequestSchema } from '#lib/checkout/request-schema.ts';

type Target = 'draft-2020-12' | 'draft-4' | 'openapi-3.0';

/**
 * JSON Schema of the checkout body generated from the zod schema, never written by hand:
 * `draft-2020-12` for `@middy/validator` (Ajv2020), `draft-4` for API Gateway REST models,
 * `openapi-3.0` for the OpenAPI document. Rules JSON Schema cannot say (Luhn, expiry in the
 * future, a known currency, a price's decimals per currency) are enforced after the structural
 * check, by `parseCheckoutRequest`.
 */
export function checkoutRequestJsonSchema(target: Target): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(checkoutRequestSchema, {
    target,
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return target === 'openapi-3.0' ? schema : { $schema: dialect[target], ...schema };
}

const dialect: Record<Exclude<Target, 'openapi-3.0'>, string> = {
  'draft-2020-12': 'https://json-schema.org/draft/2020-12/schema',
  'draft-4': 'http://json-schema.org/draft-04/schema#',
};
