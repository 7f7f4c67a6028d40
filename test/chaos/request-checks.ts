import { isLuhnValid } from '#lib/checkout/card.ts';
import type { Endpoint } from './fault-schedule.ts';
import { toMinor } from './ledger.ts';

export type JsonObject = Record<string, unknown>;

/** JSON with object keys sorted: two bodies that mean the same thing compare equal. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as JsonObject)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

let currencies: ReadonlySet<string> | undefined;
const isCurrency = (code: unknown): code is string => {
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return typeof code === 'string' && currencies.has(code);
};
const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
const isAmount = (v: unknown, currency: unknown) =>
  isCurrency(currency) && typeof v === 'number' && (toMinor(v, currency) ?? 0) > 0;

function invalidItems(items: unknown, withPrice: boolean, currency?: unknown): boolean {
  if (!Array.isArray(items) || items.length === 0) return true;
  return items.some((item: JsonObject) => {
    if (!item || typeof item !== 'object') return true;
    const quantity = item.quantity;
    if (!isText(item.product_id) || !Number.isInteger(quantity) || (quantity as number) < 1) {
      return true;
    }
    return withPrice && !isAmount(item.price, currency);
  });
}

/** A raw card as a provider takes it: a Luhn-valid number, an expiry MM/YY, a CVV. */
function invalidCard(card: JsonObject): boolean {
  const number = String(card.card_number ?? '');
  return (
    !/^\d{12,19}$/.test(number) ||
    !isLuhnValid(number) ||
    !/^\d{2}\/\d{2}$/.test(String(card.card_expiry ?? '')) ||
    !/^\d{3,4}$/.test(String(card.card_cvv ?? ''))
  );
}

/** A token of the payment service's SDK: `tok_` and letters, digits, `_` or `-`. */
const TOKEN = /^tok_[A-Za-z0-9_-]{4,}$/;

/**
 * An authorization's payment method: a raw card (`credit_card` or `debit_card`, its number,
 * expiry and CVV) or a token (`card_token` and `token` alone, no card field beside it).
 */
function invalidPaymentMethod(method: JsonObject): string | undefined {
  if (method.type === 'card_token') {
    const extra = Object.keys(method).filter((k) => k !== 'type' && k !== 'token');
    return typeof method.token === 'string' && TOKEN.test(method.token) && extra.length === 0
      ? undefined
      : 'invalid_token';
  }
  if (method.type !== 'credit_card' && method.type !== 'debit_card') {
    return 'invalid_payment_method';
  }
  return invalidCard(method) ? 'invalid_card' : undefined;
}

/** `installments`: a whole number from 1 to 24, or an object whose `count` is one. */
function invalidInstallments(value: unknown): boolean {
  const count =
    value && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject).count
      : value;
  return !Number.isInteger(count) || (count as number) < 1 || (count as number) > 24;
}

/**
 * Why a provider would reject this body before acting (400, nothing stored under the key), or
 * undefined when it is well-formed. A charge or an authorization must carry a card (or, an
 * authorization, a token): none is `payment_method_required`.
 */
export function invalidBody(endpoint: Endpoint, body: JsonObject): string | undefined {
  if (!isText(body.checkout_id)) return 'checkout_id_required';
  switch (endpoint) {
    case 'charge': {
      if (!isCurrency(body.currency)) return 'invalid_currency';
      if (!isAmount(body.amount, body.currency)) return 'invalid_amount';
      if (!isText(body.customer_email)) return 'customer_email_required';
      const card = body.payment_method as JsonObject | null | undefined;
      if (card === null || card === undefined) return 'payment_method_required';
      return invalidCard(card) ? 'invalid_card' : undefined;
    }
    case 'authorize': {
      if (!isCurrency(body.currency)) return 'invalid_currency';
      if (!isAmount(body.amount, body.currency)) return 'invalid_amount';
      if (!isText(body.customer_email)) return 'customer_email_required';
      if (body.installments === undefined) return 'installments_required';
      if (invalidInstallments(body.installments)) return 'invalid_installments';
      if (body.customer_document !== undefined && !isText(body.customer_document)) {
        return 'invalid_customer_document';
      }
      const method = body.payment_method as JsonObject | null | undefined;
      if (method === null || method === undefined) return 'payment_method_required';
      if (typeof method !== 'object') return 'invalid_payment_method';
      return invalidPaymentMethod(method);
    }
    case 'capture':
      if (!isCurrency(body.currency)) return 'invalid_currency';
      return isAmount(body.amount, body.currency) ? undefined : 'invalid_amount';
    case 'void':
    case 'cancel':
      return isText(body.reason) ? undefined : 'reason_required';
    case 'pix':
      if (body.currency !== 'BRL') return 'invalid_currency';
      if (!isAmount(body.amount, 'BRL')) return 'invalid_amount';
      if (!isText(body.customer_email)) return 'customer_email_required';
      if (!isText(body.customer_document)) return 'customer_document_required';
      if (typeof body.expires_at !== 'string' || Number.isNaN(Date.parse(body.expires_at))) {
        return 'invalid_expires_at';
      }
      return undefined;
    case 'boleto':
      if (body.currency !== undefined && body.currency !== 'BRL') return 'invalid_currency';
      if (!isAmount(body.amount, 'BRL')) return 'invalid_amount';
      if (!isText(body.customer_email)) return 'customer_email_required';
      if (!isText(body.customer_name)) return 'customer_name_required';
      if (!isText(body.customer_document)) return 'customer_document_required';
      if (typeof body.due_date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(body.due_date)) {
        return 'invalid_due_date';
      }
      return undefined;
    case 'refund':
      if (!isCurrency(body.currency)) return 'invalid_currency';
      return isAmount(body.amount, body.currency) ? undefined : 'invalid_amount';
    case 'deduct':
    case 'release':
      return invalidItems(body.items, false) ? 'invalid_items' : undefined;
    case 'order':
      if (!isCurrency(body.currency)) return 'invalid_currency';
      if (!isText(body.customer_email)) return 'customer_email_required';
      if (!body.shipping_address || typeof body.shipping_address !== 'object') {
        return 'shipping_address_required';
      }
      if (!isText(body.payment_id)) return 'payment_id_required';
      if (body.payment_status !== undefined && body.payment_status !== 'authorized') {
        return 'invalid_payment_status';
      }
      if (!isAmount(body.total_amount, body.currency)) return 'invalid_amount';
      return invalidItems(body.items, true, body.currency) ? 'invalid_items' : undefined;
    default:
      return undefined;
  }
}
