import { DatabaseUnavailableError } from '#lib/errors.ts';
import type { Checkout, PaymentSecrets, SagaStep } from './checkout.ts';
import { finished, type SagaOutcome } from './checkout-outcome.ts';
import type { WorkBudget } from './lease.ts';
import type { CheckoutChanges } from './ports.ts';
import { hasCommitted, reachesPastOrder, type SagaStepDefinition, stepFrom } from './saga-steps.ts';
import {
  abandoned,
  advance,
  compensate,
  endAfter,
  firstUndoneStep,
  leaveIncomplete,
  orderOnUndoneStep,
  RecoveryPointUnwritten,
  recordThenUndo,
  type SagaDeps,
  undoneOutside,
  waitForCustomer,
} from './saga-transitions.ts';
import {
  ServiceCallError,
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
} from './service-errors.ts';

/**
 * The forward policy: drives a recorded checkout from its recovery point (its status) to
 * `completed`, one durable write per step. A refusal, or a service that could not be reached
 * at all, undoes what was done; an unknown outcome (or the end of the work budget) leaves the
 * checkout where it is, under its lease, for a retry with the same key (which repeats the step
 * with the same body and key) or for recovery (which asks the service). A checkout found
 * `compensating` finishes its undo. It goes forward only from steps that stand now (design
 * §4a): a worker that took the checkout over first asks the services what they hold.
 */
export async function runSaga(
  deps: SagaDeps,
  start: Checkout,
  secrets: PaymentSecrets | undefined,
  budget: WorkBudget,
  options: TakeoverOptions = {},
): Promise<SagaOutcome> {
  try {
    return await forward(deps, start, secrets, budget, options);
  } catch (error) {
    // The database stopped answering once the checkout was recorded: its outcome is open like
    // a service's unknown one, at the recovery point this worker last wrote.
    if (!(error instanceof DatabaseUnavailableError)) throw error;
    const at = error instanceof RecoveryPointUnwritten ? error.checkout : start;
    return leaveIncomplete(deps, at, error, budget);
  }
}

/** What a worker that takes a checkout over knows of the worker before it. */
export interface TakeoverOptions {
  /**
   * The earlier worker's lease ended at least the settle delay ago: nothing it sent can still
   * land, so a refusal heard now, with nothing in the service's record, is the answer.
   */
  earlierRequestsSettled?: boolean;
  /**
   * The steps done were looked up just now and stand (a Pix found paid): nothing to ask again
   * before going on.
   */
  justSettled?: boolean;
}

async function forward(
  deps: SagaDeps,
  start: Checkout,
  secrets: PaymentSecrets | undefined,
  budget: WorkBudget,
  options: TakeoverOptions,
): Promise<SagaOutcome> {
  let checkout = start;
  // A worker that took the checkout over cannot know what an earlier worker's tries of the open
  // step did, nor what was done to the steps before it since (an operator's refund in the
  // payment console, a provider replaying its stored success for the key): it asks first.
  let unsure = start.attempt > 1 && !options.justSettled;
  // How long each step's call took (retries included): logged with the completion, so each
  // service's latency can be read from the logs (tracing records only the invocation).
  const stepMs: Partial<Record<SagaStepDefinition['name'], number>> = {};
  let step: SagaStepDefinition | undefined;
  try {
    if (checkout.status === 'compensating') {
      return await compensate(deps, checkout, checkout.failure ?? abandoned('payment'), budget);
    }
    for (step = stepFrom(checkout); step; step = stepFrom(checkout)) {
      // The customer acts next (pays the Pix or boleto): the answer says how.
      if (step.waits) return await waitForCustomer(deps, checkout);
      const began = performance.now();
      let reached: CheckoutChanges;
      if (unsure) {
        const resumed = await resume(deps, checkout, step, secrets, budget, options);
        if ('outcome' in resumed) return resumed.outcome;
        reached = resumed.reached;
        unsure = false;
      } else {
        reached = await step.run(deps, checkout, secrets, budget.signal);
      }
      stepMs[step.name] = Math.round(performance.now() - began);
      checkout = await advance(deps, checkout, reached, stepMs);
    }
    return finished(checkout);
  } catch (error) {
    if (!(error instanceof ServiceCallError) || !step) throw error;
    if (error instanceof ServiceOutcomeUnknownError)
      return leaveIncomplete(deps, checkout, error, budget);
    // After the order, or for an order a paid customer was promised, a service that was not
    // reached did nothing: the step waits for a retry (only a refusal undoes a paid Pix).
    const goesOn = step.phase === 'finishes' || step.repeatable;
    if (goesOn && !(error instanceof ServiceRefusedError))
      return leaveIncomplete(deps, checkout, error, budget);
    return endAfter(deps, checkout, step, error, budget);
  }
}

/**
 * The first step of a worker that took a checkout over. Every step done before must still
 * stand; then the open step is run again (same key and body) and what its service's record
 * says decides, whatever the run heard: a success the provider replays for a step undone since
 * undoes the rest, and a "no" is believed only when the record shows the refusal too (an
 * earlier try may have acted, and an empty record proves nothing yet: that request may still
 * land). Whatever cannot be told now (an unknown outcome, a lookup without an answer) leaves
 * the checkout where it is, nothing undone, for a retry or for recovery.
 */
async function resume(
  deps: SagaDeps,
  checkout: Checkout,
  step: SagaStepDefinition,
  secrets: PaymentSecrets | undefined,
  budget: WorkBudget,
  options: TakeoverOptions,
): Promise<{ reached: CheckoutChanges } | { outcome: SagaOutcome }> {
  const unknown = (cause: unknown) => leaveIncomplete(deps, checkout, cause, budget);
  try {
    const undone = await firstUndoneStep(deps, checkout, budget);
    if (undone) return { outcome: await afterUndoneStep(deps, checkout, step, undone, budget) };
    // After the order, a step that already stands is not repeated (a capture whose answer was
    // lost): the record says it happened.
    if (step.phase === 'finishes') {
      const before = await step.settle(deps, checkout, budget.signal);
      if (before.kind === 'stands') return { reached: before.reached };
    }
    let ran: CheckoutChanges | undefined;
    let heard: ServiceCallError | undefined;
    try {
      ran = await step.run(deps, checkout, secrets, budget.signal);
    } catch (error) {
      if (!(error instanceof ServiceCallError) || error instanceof ServiceOutcomeUnknownError)
        throw error;
      heard = error;
    }
    const record = await step.settle(deps, checkout, budget.signal);
    switch (record.kind) {
      case 'stands':
        // A Pix found only in the record: its QR code is in no record, and the customer needs it.
        if (!ran && step.handsOut) return { outcome: await unknown(heard) };
        return { reached: ran ?? record.reached };
      case 'undone': {
        if (step.phase === 'finishes') {
          return { outcome: await orderOnUndoneStep(deps, checkout, checkout.orderId, step.step) };
        }
        const failure = undoneOutside(step.step);
        return { outcome: await recordThenUndo(deps, checkout, record.reached, failure, budget) };
      }
      case 'refused':
        if (heard instanceof ServiceRefusedError) {
          return { outcome: await endAfter(deps, checkout, step, heard, budget) };
        }
        return { outcome: await unknown(heard) };
      case 'absent':
        // The service said yes and its record does not show it yet: its answer stands.
        if (ran) return { reached: ran };
        // A "no" to the repeat is the answer once nothing the earlier worker sent can land.
        if (heard instanceof ServiceRefusedError && options.earlierRequestsSettled) {
          return { outcome: await endAfter(deps, checkout, step, heard, budget) };
        }
        return { outcome: await unknown(heard) };
    }
  } catch (error) {
    if (!(error instanceof ServiceCallError)) throw error;
    return { outcome: await unknown(error) };
  }
}

/**
 * A step done before the open one was undone outside the checkout: it must not go forward.
 * What the open step's earlier tries did decides how it ends: an order that exists cannot be
 * undone (a person decides), any other step that happened is recorded and everything undone,
 * and a record that holds nothing yet waits for recovery (the earlier request may still land).
 */
async function afterUndoneStep(
  deps: SagaDeps,
  checkout: Checkout,
  open: SagaStepDefinition,
  undone: SagaStep,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  // The order exists already: nothing is undone, a person decides.
  if (hasCommitted(checkout)) return orderOnUndoneStep(deps, checkout, checkout.orderId, undone);
  const record = await open.settle(deps, checkout, budget.signal);
  if (record.kind === 'absent' || record.kind === 'refused') {
    const unsettled = new ServiceOutcomeUnknownError(
      open.step,
      'not_settled',
      `An earlier step was undone outside the checkout; the ${open.step} step is not settled yet`,
    );
    return leaveIncomplete(deps, checkout, unsettled, budget);
  }
  if (reachesPastOrder(checkout.flow, record.reached.status)) {
    return orderOnUndoneStep(deps, checkout, record.reached.orderId, undone);
  }
  return recordThenUndo(deps, checkout, record.reached, undoneOutside(undone), budget);
}
