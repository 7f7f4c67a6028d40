import * as z from 'zod/mini';
import type { PaymentSecrets } from '#lib/checkout/checkout.ts';
import type { PaymentService } from '#lib/checkout/ports.ts';
import { type MinorUnits, toWireAmount } from '#lib/money.ts';
import {
  checkoutEcho,
  type Echo,
  type EchoCheck,
  type ServiceHttpClient,
  sameAmount,
  sameText,
} from './service-http-client.ts';

const chargeResponse = z.looseObject({
  status: z.literal('success'),
  transactionId: z.string().check(z.minLength(1), z.maxLength(128)),
});
const authorizeResponse = z.looseObject({
  status: z.literal('authorized'),
  transactionId: z.string().check(z.minLength(1), z.maxLength(128)),
  // A token's card, as the payment service knows it: all we may keep of it.
  card: z.optional(
    z.looseObject({
      brand: z.string().check(z.minLength(1), z.maxLength(32)),
      last4: z.string().check(z.regex(/^\d{4}$/)),
    }),
  ),
});
const captureResponse = z.looseObject({ status: z.literal('captured') });
const voidResponse = z.looseObject({ status: z.literal('voided') });
const refundResponse = z.looseObject({ status: z.literal('refunded') });
const chargesResponse = z.looseObject({
  payments: z.array(
    z.looseObject({
      transactionId: z.string().check(z.minLength(1), z.maxLength(128)),
      status: z.enum(['success', 'authorized', 'captured', 'voided', 'refunded', 'failed']),
    }),
  ),
});

/** The card or token as the payment service takes it. */
function paymentMethod(instrument: PaymentSecrets['instrument']) {
  if (instrument.type === 'card_token') return { type: instrument.type, token: instrument.token };
  return {
    type: instrument.type,
    card_number: instrument.cardNumber,
    card_expiry: instrument.cardExpiry,
    card_cvv: instrument.cardCvv,
  };
}

/**
 * What every payment answer, a success or a refusal, repeats of its request (design §3): the
 * checkout, the amount and the currency, and the transaction acted on.
 */
function paymentEcho(
  checkoutId: string,
  amountCents: MinorUnits,
  currency: string,
  also: Record<string, EchoCheck> = {},
): Echo {
  return {
    required: {
      checkout_id: sameText(checkoutId),
      amount: sameAmount(amountCents, currency),
      currency: sameText(currency),
      ...also,
    },
  };
}

/**
 * The payment service: authorize, capture and void (`after_order`); charge and refund (the
 * seed's `immediate`); and the lookup of what it holds for a checkout.
 */
export function createPaymentClient(http: ServiceHttpClient): PaymentService {
  return {
    async charge(input, options) {
      const { checkoutId, amountCents, currency, card, customerEmail } = input;
      const { installments, customerDocument } = input;
      const { transactionId } = await http.post(
        '/payments/process',
        {
          amount: toWireAmount(amountCents, currency),
          currency,
          payment_method: paymentMethod(card),
          customer_email: customerEmail,
          checkout_id: checkoutId,
          // Only when asked for: the seed's body stays as it was.
          ...(installments && { installments }),
          ...(customerDocument && { customer_document: customerDocument }),
        },
        `${checkoutId}:charge`,
        chargeResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency),
      );
      return { transactionId };
    },

    async authorize(input, options) {
      const { checkoutId, amountCents, currency, installments, customerEmail, payment } = input;
      const { transactionId, card } = await http.post(
        '/payments/authorize',
        {
          checkout_id: checkoutId,
          amount: toWireAmount(amountCents, currency),
          currency,
          installments: installments.count,
          customer_email: customerEmail,
          ...(payment.customerDocument && { customer_document: payment.customerDocument }),
          payment_method: paymentMethod(payment.instrument),
        },
        `${checkoutId}:authorize`,
        authorizeResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency),
      );
      return { transactionId, ...(card && { card: { brand: card.brand, last4: card.last4 } }) };
    },

    async capture({ checkoutId, transactionId, amountCents, currency }, options) {
      await http.post(
        `/payments/${encodeURIComponent(transactionId)}/capture`,
        { checkout_id: checkoutId, amount: toWireAmount(amountCents, currency), currency },
        `${checkoutId}:capture`,
        captureResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency, { transactionId: sameText(transactionId) }),
      );
    },

    /** Undoes `authorize`. Its answer says little: sent on a connection of its own. */
    async void({ checkoutId, transactionId, reason }, options) {
      await http.post(
        `/payments/${encodeURIComponent(transactionId)}/void`,
        { checkout_id: checkoutId, reason },
        `${checkoutId}:void`,
        voidResponse,
        options?.signal,
        {
          required: { checkout_id: sameText(checkoutId), transactionId: sameText(transactionId) },
        },
        'fresh',
      );
    },

    /** Undoes `charge`. */
    async refund({ checkoutId, transactionId, amountCents, currency, reason }, options) {
      await http.post(
        `/payments/${encodeURIComponent(transactionId)}/refund`,
        { amount: toWireAmount(amountCents, currency), currency, checkout_id: checkoutId, reason },
        `${checkoutId}:refund`,
        refundResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency, { transactionId: sameText(transactionId) }),
        'fresh',
      );
    },

    async findCharges(checkoutId, options) {
      const { payments } = await http.get(
        `/payments?checkout_id=${encodeURIComponent(checkoutId)}`,
        chargesResponse,
        options?.signal,
        checkoutEcho(checkoutId, 'payments'),
      );
      return payments.map(({ transactionId, status }) => ({ transactionId, status }));
    },
  };
}
