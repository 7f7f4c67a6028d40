import * as z from 'zod/mini';
import type {
  CardToken,
  PaymentInstructions,
  PaymentSecrets,
  RawCard,
} from '#lib/checkout/checkout.ts';
import type { CallOptions, ChargeRecord, PaymentService } from '#lib/checkout/ports.ts';
import { type MinorUnits, toMinorUnits, toWireAmount } from '#lib/money.ts';
import {
  checkoutEcho,
  type Echo,
  type EchoCheck,
  type ServiceHttpClient,
  sameAmount,
  sameText,
} from './service-http-client.ts';

/** A non-empty string of at most `max` characters: what a sane field of an answer is. */
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

const transactionId = text(128);
const chargeResponse = z.looseObject({ status: z.literal('success'), transactionId });
const authorizeResponse = z.looseObject({
  status: z.literal('authorized'),
  transactionId,
  // A token's card, as the payment service knows it: all we may keep of it.
  card: z.optional(
    z.looseObject({
      brand: text(32),
      last4: z.string().check(z.regex(/^\d{4}$/)),
    }),
  ),
});
const captureResponse = z.looseObject({ status: z.literal('captured') });
const refundResponse = z.looseObject({ status: z.literal('refunded') });
/** The answers of the undos that took no money, by their step. */
const ENDED: Record<'void' | 'cancel', z.ZodMiniType> = {
  void: z.looseObject({ status: z.literal('voided') }),
  cancel: z.looseObject({ status: z.literal('cancelled') }),
};

/**
 * A Pix or boleto as issued. The codes pass through as the service gave them: the client does
 * not judge them (the bank does), it only keeps out what no customer could pay with (an empty
 * or absurdly long code, a URL that is not http(s)).
 */
const pixResponse = z.looseObject({
  status: z.literal('pending'),
  transactionId,
  qr_code: text(1024),
  qr_code_base64: z.optional(text(64 * 1024)),
  expires_at: z.iso.datetime({ offset: true }),
});
const boletoResponse = z.looseObject({
  status: z.literal('pending'),
  transactionId,
  barcode: z.string().check(z.regex(/^\d{1,64}$/)),
  digitable_line: text(128),
  url: z.url({ protocol: /^https?$/ }).check(z.maxLength(2048)),
  due_date: z.iso.date(),
});

/**
 * A lookup's entry as the port's record. Its amount is read in minor units of its currency
 * when it gives both; one that is no amount of that currency (19.999 BRL, a negative one) is as
 * garbled as a missing field, so the whole answer is, and the lookup's outcome unknown.
 */
const lookupEntry = z.pipe(
  z.looseObject({
    transactionId,
    status: z.enum([
      'success',
      'authorized',
      'captured',
      'voided',
      'refunded',
      'failed',
      'pending',
      'paid',
      'cancelled',
      'expired',
    ]),
    amount: z.optional(z.number()),
    currency: z.optional(z.string().check(z.regex(/^[A-Z]{3}$/))),
    paid_at: z.optional(z.iso.datetime({ offset: true })),
  }),
  z.transform((entry, context): ChargeRecord => {
    const { transactionId, status, amount, currency, paid_at } = entry;
    const record: ChargeRecord = {
      transactionId,
      status,
      ...(currency !== undefined && { currency }),
      ...(paid_at !== undefined && { paidAt: paid_at }),
    };
    if (amount === undefined || currency === undefined) return record;
    const amountCents = toMinorUnits(amount, currency);
    if (amountCents !== undefined && amountCents >= 0) return { ...record, amountCents };
    context.issues.push({ code: 'custom', message: `not an amount in ${currency}`, input: amount });
    return z.NEVER;
  }),
);
const chargesResponse = z.looseObject({ payments: z.array(lookupEntry) });

/** The card or token as the payment service takes it: charge and authorize are card steps. */
function paymentMethod(instrument: RawCard | CardToken) {
  if (instrument.type === 'card_token') return { type: instrument.type, token: instrument.token };
  return {
    type: instrument.type,
    card_number: instrument.cardNumber,
    card_expiry: instrument.cardExpiry,
    card_cvv: instrument.cardCvv,
  };
}

/**
 * The card of a card step. A Pix or boleto is issued by its own call: one reaching authorize
 * is a bug, stopped before anything is sent (the service would take it as a card payment).
 */
function cardOf(instrument: PaymentSecrets['instrument']): RawCard | CardToken {
  if (instrument.type === 'pix' || instrument.type === 'boleto')
    throw new TypeError(`a ${instrument.type} payment cannot be authorized as a card`);
  return instrument;
}

/**
 * The step's `Idempotency-Key`: `<id>:<step>`, or `<id>:<step>_late` for a step repeated for a
 * new reason (design §3): a key already used would only replay the first answer.
 */
const keyOf = (checkoutId: string, step: string, options?: CallOptions) =>
  `${checkoutId}:${step}${options?.round ? `_${options.round}` : ''}`;

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

/** Pix and boleto are Brazilian: always in reais. */
const BRL = 'BRL';

/**
 * The payment service: authorize, capture and void (`after_order`); charge and refund (the
 * seed's `immediate`); Pix and boleto issued, and cancelled unpaid; and the lookup of what it
 * holds for a checkout.
 */
export function createPaymentClient(http: ServiceHttpClient): PaymentService {
  /**
   * Voids an authorization or cancels an unpaid Pix or boleto: an undo of a transaction that
   * took no money, so it sends no amount, and its answer repeats only the checkout and the
   * transaction. That says little: sent on a connection of its own.
   */
  const end = async (
    step: keyof typeof ENDED,
    { checkoutId, transactionId, reason }: Parameters<PaymentService['void']>[0],
    options?: CallOptions,
  ) => {
    await http.post(
      `/payments/${encodeURIComponent(transactionId)}/${step}`,
      { checkout_id: checkoutId, reason },
      keyOf(checkoutId, step, options),
      ENDED[step],
      options?.signal,
      { required: { checkout_id: sameText(checkoutId), transactionId: sameText(transactionId) } },
      'fresh',
    );
  };

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
        keyOf(checkoutId, 'charge', options),
        chargeResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency),
      );
      return { transactionId };
    },

    async authorize(input, options) {
      const { checkoutId, amountCents, currency, installments, customerEmail, payment } = input;
      const method = paymentMethod(cardOf(payment.instrument));
      const { transactionId, card } = await http.post(
        '/payments/authorize',
        {
          checkout_id: checkoutId,
          amount: toWireAmount(amountCents, currency),
          currency,
          installments: installments.count,
          customer_email: customerEmail,
          ...(payment.customerDocument && { customer_document: payment.customerDocument }),
          payment_method: method,
        },
        keyOf(checkoutId, 'authorize', options),
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
        keyOf(checkoutId, 'capture', options),
        captureResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency, { transactionId: sameText(transactionId) }),
      );
    },

    /** Undoes `authorize`. */
    void: (input, options) => end('void', input, options),

    /** Undoes `charge`, and a paid Pix or boleto (`round: 'late'`: one paid after it expired). */
    async refund({ checkoutId, transactionId, amountCents, currency, reason }, options) {
      await http.post(
        `/payments/${encodeURIComponent(transactionId)}/refund`,
        { amount: toWireAmount(amountCents, currency), currency, checkout_id: checkoutId, reason },
        keyOf(checkoutId, 'refund', options),
        refundResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, currency, { transactionId: sameText(transactionId) }),
        'fresh',
      );
    },

    async createPix(
      { checkoutId, amountCents, customerEmail, customerDocument, expiresAt },
      options,
    ) {
      const issued = await http.post(
        '/payments/pix',
        {
          checkout_id: checkoutId,
          amount: toWireAmount(amountCents, BRL),
          currency: BRL,
          customer_email: customerEmail,
          customer_document: customerDocument,
          expires_at: expiresAt,
        },
        keyOf(checkoutId, 'pix', options),
        pixResponse,
        options?.signal,
        paymentEcho(checkoutId, amountCents, BRL),
      );
      const instructions: PaymentInstructions = {
        method: 'pix',
        qrCode: issued.qr_code,
        ...(issued.qr_code_base64 !== undefined && { qrCodeBase64: issued.qr_code_base64 }),
        expiresAt: issued.expires_at,
      };
      return { transactionId: issued.transactionId, instructions };
    },

    async createBoleto(input, options) {
      const { checkoutId, amountCents, customerEmail, customerName, customerDocument } = input;
      const issued = await http.post(
        '/payments/boleto',
        {
          checkout_id: checkoutId,
          amount: toWireAmount(amountCents, BRL),
          customer_email: customerEmail,
          customer_name: customerName,
          customer_document: customerDocument,
          // A registered boleto names the payer's address, its bairro included.
          customer_address: input.customerAddress,
          due_date: input.dueDate,
        },
        keyOf(checkoutId, 'boleto', options),
        boletoResponse,
        options?.signal,
        // No currency is sent (a boleto is in reais), so none need come back.
        { required: { checkout_id: sameText(checkoutId), amount: sameAmount(amountCents, BRL) } },
      );
      const instructions: PaymentInstructions = {
        method: 'boleto',
        barcode: issued.barcode,
        digitableLine: issued.digitable_line,
        url: issued.url,
        dueDate: issued.due_date,
      };
      return { transactionId: issued.transactionId, instructions };
    },

    /** Undoes an unpaid Pix or boleto (`createPix`, `createBoleto`). */
    cancel: (input, options) => end('cancel', input, options),

    async findCharges(checkoutId, options) {
      const { payments } = await http.get(
        `/payments?checkout_id=${encodeURIComponent(checkoutId)}`,
        chargesResponse,
        options?.signal,
        checkoutEcho(checkoutId, 'payments'),
      );
      return payments;
    },
  };
}
