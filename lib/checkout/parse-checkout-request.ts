import type * as z from 'zod/mini';
import { type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { minorUnitDigits, toMinorUnits } from '#lib/money.ts';
import { cardSummary } from './card.ts';
import type { PaymentSecrets } from './checkout.ts';
import { parseCustomerDocument } from './customer-document.ts';
import type { AsyncTerms, Cart, CartItem } from './pricing.ts';

type PaymentMethod = CheckoutRequest['payment_method'];

import { requestHash } from './request-hash.ts';
import { type CheckoutRequest, checkoutRequestSchema, isAsyncPayment } from './request-schema.ts';

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

/** The longest payer name a boleto is registered with (the field takes 200 for other methods). */
const BOLETO_NAME_MAX = 120;

/**
 * The rules that join the payment method to other fields, each at the field to change:
 * installments (cards, BRL only; a debit card pays at once), and what a Pix or boleto needs: BRL
 * (reported at `payment_method.type`, as installments are: another currency's prices are a
 * different cart, so the method is what a shop changes), the payer's CPF/CNPJ and, for a
 * boleto, the name and neighbourhood it is registered with.
 */
function paymentProblems(request: CheckoutRequest): ErrorDetail[] {
  const { payment_method: pm, currency } = request;
  if (!isAsyncPayment(pm)) {
    const installments = pm.installments ?? 1;
    if (installments > 1 && currency !== 'BRL') {
      return [
        {
          path: 'payment_method.installments',
          message: `installments are offered in BRL only; in ${currency} pay in 1`,
        },
      ];
    }
    if (installments > 1 && pm.type === 'debit_card') {
      return [
        {
          path: 'payment_method.installments',
          message: 'a debit card is paid at once: installments must be 1',
        },
      ];
    }
    return [];
  }
  const problems: ErrorDetail[] = [];
  if (currency !== 'BRL') {
    problems.push({
      path: 'payment_method.type',
      message: `${pm.type} is offered in BRL only; in ${currency} pay by card`,
    });
  }
  if (request.customer_document === undefined) {
    problems.push({ path: 'customer_document', message: `required for ${pm.type}` });
  }
  if (pm.type === 'boleto') {
    if (request.customer_name === undefined) {
      problems.push({ path: 'customer_name', message: 'required for boleto' });
    } else if (request.customer_name.length > BOLETO_NAME_MAX) {
      problems.push({
        path: 'customer_name',
        message: `customer_name must be at most ${BOLETO_NAME_MAX} characters for boleto`,
      });
    }
    if (request.shipping_address.neighborhood === undefined) {
      problems.push({ path: 'shipping_address.neighborhood', message: 'required for boleto' });
    }
  }
  return problems;
}

/** A Pix's or boleto's lifetime as sent: a field left out stays out (the setting's, later). */
function asyncTerms(pm: Extract<PaymentMethod, { type: 'pix' | 'boleto' }>): AsyncTerms {
  if (pm.type === 'pix') {
    const { expires_in_minutes: minutes } = pm;
    return { method: pm.type, ...(minutes !== undefined && { expiresInMinutes: minutes }) };
  }
  const { due_in_days: days } = pm;
  return { method: pm.type, ...(days !== undefined && { dueInDays: days }) };
}

/**
 * What the payment method puts in the cart: the card's brand and last 4 (a raw card), the
 * installments asked for (a Pix or boleto is paid at once), and a Pix's or boleto's lifetime.
 */
function cartPayment(
  pm: PaymentMethod,
): Pick<Cart, 'card' | 'method' | 'installments' | 'asyncTerms'> {
  if (isAsyncPayment(pm)) {
    return { card: null, method: pm.type, installments: 1, asyncTerms: asyncTerms(pm) };
  }
  const card = pm.type === 'card_token' ? null : cardSummary(pm.card_number);
  return { card, method: pm.type, installments: pm.installments ?? 1, asyncTerms: null };
}

/** What the payment service alone gets of the method: the card, the token, a boleto's payer. */
function instrumentOf(request: CheckoutRequest): PaymentSecrets['instrument'] {
  const { payment_method: pm } = request;
  switch (pm.type) {
    case 'pix':
      return { type: pm.type };
    case 'boleto': {
      const payerName = request.customer_name;
      // paymentProblems refuses a boleto without one.
      if (payerName === undefined) throw new Error('a boleto without customer_name got through');
      return { type: pm.type, payerName };
    }
    case 'card_token':
      return { type: pm.type, token: pm.token };
    default:
      return {
        type: pm.type,
        cardNumber: pm.card_number,
        cardExpiry: pm.card_expiry,
        cardCvv: pm.card_cvv,
      };
  }
}

/**
 * Validates a checkout body against every rule (structure, Luhn, expiry, known currency, prices
 * within the currency's decimals, installments in BRL, a CPF/CNPJ's check digits, what a Pix or
 * boleto needs) and splits it into the cart to price and record, what goes to the payment
 * service only (the card or token, a boleto's payer name, the payer's document: never stored),
 * and the fingerprint that recognises a repeat of the same request (the request as sent: the
 * catalog's answer is not part of it). The fingerprint reads the secret a CPF/CNPJ (and a Pix's
 * or boleto's payer name) is keyed with (HMAC) only when the request carries a document, which
 * every Pix and boleto does.
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
  const document =
    request.customer_document === undefined
      ? undefined
      : parseCustomerDocument(request.customer_document);
  if (document && 'problem' in document) {
    details.push({ path: 'customer_document', message: document.problem });
  }
  details.push(...paymentProblems(request));
  if (details.length) throw new ValidationError('The checkout request is invalid', details);
  const customerDocument = document && 'number' in document ? document.number : undefined;
  return {
    cart: {
      customerEmail: request.customer_email,
      currency: request.currency,
      items,
      shippingAddress: request.shipping_address,
      ...cartPayment(request.payment_method),
    },
    secrets: {
      instrument: instrumentOf(request),
      ...(customerDocument && { customerDocument }),
    },
    fingerprint: async (documentKey) =>
      requestHash(request, customerDocument, customerDocument ? await documentKey() : ''),
  };
}
