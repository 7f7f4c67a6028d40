import type { CheckoutFailure } from '#lib/checkout/checkout.ts';
import { type FinishedOutcome, finished } from '#lib/checkout/checkout-outcome.ts';
import type { WorkBudget } from '#lib/checkout/lease.ts';
import { advance, type SagaDeps } from '#lib/checkout/saga.ts';
import { stepFrom } from '#lib/checkout/saga-steps.ts';
import type { OperatorRefusal } from './retry-checkout.ts';

export interface Resolution {
  as: 'failed' | 'completed';
  /** What the person did; kept in the history. Required: nothing is resolved silently. */
  note: string;
}

/**
 * Operator use case `resolve`: a person settled the checkout by hand (refunded in the payment
 * console, released the stock, shipped the order) and records the end state. Allowed for a
 * checkout in `requires_attention` and for an unfinished one whose lease has expired. The
 * transition, the note and the operator are kept in its history; the answer a repeated
 * `Idempotency-Key` gets from now on is the resolved one. A checkout resolved `completed`
 * keeps the failure that was recorded, for the record.
 */
export async function resolveCheckout(
  deps: SagaDeps,
  id: string,
  resolution: Resolution,
  budget: WorkBudget,
): Promise<FinishedOutcome | OperatorRefusal> {
  const note = resolution.note.trim();
  if (note.length === 0) throw new Error('a resolution needs a note saying what was done');
  const take = await deps.repository.takeForOperator(id, {
    leaseMs: budget.leaseMs,
    worker: budget.worker,
    reopen: false,
  });
  if ('refused' in take) return take;
  const { taken } = take;
  const failure: CheckoutFailure | undefined =
    resolution.as === 'completed'
      ? undefined
      : (taken.failure ?? {
          step: stepFrom(taken.status)?.step ?? 'payment',
          kind: 'unavailable',
          reason: 'resolved_by_hand',
          message: note,
        });
  const resolved = await advance(deps, taken, {
    status: resolution.as,
    failure,
    undoFailures: [],
    cause: `resolved by hand as ${resolution.as}: ${note}`,
  });
  deps.logger.warn('checkout resolved by hand', {
    checkout_id: id,
    from: taken.status,
    to: resolution.as,
    by: budget.worker,
  });
  return finished(resolved);
}
