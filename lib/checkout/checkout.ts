import type { MinorUnits } from '#lib/money.ts';
import type { InstallmentPlan } from './installments.ts';
import type { CheckoutRequest } from './request-schema.ts';

export type { InstallmentPlan };

export type CheckoutStatus =
  | 'pending'
  | 'payment_processed'
  | 'payment_authorized'
  | 'inventory_deducted'
  | 'order_created'
  | 'awaiting_payment'
  | 'completed'
  | 'compensating'
  | 'failed'
  | 'expired'
  | 'requires_attention';

/**
 * States that answer the client for good. `expired` (a Pix or boleto never paid) is final to the
 * client; the only move out of it is a late payment (design §4a).
 */
export type FinalStatus = 'completed' | 'failed' | 'expired' | 'requires_attention';

const FINAL_STATUSES: readonly CheckoutStatus[] = [
  'completed',
  'failed',
  'expired',
  'requires_attention',
] satisfies FinalStatus[];

/** Whether a checkout at `status` is finished (nothing more will happen to it by itself). */
export function isFinal(status: CheckoutStatus): status is FinalStatus {
  return FINAL_STATUSES.includes(status);
}

/**
 * Whether a checkout at `status` waits for the customer (a Pix or boleto issued, not paid yet):
 * neither final nor unfinished. It holds no lease, recovery's claim leaves it out, and only the
 * payment's webhook, a same-key retry, or the expiry check move it, each after a lookup.
 */
export function isWaiting(status: CheckoutStatus): boolean {
  return status === 'awaiting_payment';
}

/** The service a saga step calls: what a failure names (`payment_failed`, ...). */
export type SagaStep = 'payment' | 'inventory' | 'order';

/**
 * How the card is paid (`PAYMENT_CAPTURE`, design §4a), fixed on the row when the checkout is
 * recorded: every policy follows the row's flow, never the current setting.
 * - `after_order`: authorize, deduct, create the order, then capture. An undo before the order
 *   voids the authorization (free for the customer), never refunds.
 * - `immediate`: the seed's single charge, for a payment service without separate capture;
 *   undone by a refund.
 */
export type CardFlow = 'immediate' | 'after_order';

/** Every flow a checkout can pay in: a card's (`PAYMENT_CAPTURE`), or a Pix's or boleto's. */
export type PaymentFlow = CardFlow | AsyncMethod;

/**
 * The asynchronous payments (design §4a): issued after the stock is held, paid later by the
 * customer, confirmed by a webhook or a lookup. Their method is their flow.
 */
export type AsyncMethod = 'pix' | 'boleto';

/** Where the amount charged came from (`PRICING`), kept on the row for whoever reads it later. */
export type PricingSource = 'catalog' | 'caller';

/**
 * How the customer pays: a raw card (the seed's), a token of the payment service's SDK, or an
 * asynchronous payment (Pix, boleto).
 */
export type PaymentMethodType = 'credit_card' | 'debit_card' | 'card_token' | AsyncMethod;

/** What may be kept of a card: its brand and last four digits, never the number. */
export interface CardSummary {
  brand: string;
  last4: string;
}

export interface LineItem {
  productId: string;
  quantity: number;
  priceCents: MinorUnits;
}

/** Passed through to the order service as received (snake_case). */
export type ShippingAddress = CheckoutRequest['shipping_address'];

/** A raw card: sent to the payment service and nowhere else, never stored or logged. */
export interface RawCard {
  type: 'credit_card' | 'debit_card';
  cardNumber: string;
  cardExpiry: string;
  cardCvv: string;
}

/** A token the payment service's client-side SDK made: the card never passes through us. */
export interface CardToken {
  type: 'card_token';
  token: string;
}

/**
 * A Pix or a boleto as the request asks for it. A boleto's registration needs the payer's name,
 * which is sent to the payment service and not kept.
 */
export type AsyncInstrument = { type: 'pix' } | { type: 'boleto'; payerName: string };

/**
 * What the request carries for the payment service alone, never stored or logged: the card or
 * its token, and the payer's CPF/CNPJ. A step that needs it (authorize, charge) runs only for
 * the request that carries it; recovery never has it.
 */
export interface PaymentSecrets {
  instrument: RawCard | CardToken | AsyncInstrument;
  /** The payer's CPF or CNPJ, normalised (digits, or 14 upper-case characters). */
  customerDocument?: string;
}

/** What the customer asked for, validated, with the total computed in minor units. */
export interface CheckoutOrder {
  customerEmail: string;
  currency: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  totalCents: MinorUnits;
  /** The card's brand and last 4: known from the number, or (a token) from the authorization. */
  card: CardSummary | null;
  method: PaymentMethodType;
  installments: InstallmentPlan;
  /** A Pix's or boleto's terms, fixed when recorded; `null` for a card. */
  asyncPayment: AsyncPayment | null;
}

/**
 * The terms of a Pix or boleto, fixed when the checkout is recorded and sent identically on
 * every try, and what the payment service issued for the customer to pay with.
 */
export interface AsyncPayment {
  /**
   * When the charge is cancelled if still unpaid (ISO 8601): a Pix's `expires_at`; a boleto's due
   * date plus its grace business days, at the end of that day in São Paulo.
   */
  expiresAt: string;
  /** A boleto's due date (`YYYY-MM-DD`, a São Paulo business day). */
  dueDate?: string;
  /** What the customer pays with, once issued; shown while the checkout waits. */
  instructions: PaymentInstructions | null;
}

/**
 * The settings of Pix and boleto: a Pix's default lifetime, a boleto's default days to its due
 * date and the business days it may still be paid after it, and how long after expiry a late
 * payment is still taken (then the stock is deducted again) rather than refunded.
 */
export interface AsyncPaymentSettings {
  pixExpiryMinutes: number;
  boletoDueDays: number;
  boletoGraceDays: number;
  lateWindowDays: number;
}

/** The defaults of `AsyncPaymentSettings` (design §2, §4a). */
export const ASYNC_PAYMENT_DEFAULTS: AsyncPaymentSettings = {
  pixExpiryMinutes: 30,
  boletoDueDays: 3,
  boletoGraceDays: 3,
  lateWindowDays: 7,
};

/** The payment instructions the service issued, passed through as it gave them. */
export type PaymentInstructions =
  | { method: 'pix'; qrCode: string; qrCodeBase64?: string; expiresAt: string }
  | { method: 'boleto'; barcode: string; digitableLine: string; url: string; dueDate: string };

/** How a checkout is paid and priced, fixed when it is recorded. */
export interface PaymentTerms {
  flow: PaymentFlow;
  /** `null` on a row recorded before the source was kept. */
  pricing: PricingSource | null;
}

/**
 * Why a checkout ended without completing: which step, whether the service refused (final)
 * or could not be reached, and the service's own reason.
 */
export interface CheckoutFailure {
  step: SagaStep;
  kind: 'refused' | 'unavailable';
  reason: string;
  message: string;
}

/** The stable code of a failure, stored and shown: `payment_failed`, `order_unavailable`, ... */
export function failureCode(failure: CheckoutFailure): string {
  return `${failure.step}_${failure.kind === 'refused' ? 'failed' : 'unavailable'}`;
}

/** A checkout as recorded: the order plus where the saga stands (its recovery point). */
export interface Checkout extends CheckoutOrder, PaymentTerms {
  id: string;
  /**
   * Who recorded it, as the API vouches for the caller (the same identity that scopes
   * idempotency keys); only that caller may read it back. `null` when nobody is known (a row
   * from before callers were recorded): then only an operator sees it.
   */
  caller: string | null;
  status: CheckoutStatus;
  paymentId: string | null;
  orderId: string | null;
  failure: CheckoutFailure | null;
  /** The recovery point compensation started from: what has to be undone. */
  compensationFrom:
    | 'payment_processed'
    | 'payment_authorized'
    | 'inventory_deducted'
    | 'awaiting_payment'
    | null;
  /**
   * A Pix or boleto paid after it expired and its stock was released: its stock is deducted
   * again, and undone again, under keys of their own (`<id>:deduct_late`, design §3).
   */
  paidLate: boolean;
  /**
   * When it last became unfinished: created, or moved on from waiting or expired (a boleto paid
   * on day 4). Recovery's age cap counts from it.
   */
  unfinishedSince: string;
  /** Undo steps that kept failing; non-empty only in `requires_attention`. */
  undoFailures: string[];
  /**
   * How many times a worker has taken this checkout (1 for the request that created it). Every
   * write is fenced on it, so a worker whose lease was taken over cannot write any more.
   */
  attempt: number;
  /** Recovery's tries to settle the open step that got no answer (claims are not tries). */
  settleTries: number;
  createdAt: string;
  updatedAt: string;
}

/** A checkout as first recorded: `pending`, nothing done, the first worker's attempt. */
export function newCheckout(
  order: CheckoutOrder,
  id: string,
  now: Date,
  caller: string | null = null,
  terms: PaymentTerms = { flow: 'immediate', pricing: 'catalog' },
): Checkout {
  return {
    ...order,
    ...terms,
    id,
    caller,
    status: 'pending',
    paymentId: null,
    orderId: null,
    failure: null,
    undoFailures: [],
    compensationFrom: null,
    paidLate: false,
    unfinishedSince: now.toISOString(),
    attempt: 1,
    settleTries: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
