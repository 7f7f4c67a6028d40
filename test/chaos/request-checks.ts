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

/**
 * Why a provider would reject this body before acting (400, nothing stored under the key), or
 * undefined when it is well-formed. A charge must carry a card: none is `payment_method_required`.
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
      const number = String(card.card_number ?? '');
      if (
        !/^\d{12,19}$/.test(number) ||
        !isLuhnValid(number) ||
        !/^\d{2}\/\d{2}$/.test(String(card.card_expiry ?? '')) ||
        !/^\d{3,4}$/.test(String(card.card_cvv ?? ''))
      ) {
        return 'invalid_card';
      }
      return undefined;
    }
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
      if (!isAmount(body.total_amount, body.currency)) return 'invalid_amount';
      return invalidItems(body.items, true, body.currency) ? 'invalid_items' : undefined;
    default:
      return undefined;
  }
}
