import type { Checkout, PaymentCard, SagaStep } from './checkout.ts';
import { finished, type SagaOutcome } from './checkout-outcome.ts';
import type { WorkBudget } from './lease.ts';
import type { CheckoutChanges } from './ports.ts';
import { stepFrom } from './saga-steps.ts';
import {
  abandoned,
  advance,
  compensate,
  failureOf,
  leaveIncomplete,
  type SagaDeps,
} from './saga-transitions.ts';
import { ServiceCallError, ServiceOutcomeUnknownError } from './service-errors.ts';

/**
 * The forward policy: drives a recorded checkout from its recovery point (its status) to
 * `completed`, one durable write per step. A refusal, or a service that could not be reached
 * at all, undoes what was done; an unknown outcome (or the end of the work budget) leaves the
 * checkout where it is, under its lease, for a retry with the same key (which repeats the step
 * with the same body and key) or for recovery (which asks the service). A checkout found
 * `compensating` finishes its undo.
 */
export async function runSaga(
  deps: SagaDeps,
  start: Checkout,
  card: PaymentCard,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  let checkout = start;
  // A worker that took the checkout over cannot know what an earlier worker's tries of the open
  // step did (the earlier try may have acted, and this one met a gateway or an outage). A "no"
  // it gets now is checked against the service's own record: a step that happened goes on; an
  // empty record proves nothing yet (the earlier request may still land), so nothing is undone
  // and recovery settles it once its settle delay has passed.
  let unsure = start.attempt > 1;
  // How long each step's call took (retries included): logged with the completion, so each
  // service's latency can be read from the logs (tracing records only the invocation).
  const stepMs: Partial<Record<SagaStep, number>> = {};
  try {
    if (checkout.status === 'compensating') {
      return await compensate(deps, checkout, checkout.failure ?? abandoned('payment'), budget);
    }
    for (let step = stepFrom(checkout.status); step; step = stepFrom(checkout.status)) {
      let reached: CheckoutChanges | null;
      const began = performance.now();
      try {
        reached = await step.run(deps, checkout, card, budget.signal);
      } catch (error) {
        if (!unsure || !(error instanceof ServiceCallError)) throw error;
        if (error instanceof ServiceOutcomeUnknownError) throw error;
        reached = await step.settle(deps, checkout, budget.signal);
        if (!reached) return leaveIncomplete(deps, checkout, error, budget);
      }
      stepMs[step.step] = Math.round(performance.now() - began);
      unsure = false;
      checkout = await advance(deps, checkout, reached, stepMs);
    }
    return finished(checkout);
  } catch (error) {
    if (!(error instanceof ServiceCallError)) throw error;
    if (error instanceof ServiceOutcomeUnknownError || unsure)
      return leaveIncomplete(deps, checkout, error, budget);
    return compensate(deps, checkout, failureOf(error), budget);
  }
}
