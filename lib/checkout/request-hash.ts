import { createHash } from 'node:crypto';
import { cardSummary } from './card.ts';
import type { CheckoutRequest } from './request-schema.ts';

/**
 * The fingerprint stored beside an `Idempotency-Key` to recognise "the same request": SHA-256
 * of the validated body in canonical form (sorted keys, defaults applied), with the card number
 * reduced to brand and last four digits and the CVV left out, so nothing derived from the full
 * card number is ever stored.
 */
export function requestHash(request: CheckoutRequest): string {
  const { card_number, card_cvv: _cvv, ...card } = request.payment_method;
  const fingerprint = { ...request, payment_method: { ...card, ...cardSummary(card_number) } };
  return createHash('sha256').update(canonicalJson(fingerprint)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
