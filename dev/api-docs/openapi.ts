import { z } from 'zod';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';
import {
  checkoutViewSchema,
  completedResponseSchema,
  errorResponseSchema,
  failedResponseSchema,
  healthResponseSchema,
  incompleteResponseSchema,
} from './response-schemas.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: 'openapi-3.0' });
const json = (ref: string, description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});

/** The OpenAPI 3.0 document of the public API, built from the zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'checkout-commerce',
      version: '0.1.0',
      description:
        'Checkout orchestrator: records the checkout, charges the payment, deducts stock and creates the order, undoing completed steps when a later one fails.',
    },
    paths: {
      '/health': {
        get: {
          summary: 'Liveness and database check',
          responses: {
            200: json('Health', 'The database answers'),
            503: json('Health', 'The database does not answer'),
          },
        },
      },
      '/checkout/process': {
        post: {
          summary: 'Process a checkout',
          parameters: [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              schema: { type: 'string', minLength: 1, maxLength: 255 },
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/CheckoutRequest' } },
            },
          },
          responses: {
            200: json('CheckoutCompleted', 'The checkout completed'),
            400: json('Error', 'Invalid request (schema, JSON syntax, card, expiry, ...)'),
            413: json('Error', 'Body over 64 KiB'),
            415: json('Error', 'Body is not JSON'),
            422: json('CheckoutFailed', 'A service refused; completed steps were undone'),
            502: json('CheckoutFailed', 'A service was unavailable; completed steps were undone'),
            503: json('CheckoutIncomplete', 'Outcome unknown; left for recovery (see Retry-After)'),
          },
        },
      },
      '/checkout/{id}': {
        get: {
          summary: 'Read a checkout',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          ],
          responses: {
            200: json('Checkout', 'The checkout'),
            400: json('Error', 'The id is not a UUID'),
            404: json('Error', 'No such checkout'),
          },
        },
      },
    },
    components: {
      schemas: {
        CheckoutRequest: checkoutRequestJsonSchema('openapi-3.0'),
        CheckoutCompleted: schema(completedResponseSchema),
        CheckoutFailed: schema(failedResponseSchema),
        CheckoutIncomplete: schema(incompleteResponseSchema),
        Checkout: schema(checkoutViewSchema),
        Error: schema(errorResponseSchema),
        Health: schema(healthResponseSchema),
      },
    },
  };
}
