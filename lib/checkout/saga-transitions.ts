import { DatabaseUnavailableError } from '#lib/errors.ts';
import {
  type AsyncPaymentSettings,
  type Checkout,
  type CheckoutFailure,
  type FinalStatus,
  failureCode,
  isFinal,
  type SagaStep,
} from './checkout.ts';
import { finished, type SagaOutcome } from './checkout-outcome.ts';
import { leaseEndsBy, type WorkBudget } from './lease.ts';
import type {
  CheckoutChanges,
  CheckoutMetrics,
  CheckoutRepository,
  Clock,
  RecoveryScheduler,
  RenderAnswer,
  SagaLogger,
} from './ports.ts';
import {
  expiryCheckAt,
  hasCommitted,
  hasUndoableSteps,
  type SagaStepDefinition,
  type StepRecord,
  type StepServices,
  stepsDone,
  stepsToUndo,
} from './saga-steps.ts';
import {
  ServiceCallError,
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
} from './service-errors.ts';

/*
 * The moves a checkout makes between recovery points, shared by the two policies over the
 * steps of saga-steps.ts: the forward saga (saga.ts) and recovery (recovery.ts). Each writes
 * its recovery point before anything else is called: go forward, undo, end failed, or stay
 * unfinished for a retry or recovery.
 */

/** The adapters every policy runs on: the repository, the three services, and the rest. */
export interface SagaDeps extends StepServices {
  repository: CheckoutRepository;
  clock: Clock;
  logger: SagaLogger;
  metrics: CheckoutMetrics;
  renderAnswer: RenderAnswer;
  scheduler: RecoveryScheduler;
  /** Pix and boleto settings (`ASYNC_PAYMENT_DEFAULTS` when absent). */
  asyncPayments?: AsyncPaymentSettings;
}

/**
 * Why a checkout left unfinished was undone (the customer was told it did not complete); also
 * stands in for the failure of a `compensating` checkout that lacks one (none is written so,
 * but such a row must never answer 200).
 */
export function abandoned(step: SagaStep): CheckoutFailure {
  return {
    step,
    kind: 'unavailable',
    reason: 'abandoned',
    message: 'The checkout could not be confirmed in time and was undone',
  };
}

/**
 * Why a checkout did not complete when one of its steps was undone outside it (a refund or a
 * release by an operator in a console): the money or stock is back, the purchase did not happen.
 */
export function undoneOutside(step: SagaStep): CheckoutFailure {
  const what = step === 'payment' ? 'payment was refunded or voided' : `${step} step was undone`;
  return {
    step,
    kind: 'refused',
    reason: 'undone_outside_checkout',
    message: `The ${what} outside this checkout before it completed`,
  };
}

/**
 * The first step done before the checkout's recovery point that its service's record shows
 * undone since (refunded, released), if any: the forward policy goes on only from steps that
 * stand now. A record that holds nothing of a step this checkout recorded proves nothing (a
 * lookup that lags, or a copy of another checkout's empty answer): it throws like a lookup
 * that cannot say, and the step stays open.
 */
export async function firstUndoneStep(
  deps: SagaDeps,
  checkout: Checkout,
  budget: WorkBudget,
): Promise<SagaStep | undefined> {
  for (const step of stepsDone(checkout)) {
    const record = await step.settle(deps, checkout, budget.signal);
    if (record.kind === 'undone') return step.step;
    if (record.kind !== 'stands') throw recordDisagrees(step.step);
  }
  return undefined;
}

/** The service's record does not show a step this checkout recorded as done. */
function recordDisagrees(step: SagaStep): ServiceOutcomeUnknownError {
  return new ServiceOutcomeUnknownError(
    step,
    'record_disagrees',
    `The ${step} service's record does not show a step this checkout recorded`,
  );
}

/**
 * The database stopped answering while the checkout moved on from `checkout`: it stands where
 * this worker last wrote it, which is what the answer (503) and the recovery schedule name.
 */
export class RecoveryPointUnwritten extends DatabaseUnavailableError {
  constructor(
    readonly checkout: Checkout,
    cause: unknown,
  ) {
    super({ cause });
  }
}

/**
 * An order exists, but a step before it was undone outside the checkout: an order cannot be
 * undone and the checkout cannot complete, so a person decides (cancel the order, or charge
 * again). The order id is kept on the row for them.
 */
export function orderOnUndoneStep(
  deps: SagaDeps,
  checkout: Checkout,
  orderId: string | null | undefined,
  undone: SagaStep,
): Promise<SagaOutcome> {
  return finishFailed(deps, checkout, undoneOutside(undone), [`${undone}_undone_under_order`], {
    ...(orderId && { orderId }),
  });
}

/**
 * A step its service's record shows happened, from which the checkout must not go on: it is
 * recorded (its transaction id, say, which the refund needs), then everything done is undone.
 */
export async function recordThenUndo(
  deps: SagaDeps,
  checkout: Checkout,
  reached: CheckoutChanges,
  failure: CheckoutFailure,
  budget: WorkBudget,
  onUndoFailed?: UndoFailedPolicy,
): Promise<SagaOutcome> {
  const settled = await advance(deps, checkout, reached);
  return compensate(deps, settled, failure, budget, onUndoFailed);
}

/** What a policy does with a checkout whose undos did not all go through (names given). */
export type UndoFailedPolicy = (
  checkout: Checkout,
  failure: CheckoutFailure,
  undoFailures: string[],
  cause: unknown,
) => Promise<SagaOutcome>;

/**
 * Undoes, in reverse order, the steps done before compensation began: release the stock,
 * then refund the payment. Every undo is attempted even if an earlier one failed. An undo that
 * still fails after its retries may well have acted (a 5xx after the refund, a reset) and is
 * safe to repeat with the same key and body, so by default the checkout stays `compensating`
 * (outcome `incomplete`) for a same-key retry or recovery to finish; recovery decides when to stop and
 * ask for attention (`onUndoFailed`). If the work budget runs out mid-undo, it stays
 * `compensating` too.
 */
export async function compensate(
  deps: SagaDeps,
  start: Checkout,
  failure: CheckoutFailure,
  budget: WorkBudget,
  onUndoFailed: UndoFailedPolicy = async (checkout, _failure, _names, cause) =>
    leaveIncomplete(deps, checkout, cause, budget),
): Promise<SagaOutcome> {
  let checkout = start;
  // Nothing is undone once the order exists: a policy that gets here with one is wrong.
  if (hasCommitted(checkout)) throw new Error(`checkout ${checkout.id}: its order exists`);
  if (checkout.status !== 'compensating' && hasUndoableSteps(checkout)) {
    checkout = await advance(deps, checkout, {
      status: 'compensating',
      failure,
      compensationFrom: checkout.status as NonNullable<Checkout['compensationFrom']>,
      cause: `undoing after ${failureCode(failure)}: ${failure.reason}`,
    });
  }
  const undoFailures: string[] = [];
  // Undos only a person can do: named for them once the rest is undone, never tried.
  const forPerson: string[] = [];
  let cause: unknown;
  for (const step of stepsToUndo(checkout)) {
    const { undo } = step;
    if (!undo) continue;
    if (undo.byPerson) {
      forPerson.push(undo.name);
      continue;
    }
    try {
      await undo.run(deps, checkout, failure, budget.signal);
    } catch (error) {
      if (!(error instanceof ServiceCallError)) throw error;
      // Refused, perhaps because there is nothing left to undo: already undone (an operator's
      // refund, an earlier try whose answer was lost), or never done. The record says which.
      if (
        error instanceof ServiceRefusedError &&
        (await alreadyUndone(deps, step, checkout, budget))
      )
        continue;
      // Cut short by the work budget: the policy decides (recovery still applies its age cap).
      if (budget.signal.aborted)
        return onUndoFailed(checkout, failure, [...undoFailures, undo.name], error);
      undoFailures.push(undo.name);
      cause = error;
      deps.logger.warn('undo failed, to be repeated', {
        checkout_id: checkout.id,
        undo: undo.name,
        reason: error.reason,
      });
    }
  }
  if (undoFailures.length > 0) {
    return onUndoFailed(checkout, failure, [...forPerson, ...undoFailures], cause);
  }
  return finishFailed(deps, checkout, failure, forPerson);
}

/** Why a Pix or boleto that was never paid ended: its charge cancelled, its stock back. */
export const PAYMENT_EXPIRED: CheckoutFailure = {
  step: 'payment',
  kind: 'refused',
  reason: 'payment_expired',
  message: 'The payment was not made before it expired; nothing was charged',
};

/**
 * Ends a checkout that did not complete: `failed` (`expired` for a payment never made), or
 * `requires_attention` (logged loudly) when something could not be undone or settled.
 */
export async function finishFailed(
  deps: SagaDeps,
  checkout: Checkout,
  failure: CheckoutFailure,
  undoFailures: string[],
  record: Pick<CheckoutChanges, 'orderId' | 'eventId'> = {},
): Promise<SagaOutcome> {
  const ended = failure.reason === PAYMENT_EXPIRED.reason ? 'expired' : 'failed';
  const status = undoFailures.length > 0 ? 'requires_attention' : ended;
  const cause =
    status === 'requires_attention'
      ? `gave up: ${undoFailures.join(', ')}`
      : `undone after ${failureCode(failure)}: ${failure.reason}`;
  const next = await advance(deps, checkout, { ...record, status, failure, undoFailures, cause });
  if (status === 'requires_attention') {
    deps.logger.error('CHECKOUT REQUIRES ATTENTION: an undo or a settle kept failing', {
      checkout_id: next.id,
      failed_step: failure.step,
      undo_failures: undoFailures,
    });
  } else {
    deps.logger.info(`checkout ${status} and undone`, {
      checkout_id: next.id,
      failed_step: failure.step,
      reason: failure.reason,
    });
  }
  return finished(next);
}

/**
 * Whether a refused undo of `step` has nothing left to do: the service's record shows the step
 * undone (for a refund, this checkout's own charge refunded). A record holding nothing counts
 * only for a row that recorded nothing of the step (an older version's `compensating` row):
 * for one that did, it is a lookup that lags or a copy of another answer, and the undo is not
 * done. A lookup that fails: not done.
 */
async function alreadyUndone(
  deps: SagaDeps,
  step: SagaStepDefinition,
  checkout: Checkout,
  budget: WorkBudget,
): Promise<boolean> {
  let record: StepRecord;
  try {
    record = await step.settle(deps, checkout, budget.signal);
  } catch (error) {
    if (error instanceof ServiceCallError) return false;
    throw error;
  }
  if (record.kind === 'undone') {
    const refunded = record.reached.paymentId;
    return step.step !== 'payment' || !checkout.paymentId || refunded === checkout.paymentId;
  }
  return record.kind !== 'stands' && !recordsStep(checkout, step.step);
}

/** Whether the row itself records that `step` happened (a transaction id, a deduction). */
function recordsStep(checkout: Checkout, step: SagaStep): boolean {
  if (step === 'payment') return checkout.paymentId !== null;
  return checkout.compensationFrom === 'inventory_deducted';
}

/**
 * A step after the order that the service refused (a capture of an authorization that expired):
 * nothing may be undone once the order exists, so a person finishes it (`step.attention`). But
 * a refusal of a repeat may only say that it was done already (an earlier try captured and its
 * answer was lost): the service's record decides first.
 */
export async function attentionAfterOrder(
  deps: SagaDeps,
  checkout: Checkout,
  step: SagaStepDefinition,
  error: ServiceCallError,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  try {
    const record = await step.settle(deps, checkout, budget.signal);
    if (record.kind === 'stands') return finished(await advance(deps, checkout, record.reached));
  } catch (lookup) {
    if (!(lookup instanceof ServiceCallError)) throw lookup;
    // The record cannot say: the refusal stands, and a person looks.
  }
  return finishFailed(deps, checkout, failureOf(error), [step.attention ?? step.name]);
}

/**
 * A step that will not happen (refused, or its service not reached): before the order, what was
 * done is undone; after it, a person finishes the checkout.
 */
export function endAfter(
  deps: SagaDeps,
  checkout: Checkout,
  step: SagaStepDefinition,
  error: ServiceCallError,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  if (step.phase === 'finishes') return attentionAfterOrder(deps, checkout, step, error, budget);
  return compensate(deps, checkout, failureOf(error), budget);
}

/** The saga step a service error comes from (the catalog is asked before any step). */
function stepOf(error: ServiceCallError): SagaStep {
  if (error.service === 'catalog') throw new Error("a catalog error is not a step's failure");
  return error.service;
}

/** The failure a service error stands for. */
export function failureOf(error: ServiceCallError): CheckoutFailure {
  return {
    step: stepOf(error),
    kind: error instanceof ServiceRefusedError ? 'refused' : 'unavailable',
    reason: error.reason,
    message: error.message,
  };
}

/**
 * A Pix or boleto issued: the customer pays it with its instructions. The checkout holds no
 * lease while it waits; the sweep is woken at its expiry check, and looks it up before then too.
 */
export async function waitForCustomer(deps: SagaDeps, checkout: Checkout): Promise<SagaOutcome> {
  await deps.scheduler.scheduleCheck(checkout, expiryCheckAt(checkout));
  return { kind: 'awaiting', checkout };
}

/**
 * The outcome while a step's outcome is open: nothing undone, nothing called failed. Recovery
 * is woken for the checkout once its lease has ended (at the latest `leaseMs` from now).
 */
export async function leaveIncomplete(
  deps: SagaDeps,
  checkout: Checkout,
  error: unknown,
  budget: WorkBudget,
): Promise<SagaOutcome> {
  deps.logger.warn('checkout outcome unknown, left at its recovery point', {
    checkout_id: checkout.id,
    status: checkout.status,
    downstream: error instanceof ServiceCallError ? error.service : undefined,
    reason:
      error instanceof ServiceCallError
        ? error.reason
        : error instanceof Error
          ? error.name
          : 'deadline',
  });
  deps.metrics.outcome('incomplete');
  await deps.scheduler.scheduleRecovery(checkout, leaseEndsBy(deps.clock.now(), budget));
  return { kind: 'incomplete', checkout, retryInMs: budget.leaseMs };
}

/**
 * Writes the next recovery point (durable before the next downstream call) and returns the
 * checkout as it now stands. A final state is written together with the answer that will be
 * replayed for it, which also ends the lease.
 */
export async function advance(
  deps: SagaDeps,
  checkout: Checkout,
  changes: CheckoutChanges,
  stepMs?: Partial<Record<SagaStepDefinition['name'], number>>,
): Promise<Checkout> {
  const next: Checkout = {
    ...checkout,
    status: changes.status,
    paymentId: changes.paymentId ?? checkout.paymentId,
    orderId: changes.orderId ?? checkout.orderId,
    failure: changes.failure === null ? null : (changes.failure ?? checkout.failure),
    undoFailures: changes.undoFailures ?? checkout.undoFailures,
    compensationFrom: changes.compensationFrom ?? checkout.compensationFrom,
    card: changes.card ?? checkout.card,
    asyncPayment:
      changes.instructions && checkout.asyncPayment
        ? { ...checkout.asyncPayment, instructions: changes.instructions }
        : checkout.asyncPayment,
    paidLate: changes.paidLate ?? checkout.paidLate,
    updatedAt: deps.clock.now().toISOString(),
  };
  const final = isFinal(next.status);
  const write = final ? { ...changes, response: deps.renderAnswer(finished(next)) } : changes;
  try {
    await deps.repository.update(checkout, write);
  } catch (error) {
    if (error instanceof DatabaseUnavailableError)
      throw new RecoveryPointUnwritten(checkout, error);
    throw error;
  }
  if (!final) return next;
  deps.metrics.outcome(next.status as FinalStatus, next.failure?.step);
  if (next.status === 'completed')
    deps.logger.info('checkout completed', {
      checkout_id: next.id,
      ...(stepMs && { step_ms: stepMs }),
    });
  return next;
}
