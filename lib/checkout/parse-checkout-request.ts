import type * as z from 'zod/mini';
import { type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { minorUnitDigits, toMinorUnits } from '#lib/money.ts';
import { cardSummary } from './card.ts';
import type { PaymentSecrets } from './checkout.ts';
import { parseCustomerDocument } from './customer-document.ts';
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
function cartItems({ items, currency }: CheckoutRequest, details: ErrorDetail[]): CartItem[] {
  const lines = items.map((item, index): CartItem => {
    const line = { productId: item.product_id, quantity: item.quantity };
    if (item.price === undefined) return line;
    const priceSeenCents = toMinorUnits(item.price, currency);
    if (priceSeenCents === undefined) {
      details.push({ path: issuePath(['items', index, 'price']), message: tooPrecise(currency) });
    }
    return { ...line, priceSeenCents: priceSeenCents ?? 0 };
  });
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
 * within the currency's decimals, installments in BRL, a CPF/CNPJ's check digits) and splits it
 * into the cart to price and record, what goes to the payment service only (the card or token,
 * the payer's document: never stored), and the fingerprint that recognises a repeat of the
 * same request (the request as sent: the catalog's answer is not part of it). The fingerprint
 * reads the secret a CPF/CNPJ is keyed with (HMAC) only when the request carries one.
 */
export function parseCheckoutRequest(body: unknown): {
  cart: Cart;
  secrets: PaymentSecrets;
  fingerprint: (documentKey: () => Promise<string>) => Promise<string>;
} {
  const parsed = checkoutRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError('The checkout request is invalid', zodDetails(parsed.error));
  }
  const request = parsed.data;
  const details: ErrorDetail[] = [];
  const items = cartItems(request, details);
  const installments = request.payment_method.installments ?? 1;
  if (installments > 1 && request.currency !== 'BRL') {
    details.push({
      path: 'payment_method.installments',
      message: `installments are offered in BRL only; in ${request.currency} pay in 1`,
    });
  } else if (installments > 1 && request.payment_method.type === 'debit_card') {
    details.push({
      path: 'payment_method.installments',
      message: 'a debit card is paid at once: installments must be 1',
    });
  }
  const document =
    request.customer_document === undefined
      ? undefined
      : parseCustomerDocument(request.customer_document);
  if (document && 'problem' in document) {
    details.push({ path: 'customer_document', message: document.problem });
  }
  if (details.length) throw new ValidationError('The checkout request is invalid', details);
  const { payment_method: pm } = request;
  const customerDocument = document && 'number' in document ? document.number : undefined;
  return {
    cart: {
      customerEmail: request.customer_email,
      currency: request.currency,
      items,
      shippingAddress: request.shipping_address,
      card: pm.type === 'card_token' ? null : cardSummary(pm.card_number),
      method: pm.type,
      installments,
    },
    secrets: {
      instrument:
        pm.type === 'card_token'
          ? { type: pm.type, token: pm.token }
          : {
              type: pm.type,
              cardNumber: pm.card_number,
              cardExpiry: pm.card_expiry,
              cardCvv: pm.card_cvv,
            },
      ...(customerDocument && { customerDocument }),
    },
    fingerprint: async (documentKey) =>
      requestHash(request, customerDocument, customerDocument ? await documentKey() : ''),
  };
}
