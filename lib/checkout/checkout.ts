import type { MinorUnits } from '#lib/money.ts';
import type { CheckoutRequest } from './request-schema.ts';

export type CheckoutStatus =
  | 'pending'
  | 'payment_processed'
  | 'inventory_deducted'
  | 'completed'
  | 'compensating'
  | 'failed'
  | 'requires_attention';

/** States a checkout never leaves. */
export type FinalStatus = 'completed' | 'failed' | 'requires_attention';

/** Whether a checkout at `status` is finished (nothing more will happen to it by itself). */
export function isFinal(status: CheckoutStatus): status is FinalStatus {
  return status === 'completed' || status === 'failed' || status === 'requires_attention';
}

export type SagaStep = 'payment' | 'inventory' | 'order';

export interface LineItem {
  productId: string;
  quantity: number;
  priceCents: MinorUnits;
}

/** Passed through to the order service as received (snake_case). */
export type ShippingAddress = CheckoutRequest['shipping_address'];

/** Card details: sent to the payment service and nowhere else, never stored or logged. */
export interface PaymentCard {
  type: CheckoutRequest['payment_method']['type'];
  cardNumber: string;
  cardExpiry: string;
  cardCvv: string;
}

/** What the customer asked for, validated, with the total computed in minor units. */
export interface CheckoutOrder {
  customerEmail: string;
  currency: string;
  items: LineItem[];
  shippingAddress: ShippingAddress;
  totalCents: MinorUnits;
  card: { brand: string; last4: string };
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
export interface Checkout extends CheckoutOrder {
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
  compensationFrom: 'payment_processed' | 'inventory_deducted' | null;
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
): Checkout {
  return {
    ...order,
    id,
    caller,
    status: 'pending',
    paymentId: null,
    orderId: null,
    failure: null,
    undoFailures: [],
    compensationFrom: null,
    attempt: 1,
    settleTries: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}
