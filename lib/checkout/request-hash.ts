import { createHash, createHmac } from 'node:crypto';
import { type CheckoutRequest, isAsyncPayment } from './request-schema.ts';

/**
 * The fingerprint stored beside an `Idempotency-Key` to recognise "the same request": SHA-256
 * of the validated body in canonical form (sorted keys, defaults applied). Nothing stored may
 * give back what must not be kept:
 * - the card number is reduced to brand and last four digits and the CVV left out;
 * - the CPF/CNPJ enters only as an HMAC-SHA256 with a secret (`documentKey`), never a plain
 *   hash: there are only about 10⁹ CPFs, and a plain hash of each is computed in seconds;
 * - a Pix's or boleto's `customer_name` (the payer's, never stored) is keyed the same way: names
 *   are fewer still. A card request's name enters as sent, as it always has: keying it now would
 *   change the fingerprint of every such checkout recorded before, and refuse its retry.
 * `customerDocument` is the document as normalised, so `529.982.247-25` and `52998224725` are
 * the same request; `documentKey` is read only for a request that has one (every Pix and boleto).
 * A Pix's `expires_in_minutes` and a boleto's `due_in_days` enter as sent: left out is not the
 * same request as the default sent, since the default is the setting's when it is recorded.
 */
export function requestHash(
  request: CheckoutRequest,
  customerDocument: string | undefined,
  documentKey: string,
): string {
  const { payment_method: method, customer_document: _raw, customer_name: name, ...rest } = request;
  const keyed = (value: string) => createHmac('sha256', documentKey).update(value).digest('hex');
  const fingerprint = {
    ...rest,
    payment_method: paymentFingerprint(method),
    ...(customerDocument && { customer_document: keyed(customerDocument) }),
    ...(name !== undefined && { customer_name: isAsyncPayment(method) ? keyed(name) : name }),
  };
  return createHash('sha256').update(canonicalJson(fingerprint)).digest('hex');
}

/** The payment method without what must never be stored: a token is kept as sent. */
function paymentFingerprint(method: CheckoutRequest['payment_method']): object {
  // A Pix or boleto has nothing secret, and no installments.
  if (isAsyncPayment(method)) return method;
  // One installment is what a request without any asks for: the same request.
  const installments = method.installments === 1 ? undefined : method.installments;
  if (method.type === 'card_token') return { ...method, installments };
  const { card_number, card_cvv: _cvv, ...card } = method;
  return {
    ...card,
    installments,
    brand: fingerprintBrand(card_number),
    last4: card_number.slice(-4),
  };
}

/**
 * The brand as fingerprints have always named it. Frozen: `cardBrand` has since learned Elo,
 * Hipercard, Diners and JCB, and a fingerprint that changed with it would refuse, as a
 * different request, the retry of a checkout recorded before (an Elo card starting with 4).
 */
function fingerprintBrand(n: string): string {
  if (n.startsWith('4')) return 'visa';
  const first4 = Number(n.slice(0, 4));
  if (/^5[1-5]/.test(n) || (first4 >= 2221 && first4 <= 2720)) return 'mastercard';
  if (/^3[47]/.test(n)) return 'amex';
  if (/^(6011|65)/.test(n)) return 'discover';
  return 'other';
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
