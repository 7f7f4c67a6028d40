import type { Checkout, CheckoutFailure, SagaStep } from './checkout.ts';
import { finished, type SagaOutcome } from './checkout-outcome.ts';
import type { WorkBudget } from './lease.ts';
import type { CheckoutChanges } from './ports.ts';
import {
  reachesPastOrder,
  type SagaStepDefinition,
  type StepRecord,
  stepFrom,
} from './saga-steps.ts';
import {
  abandoned,
  advance,
  attentionAfterOrder,
  compensate,
  failureOf,
  finishFailed,
  firstUndoneStep,
  leaveIncomplete,
  orderOnUndoneStep,
  recordThenUndo,
  type SagaDeps,
  type UndoFailedPolicy,
  undoneOutside,
} from './saga-transitions.ts';
import { ServiceCallError, ServiceRefusedError } from './service-errors.ts';

export interface RecoveryOptions {
  /** How many abandoned checkouts one run claims. */
  batchSize: number;
  /** After this many real settle tries that could not reach an answer, ask for attention. */
  maxAttempts: number;
  /** A checkout older than this that is still unsettled asks for attention. */
  maxAgeHours: number;
  /**
   * How long after a lease expired recovery waits before asking the services: longer than a
   * service may take to act on a request it already received, so an empty lookup means "never".
   */
  settleDelayMs: number;
}

/**
 * The recovery policy for one claimed checkout. It never repeats a forward step (it has no
 * card, and a strict service refuses a same-key request with a different body): it settles the
 * open step by asking the service. A step that happened is recorded; then the checkout is
 * undone (the customer was told it did not complete) and ends `failed`/`abandoned`, except a
 * settled order, which completes it (an order cannot be undone) when the steps before it still
 * stand, and asks for attention when one was undone outside the checkout. A lookup that fails leaves the
 * step open for the next run; after `maxAttempts` real tries, or past `maxAgeHours`, the
 * checkout ends `requires_attention`.
 */
export async function recoverCheckout(
  deps: SagaDeps,
  checkout: Checkout,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  deps.logger.info('recovering abandoned checkout', {
    checkout_id: checkout.id,
    status: checkout.status,
    settle_tries: checkout.settleTries,
  });
  // An undo that did not go through counts as a try, like a lookup without an answer.
  const untilGivenUp: UndoFailedPolicy = (current, failure, names, cause) =>
    unfinished(deps, current, failure, names, cause, options, budget);
  if (checkout.status === 'compensating') {
    const failure = checkout.failure ?? abandoned('payment');
    return compensate(deps, checkout, failure, budget, untilGivenUp);
  }
  const step = stepFrom(checkout);
  if (!step) return finished(checkout); // already final: nothing to do
  const settleFailed = (error: unknown) => {
    if (!(error instanceof ServiceCallError)) throw error;
    const names = [`settle_${step.step}`];
    return unfinished(deps, checkout, unconfirmed(step.step), names, error, options, budget);
  };
  let record: StepRecord;
  try {
    record = await step.settle(deps, checkout, budget.signal);
  } catch (error) {
    return settleFailed(error);
  }
  if (step.phase === 'finishes') {
    return finishAfterOrder(deps, checkout, step, record, options, budget);
  }
  if (step.repeatable && record.kind === 'absent') {
    return repeatForward(deps, checkout, step, options, budget, untilGivenUp);
  }
  if (record.kind === 'absent' || record.kind === 'refused') {
    return compensate(deps, checkout, abandoned(step.step), budget, untilGivenUp);
  }
  if (record.kind === 'stands' && reachesPastOrder(checkout.flow, record.reached.status)) {
    // An order goes on, but only on steps that still stand (design §4a).
    let undone: SagaStep | undefined;
    try {
      undone = await firstUndoneStep(deps, checkout, budget);
    } catch (error) {
      return settleFailed(error);
    }
    if (undone) return orderOnUndoneStep(deps, checkout, record.reached.orderId, undone);
    const ordered = await advance(deps, checkout, record.reached);
    // With an authorization, the capture still has to happen: recovery can do it (no card).
    const next = stepFrom(ordered);
    if (!next) return finished(ordered);
    return recoverCheckout(deps, ordered, options, budget);
  }
  const failure = record.kind === 'undone' ? undoneOutside(step.step) : abandoned(step.step);
  return recordThenUndo(deps, checkout, record.reached, failure, budget, untilGivenUp);
}

/**
 * A step the customer was told to expect and that needs nothing the request carried (the order
 * of a paid Pix): repeated (same key and body) on the steps that still stand. A refusal undoes
 * what was done (a refund, the stock back); no answer counts as a try, like a lookup without one.
 */
async function repeatForward(
  deps: SagaDeps,
  checkout: Checkout,
  step: SagaStepDefinition,
  options: RecoveryOptions,
  budget: WorkBudget,
  untilGivenUp: UndoFailedPolicy,
): Promise<SagaOutcome> {
  const notYet = (error: unknown) => {
    if (!(error instanceof ServiceCallError)) throw error;
    return unfinished(deps, checkout, unconfirmed(step.step), [step.name], error, options, budget);
  };
  let undone: SagaStep | undefined;
  try {
    undone = await firstUndoneStep(deps, checkout, budget);
  } catch (error) {
    return notYet(error);
  }
  if (undone) return compensate(deps, checkout, undoneOutside(undone), budget, untilGivenUp);
  let reached: CheckoutChanges;
  try {
    reached = await step.run(deps, checkout, undefined, budget.signal);
  } catch (error) {
    if (error instanceof ServiceRefusedError) {
      return compensate(deps, checkout, failureOf(error), budget, untilGivenUp);
    }
    return notYet(error);
  }
  const next = await advance(deps, checkout, reached);
  return stepFrom(next) ? recoverCheckout(deps, next, options, budget) : finished(next);
}

/**
 * A step after the order (the capture): nothing may be undone any more. What stands completes
 * the checkout; what is missing is done now, since it needs nothing the request carried (same
 * key and body as every try before); a refusal, or a payment undone under the order, is for a
 * person. A try without an answer counts like a lookup without one.
 */
async function finishAfterOrder(
  deps: SagaDeps,
  checkout: Checkout,
  step: SagaStepDefinition,
  record: StepRecord,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  const name = step.attention ?? step.name;
  const notYet = (error: unknown) => {
    if (!(error instanceof ServiceCallError)) throw error;
    return unfinished(deps, checkout, unconfirmed(step.step), [name], error, options, budget);
  };
  if (record.kind === 'undone') {
    return orderOnUndoneStep(deps, checkout, checkout.orderId, step.step);
  }
  let undone: SagaStep | undefined;
  try {
    undone = await firstUndoneStep(deps, checkout, budget);
  } catch (error) {
    return notYet(error);
  }
  if (undone) return orderOnUndoneStep(deps, checkout, checkout.orderId, undone);
  if (record.kind === 'stands') return finished(await advance(deps, checkout, record.reached));
  let reached: CheckoutChanges;
  try {
    reached = await step.run(deps, checkout, undefined, budget.signal);
  } catch (error) {
    if (error instanceof ServiceRefusedError) {
      return attentionAfterOrder(deps, checkout, step, error, budget);
    }
    return notYet(error);
  }
  return finished(await advance(deps, checkout, reached));
}

/**
 * A settle or an undo that did not go through (`names` says which). A try cut short by this
 * run's own deadline says nothing about the service and is not counted; after `maxAttempts`
 * tries, or past the maximum age, the checkout ends `requires_attention` with `failure`.
 */
async function unfinished(
  deps: SagaDeps,
  checkout: Checkout,
  failure: CheckoutFailure,
  names: string[],
  cause: unknown,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  const reason = cause instanceof ServiceCallError ? cause.reason : 'no answer';
  const tries = budget.signal.aborted
    ? checkout.settleTries
    : await deps.repository.recordSettleTry(checkout, `${names.join(', ')} failed: ${reason}`);
  const ageMs = deps.clock.now().getTime() - Date.parse(checkout.unfinishedSince);
  if (tries < options.maxAttempts && ageMs < options.maxAgeHours * 3_600_000) {
    return leaveIncomplete(deps, checkout, cause, budget);
  }
  return finishFailed(deps, checkout, failure, names);
}

/** Given up without an answer: what the service did at `step` is still not known. */
function unconfirmed(step: SagaStep): CheckoutFailure {
  return {
    step,
    kind: 'unavailable',
    reason: 'abandoned',
    message: `The ${step} service could not confirm what it did`,
  };
}
