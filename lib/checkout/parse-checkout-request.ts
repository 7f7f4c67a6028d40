import type * as z from 'zod/mini';
import { type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { minorUnitDigits, toMinorUnits } from '#lib/money.ts';
import { cardSummary } from './card.ts';
import type { PaymentCard } from './checkout.ts';
import type { Cart, CartItem } from './pricing.ts';
import { requestHash } from './request-hash.ts';
import { type CheckoutRequest, checkoutRequestSchema } from './request-schema.ts';

/** `items.0.price` style paths, the same for zod and for JSON Schema errors. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(body)';
}

/** One detail per problem; an unknown field is named in the path, as the JSON Schema does. */
export function zodDetails(error: z.core.$ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: issuePath([...issue.path, key]),
          message: 'unknown field',
        }))
      : [{ path: issuePath(issue.path), message: issue.message }],
  );
}

/**
 * The items with the prices the customer saw (when sent) in minor units of the request's
 * currency. This is where a price with more decimals than the currency's minor unit (150.5 JPY,
 * 1.2345 KWD, 19.999 BRL) is refused: the rule depends on the currency, and JSON Schema's
 * `multipleOf` cannot test it exactly on floats.
 */
function cartItems({ items, currency }: CheckoutRequest): CartItem[] {
  const details: ErrorDetail[] = [];
  const lines = items.map((item, index): CartItem => {
    const line = { productId: item.product_id, quantity: item.quantity };
    if (item.price === undefined) return line;
    const priceSeenCents = toMinorUnits(item.price, currency);
    if (priceSeenCents === undefined) {
      details.push({ path: issuePath(['items', index, 'price']), message: tooPrecise(currency) });
    }
    return { ...line, priceSeenCents: priceSeenCents ?? 0 };
  });
  if (details.length) throw new ValidationError('The checkout request is invalid', details);
  return lines;
}

function tooPrecise(currency: string): string {
  const digits = minorUnitDigits(currency);
  return digits === 0
    ? `price must be a whole amount in ${currency} (no decimals)`
    : `price must have at most ${digits} decimals in ${currency}`;
}

/**
 * Validates a checkout body against every rule (structure, Luhn, expiry, known currency, prices
 * within the currency's decimals) and splits it into the cart to price and record, the card to
 * send to the payment service only, and the fingerprint that recognises a repeat of the same
 * request (the request as sent: the catalog's answer is not part of it).
 */
export function parseCheckoutRequest(body: unknown): {
  cart: Cart;
  card: PaymentCard;
  requestHash: string;
} {
  const parsed = checkoutRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('The checkout request is invalid', zodDetails(parsed.error));
  }
  const request = parsed.data;
  const items = cartItems(request);
  const { payment_method: pm } = request;
  return {
    cart: {
      customerEmail: request.customer_email,
      currency: request.currency,
      items,
      shippingAddress: request.shipping_address,
      card: cardSummary(pm.card_number),
    },
    card: {
      type: pm.type,
      cardNumber: pm.card_number,
      cardExpiry: pm.card_expiry,
      cardCvv: pm.card_cvv,
    },
    requestHash: requestHash(request),
  };
}
