import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { zodDetails } from '#lib/checkout/parse-checkout-request.ts';
import type { PaymentEvent } from '#lib/checkout/payment-event.ts';
import { checkoutIdSchema } from '#lib/checkout/request-schema.ts';
import type { ErrorDetail } from '#lib/errors.ts';
import { MAX_BODY_BYTES } from './request-guard.ts';
import {
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookSignatureCheck,
} from './webhook-signature.ts';

/**
 * `POST /webhooks/payments` read in the order that does the least for a stranger: the size
 * (no HMAC over 10 MB), the signature over the raw body (before any JSON is parsed, so an
 * unsigned body never reaches a parser), then the JSON and its shape. Nothing here writes,
 * logs or throws; the handler answers what it returns.
 */

/** A string field of the event: present, non-empty, and short enough to store and log. */
const field = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/**
 * The payment service's event. Loose: providers add fields over time, and an added field must
 * not turn a payment into a refused webhook that is redelivered for days. `checkout_id` is any
 * short string here; one that is not a UUID names no checkout of ours (below).
 */
const paymentWebhookSchema = z.looseObject({
  event_id: field(255),
  type: field(100),
  transactionId: field(255),
  checkout_id: field(100),
  occurred_at: field(64),
});

export type PaymentWebhookRead =
  | { kind: 'event'; event: PaymentEvent }
  /** Signed and well formed, but its `checkout_id` is no UUID: no checkout of ours has it. */
  | { kind: 'not_ours' }
  | { kind: 'too_large' }
  | { kind: 'unsigned'; reason: Extract<WebhookSignatureCheck, { ok: false }>['reason'] }
  | { kind: 'not_json' }
  | { kind: 'invalid'; details: ErrorDetail[] }
  /** The signing secret could not be had (not configured, Secrets Manager unreachable). */
  | { kind: 'no_key'; error: unknown };

/**
 * The body exactly as it came: API Gateway base64-encodes a body it takes for binary
 * (`isBase64Encoded`), and the signature is over the bytes the service sent, not over that text.
 */
export function rawBodyOf(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  return Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
}

/**
 * Reads the webhook in `event` at `nowSeconds` (Unix time), checked against the secret
 * `webhookKey` gives, which is asked for only once the size is known to be acceptable.
 */
export async function readPaymentWebhook(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded' | 'headers'>,
  webhookKey: () => Promise<string>,
  nowSeconds: number,
): Promise<PaymentWebhookRead> {
  const raw = rawBodyOf(event);
  if (raw.length > MAX_BODY_BYTES) return { kind: 'too_large' };
  let secret: string;
  try {
    secret = await webhookKey();
  } catch (error) {
    return { kind: 'no_key', error };
  }
  // JSON is UTF-8 (RFC 8259): a body that is not decodes with replacement characters, fails
  // the signature, and is refused as unsigned rather than parsed.
  const text = raw.toString('utf8');
  const signature = verifyWebhookSignature(
    secret,
    event.headers?.[WEBHOOK_SIGNATURE_HEADER],
    text,
    nowSeconds,
  );
  if (!signature.ok) return { kind: 'unsigned', reason: signature.reason };

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'not_json' };
  }
  const parsed = paymentWebhookSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', details: zodDetails(parsed.error) };
  const body = parsed.data;
  if (!checkoutIdSchema.safeParse(body.checkout_id).success) return { kind: 'not_ours' };
  return {
    kind: 'event',
    event: {
      eventId: body.event_id,
      type: body.type,
      transactionId: body.transactionId,
      checkoutId: body.checkout_id,
      occurredAt: body.occurred_at,
    },
  };
}
