import { formatMinorUnits } from '#lib/money.ts';
import { type Checkout, failureCode } from './checkout.ts';

/** What the API answers for a checkout: status code, JSON body, and for 409/503 a retry hint. */
export interface CheckoutResult {
  statusCode: number;
  body: Record<string, unknown>;
  retryAfterSeconds?: number;
  /** A stored answer replayed for a repeated `Idempotency-Key`: sent as is, byte for byte. */
  replayedBody?: string;
}

/**
 * The answer for a checkout that reached a final state. This is what is stored and replayed for
 * a repeated `Idempotency-Key`, so it depends only on the stored checkout.
 */
export function finalResult(checkout: Checkout): CheckoutResult {
  const { failure } = checkout;
  if (checkout.status === 'completed' || !failure) {
    return {
      statusCode: 200,
      body: {
        checkout_id: checkout.id,
        status: checkout.status,
        total_amount: formatMinorUnits(checkout.totalCents, checkout.currency),
        currency: checkout.currency,
        payment_id: checkout.paymentId,
        order_id: checkout.orderId,
        error: null,
      },
    };
  }
  return {
    statusCode: failure.kind === 'refused' ? 422 : 502,
    body: {
      checkout_id: checkout.id,
      status: checkout.status,
      error: failureCode(failure),
      reason: failure.reason,
      message: checkout.undoFailures.length
        ? `${failure.message}; undoing it failed (${checkout.undoFailures.join(', ')}), the checkout needs attention`
        : failure.message,
    },
  };
}

/** The answer while a step's outcome is unknown: the checkout stays at its recovery point. */
export function incompleteResult(checkout: Checkout, retryAfterSeconds: number): CheckoutResult {
  return {
    statusCode: 503,
    retryAfterSeconds,
    body: {
      checkout_id: checkout.id,
      status: checkout.status,
      error: 'checkout_incomplete',
      message:
        'The checkout could not be confirmed yet; it will be completed or undone automatically. Retry with the same Idempotency-Key or check its status.',
    },
  };
}

/** `GET /checkout/{id}`: the stored checkout without any card data. */
export function checkoutView(checkout: Checkout): Record<string, unknown> {
  return {
    checkout_id: checkout.id,
    status: checkout.status,
    total_amount: formatMinorUnits(checkout.totalCents, checkout.currency),
    currency: checkout.currency,
    payment_id: checkout.paymentId,
    order_id: checkout.orderId,
    error: checkout.failure ? failureCode(checkout.failure) : null,
    reason: checkout.failure?.reason ?? null,
    created_at: checkout.createdAt,
    updated_at: checkout.updatedAt,
  };
}

/** A repeated `Idempotency-Key` of a finished checkout: its stored answer, unchanged. */
export function replayResult(stored: { statusCode: number; body: string }): CheckoutResult {
  return { statusCode: stored.statusCode, body: {}, replayedBody: stored.body };
}

/** A repeated `Idempotency-Key` with a different body. */
export function keyMismatchResult(): CheckoutResult {
  return {
    statusCode: 422,
    body: {
      error: 'idempotency_key_mismatch',
      message: 'This Idempotency-Key was already used with a different request body',
    },
  };
}

/** A repeated `Idempotency-Key` of a checkout another request is still working on. */
export function inProgressResult(checkoutId: string, retryAfterSeconds: number): CheckoutResult {
  return {
    statusCode: 409,
    retryAfterSeconds: Math.max(1, retryAfterSeconds),
    body: {
      error: 'checkout_in_progress',
      checkout_id: checkoutId,
      message: 'A checkout with this Idempotency-Key is still running; retry later',
    },
  };
}
