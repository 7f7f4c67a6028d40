import type { Checkout, CheckoutFailure } from './checkout.ts';
import type { StoredResponse } from './ports.ts';
import type { PriceChange } from './pricing.ts';

/**
 * What a checkout use case answers, in domain terms. The HTTP layer alone turns it into a
 * status, headers and a body (`lib/http/checkout-presenter.ts`).
 */
export type CheckoutOutcome =
  | SagaOutcome
  /** Another worker holds the checkout of this idempotency key. */
  | { kind: 'in_progress'; checkoutId: string; retryInMs: number }
  /** The idempotency key was first used with a different request. */
  | { kind: 'key_mismatch' }
  /** The key's checkout is finished: the answer stored with its final state, unchanged. */
  | { kind: 'replay'; stored: StoredResponse }
  /** Prices the customer saw are not the catalog's: nothing written or called. */
  | { kind: 'price_changed'; currency: string; items: PriceChange[] }
  /** The catalog does not know a product of the cart: nothing written or called. */
  | { kind: 'unknown_product'; productId: string }
  /** The catalog could not price the cart: nothing written or called, safe to retry. */
  | { kind: 'pricing_unavailable'; retryInMs: number }
  /** A raw card number where only tokens are taken (`ACCEPT_RAW_CARDS=false`): nothing done. */
  | { kind: 'raw_card_not_accepted' };

/** Where a run of the saga (forward, undo or recovery) leaves a checkout. */
export type SagaOutcome =
  | FinishedOutcome
  /**
   * A Pix or boleto issued and not paid yet: the customer pays with `checkout.asyncPayment`'s
   * instructions (202 `awaiting_payment`); the webhook, a lookup or the expiry check ends it.
   */
  | { kind: 'awaiting'; checkout: Checkout }
  /**
   * A step's outcome is not known yet: nothing was undone; a retry or recovery settles it.
   * `keyed`: whether the request carried an `Idempotency-Key`, so that a retry can resume this
   * checkout (set by `processCheckout`; absent where no caller waits for the answer).
   */
  | { kind: 'incomplete'; checkout: Checkout; retryInMs: number; keyed?: boolean };

/** A checkout in a final state: completed, or ended because a service refused or was unavailable. */
export type FinishedOutcome =
  | { kind: 'completed'; checkout: Checkout }
  /** A Pix or boleto never paid: cancelled, its stock released (422 `payment_expired`). */
  | { kind: 'expired'; checkout: Checkout }
  | { kind: 'refused' | 'unavailable'; checkout: Checkout; failure: CheckoutFailure };

/** The outcome of a checkout that reached a final state. */
export function finished(checkout: Checkout): FinishedOutcome {
  if (checkout.status === 'completed') return { kind: 'completed', checkout };
  if (checkout.status === 'expired') return { kind: 'expired', checkout };
  // None is written without one, but a row that did not complete must never read as success.
  const failure = checkout.failure ?? {
    step: 'payment',
    kind: 'unavailable',
    reason: 'unknown',
    message: 'The checkout did not complete',
  };
  return { kind: failure.kind, checkout, failure };
}
