import type { APIGatewayProxyEvent } from 'aws-lambda';
import { idempotencyKeySchema } from '#lib/checkout/request-schema.ts';
import { ValidationError } from '#lib/errors.ts';

/**
 * The request's `Idempotency-Key` (headers already lower-cased by the normalizer), checked
 * before anything happens: 1–255 printable characters, and present when `required`.
 */
export function readIdempotencyKey(
  event: APIGatewayProxyEvent,
  required: boolean,
): string | undefined {
  const value = event.headers?.['idempotency-key'];
  if (value === undefined || value === '') {
    if (!required) return undefined;
    throw new ValidationError('The Idempotency-Key header is required', [
      { path: 'headers.Idempotency-Key', message: 'required' },
    ]);
  }
  const parsed = idempotencyKeySchema.safeParse(value);
  if (!parsed.success) {
    throw new ValidationError('The Idempotency-Key header is invalid', [
      { path: 'headers.Idempotency-Key', message: 'must be 1 to 255 printable characters' },
    ]);
  }
  return parsed.data;
}
