import * as z from 'zod/mini';
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
const refundResponse = z.looseObject({ status: z.literal('refunded') });
const chargesResponse = z.looseObject({
  payments: z.array(
    z.looseObject({
      transactionId: z.string().check(z.minLength(1), z.maxLength(128)),
      status: z.enum(['success', 'failed', 'refunded']),
    }),
  ),
});

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

/** The payment service: charge a card, refund a charge. */
export function createPaymentClient(http: ServiceHttpClient): PaymentService {
  return {
    async charge({ checkoutId, amountCents, currency, card, customerEmail }, options) {
      const { transactionId } = await http.post(
        '/payments/process',
        {
          amount: toWireAmount(amountCents, currency),
          currency,
          payment_method: {
            type: card.type,
            card_number: card.cardNumber,
            card_expiry: card.cardExpiry,
            card_cvv: card.cardCvv,
          },
          customer_email: customerEmail,
          checkout_id: checkoutId,
        },
        `${checkoutId}:charge`,
        chargeResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency),
      );
      return { transactionId };
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
