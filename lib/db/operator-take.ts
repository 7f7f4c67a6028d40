import type { Checkout, CheckoutStatus } from '#lib/checkout/checkout.ts';
import type { OperatorTake, Transition } from '#lib/checkout/ports.ts';

/** States a worker still moves on from: a reopened checkout goes back to one of these. */
const RECOVERY_POINTS: readonly CheckoutStatus[] = [
  'pending',
  'payment_processed',
  'payment_authorized',
  'inventory_deducted',
  'order_created',
  'awaiting_payment',
  'compensating',
];

/** A checkout as an operator's take finds it, read from its row. */
export interface TakeCandidate {
  status: CheckoutStatus;
  /** Whether a lease on it is still running. */
  held: boolean;
  /** Whether its lease ended less than the settle delay ago (a request may still land). */
  settling: boolean;
  compensationFrom: Checkout['compensationFrom'];
  history: Transition[];
}

/** What an operator's take writes: the status to hold the checkout at, and why. */
export interface TakePlan {
  status: CheckoutStatus;
  cause: string;
  /**
   * Whether undo failures and settle tries start afresh and the stored answer is dropped (a
   * `requires_attention` one reopened): it is not final any more, so a repeat of its key must
   * be told where it stands, not how it ended before.
   */
  reopens: boolean;
}

/**
 * The rules of `CheckoutRepository.takeForOperator`, written once for the SQL repository and
 * the fake: a finished checkout is refused, as is a held one and an unfinished one still within
 * its settle delay (recovery would not ask the services yet either); a `requires_attention` one is
 * reopened, if asked, at the state it was given up at. That is the `from` of its last entry into
 * `requires_attention` (skipping an operator's take, which moves nothing), else `compensating`
 * when it has something to undo (a row given up before there was a history).
 */
export function planOperatorTake(
  candidate: TakeCandidate,
  reopen: boolean,
): TakePlan | Extract<OperatorTake, { refused: unknown }> {
  const { status } = candidate;
  // `expired` is final: only a late payment moves it, which the sweep and the webhook look for.
  if (status === 'completed' || status === 'failed' || status === 'expired') {
    return { refused: 'finished' };
  }
  if (candidate.held) return { refused: 'held' };
  if (candidate.settling && status !== 'requires_attention') return { refused: 'settling' };
  if (!reopen || status !== 'requires_attention') {
    return { status, cause: 'taken by operator', reopens: false };
  }
  const givenUp = candidate.history.findLast(
    (entry) => entry.to === 'requires_attention' && entry.from !== 'requires_attention',
  );
  const before = givenUp?.from;
  if (before && RECOVERY_POINTS.includes(before)) {
    return { status: before, cause: 'reopened by operator', reopens: true };
  }
  if (candidate.compensationFrom) {
    return { status: 'compensating', cause: 'reopened by operator', reopens: true };
  }
  return { refused: 'no_recovery_point' };
}
