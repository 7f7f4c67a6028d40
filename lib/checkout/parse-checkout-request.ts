import type * as z from 'zod/mini';
import { type ErrorDetail, ValidationError } from '../errors.ts';
import { orderTotal, toMinorUnits } from '../money.ts';
import { cardSummary } from './card.ts';
import type { CheckoutOrder, PaymentCard } from './checkout.ts';
import { requestHash } from './request-hash.ts';
import { checkoutRequestSchema } from './request-schema.ts';

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
 * Validates a checkout body against every rule (structure, Luhn, expiry, 2-decimal prices)
 * and splits it into the order to record, the card to send to the payment service only, and
 * the fingerprint that recognises a repeat of the same request.
 */
export function parseCheckoutRequest(body: unknown): {
  order: CheckoutOrder;
  card: PaymentCard;
  requestHash: string;
} {
  const parsed = checkoutRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('The checkout request is invalid', zodDetails(parsed.error));
  }
  const request = parsed.data;
  const items = request.items.map((item) => ({
    productId: item.product_id,
    quantity: item.quantity,
    // The schema has already checked that every price has at most 2 decimals.
    priceCents: toMinorUnits(item.price) ?? 0,
  }));
  const { payment_method: pm } = request;
  return {
    order: {
      customerEmail: request.customer_email,
      currency: request.currency,
      items,
      shippingAddress: request.shipping_address,
      totalCents: orderTotal(items),
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
