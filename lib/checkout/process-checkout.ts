import { randomUUID } from 'node:crypto';
import { type CheckoutOrder, newCheckout, type PaymentCard } from './checkout.ts';
import {
  type CheckoutResult,
  incompleteResult,
  inProgressResult,
  keyMismatchResult,
  replayResult,
} from './checkout-result.ts';
import type { WorkBudget } from './lease.ts';
import { type IdempotencyClaim, type KeyHolder, LeaseLostError } from './ports.ts';
import { runSaga, type SagaDeps } from './saga.ts';

/** The hint to a client whose checkout is being undone: recovery's usual pace. */
const RETRY_UNDO_SECONDS = 60;

export interface CheckoutCommand {
  order: CheckoutOrder;
  card: PaymentCard;
  /** Present when the client sent an `Idempotency-Key`. */
  idempotency?: IdempotencyClaim;
}

/**
 * `POST /checkout/process`: records the checkout (claiming its idempotency key in the same
 * insert) and runs the saga. A repeated key never starts a second checkout: it gets the
 * stored answer, a mismatch, an "in progress", or (when the first worker's lease has expired)
 * takes the checkout over and resumes it from its recovery point with the same downstream keys.
 */
export async function processCheckout(
  deps: SagaDeps & { newId?: () => string },
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<CheckoutResult> {
  const checkout = newCheckout(command.order, (deps.newId ?? randomUUID)(), deps.clock.now());
  const claim = await deps.repository.create(checkout, {
    leaseMs: budget.leaseMs,
    idempotency: command.idempotency,
  });
  try {
    if (claim.created) {
      deps.logger.info('checkout recorded', { checkout_id: checkout.id });
      return await runSaga(deps, checkout, command.card, budget);
    }
    return await answerRepeat(deps, claim.holder, command, budget);
  } catch (error) {
    // Our lease ran out and another worker took the checkout over: it now answers for it.
    if (error instanceof LeaseLostError) return inProgressResult(error.checkoutId, 1);
    throw error;
  }
}

async function answerRepeat(
  deps: SagaDeps,
  holder: KeyHolder,
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<CheckoutResult> {
  const { checkout } = holder;
  if (holder.requestHash !== command.idempotency?.requestHash) return keyMismatchResult();
  if (holder.response) return replayResult(holder.response);
  if (holder.leaseRemainingMs > 0) {
    return inProgressResult(checkout.id, Math.ceil(holder.leaseRemainingMs / 1000));
  }
  // Undoing needs no card: that is recovery's work, which counts its tries and knows when to
  // stop. A client retrying every Retry-After must not keep taking it over (and away from it).
  if (checkout.status === 'compensating') return incompleteResult(checkout, RETRY_UNDO_SECONDS);
  const taken = await deps.repository.takeOver(checkout.id, budget.leaseMs);
  if (!taken) return inProgressResult(checkout.id, 1);
  deps.logger.info('resuming checkout from its recovery point', {
    checkout_id: taken.id,
    status: taken.status,
    attempt: taken.attempt,
  });
  return runSaga(deps, taken, command.card, budget);
}
