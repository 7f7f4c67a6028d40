import type { Checkout, CheckoutFailure, FinalStatus, PaymentCard } from './checkout.ts';
import { type CheckoutResult, finalResult, incompleteResult } from './checkout-result.ts';
import type { WorkBudget } from './lease.ts';
import type {
  CheckoutChanges,
  CheckoutMetrics,
  CheckoutRepository,
  Clock,
  InventoryService,
  OrderService,
  PaymentService,
  SagaLogger,
} from './ports.ts';
import {
  ServiceCallError,
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
} from './service-errors.ts';

export interface SagaDeps {
  repository: CheckoutRepository;
  payment: PaymentService;
  inventory: InventoryService;
  order: OrderService;
  clock: Clock;
  logger: SagaLogger;
  metrics: CheckoutMetrics;
}

/**
 * Drives a recorded checkout forward from its recovery point (its status) to `completed`:
 * charge → deduct → create order, one write per step. A refusal or an unavailable service
 * undoes what was done; an unknown outcome (or the end of the work budget) leaves the checkout
 * where it is, under its lease, for a retry with the same key or the recovery function.
 * A checkout found `compensating` finishes its undo.
 */
export async function runSaga(
  deps: SagaDeps,
  start: Checkout,
  card: PaymentCard,
  budget: WorkBudget,
): Promise<CheckoutResult> {
  const { signal } = budget;
  let checkout = start;
  try {
    if (checkout.status === 'compensating' && checkout.failure) {
      return await compensate(deps, checkout, checkout.failure, budget);
    }
    if (checkout.status === 'pending') {
      const { transactionId } = await deps.payment.charge(
        {
          checkoutId: checkout.id,
          amountCents: checkout.totalCents,
          currency: checkout.currency,
          card,
          customerEmail: checkout.customerEmail,
        },
        { signal },
      );
      checkout = await advance(deps, checkout, {
        status: 'payment_processed',
        paymentId: transactionId,
      });
    }
    if (checkout.status === 'payment_processed') {
      await deps.inventory.deduct({ checkoutId: checkout.id, items: checkout.items }, { signal });
      checkout = await advance(deps, checkout, { status: 'inventory_deducted' });
    }
    if (checkout.status === 'inventory_deducted') {
      checkout = await createOrder(deps, checkout, budget);
    }
    return finalResult(checkout);
  } catch (error) {
    if (error instanceof ServiceOutcomeUnknownError)
      return leaveIncomplete(deps, checkout, error, budget);
    if (error instanceof ServiceCallError)
      return compensate(deps, checkout, failureOf(error), budget);
    throw error;
  }
}

/** The last step: create the order of a paid, stocked checkout, and record it completed. */
export async function createOrder(deps: SagaDeps, checkout: Checkout, { signal }: WorkBudget) {
  const { orderId } = await deps.order.create(
    {
      checkoutId: checkout.id,
      customerEmail: checkout.customerEmail,
      shippingAddress: checkout.shippingAddress,
      items: checkout.items,
      totalCents: checkout.totalCents,
      currency: checkout.currency,
      paymentId: requirePaymentId(checkout),
    },
    { signal },
  );
  const completed = await finish(deps, checkout, { status: 'completed', orderId });
  deps.logger.info('checkout completed', { checkout_id: completed.id });
  return completed;
}

/**
 * Undoes, in reverse order, the steps done before `failure.step`: release the stock (undoes
 * the deduction), then refund the payment (undoes the charge). Every undo is attempted even
 * if an earlier one failed; if any keeps failing the checkout ends `requires_attention`. If
 * the work budget runs out mid-undo, it stays `compensating` for the next worker.
 */
export async function compensate(
  deps: SagaDeps,
  start: Checkout,
  failure: CheckoutFailure,
  budget: WorkBudget,
): Promise<CheckoutResult> {
  let checkout = start;
  if (checkout.status === 'payment_processed' || checkout.status === 'inventory_deducted') {
    checkout = await advance(deps, checkout, {
      status: 'compensating',
      failure,
      compensationFrom: checkout.status,
    });
  }
  const undoFailures: string[] = [];
  for (const [name, undo] of undoPlan(deps, checkout, failure, budget)) {
    try {
      await undo();
    } catch (error) {
      if (budget.signal.aborted) {
        return leaveIncomplete(deps, checkout, error, budget);
      }
      undoFailures.push(name);
      deps.logger.error('undo failed', {
        checkout_id: checkout.id,
        undo: name,
        reason: error instanceof ServiceCallError ? error.reason : 'unexpected_error',
      });
    }
  }
  return finishFailed(deps, checkout, failure, undoFailures);
}

/**
 * Ends a checkout that did not complete: `failed`, or `requires_attention` (logged loudly)
 * when something could not be undone or settled.
 */
export async function finishFailed(
  deps: SagaDeps,
  checkout: Checkout,
  failure: CheckoutFailure,
  undoFailures: string[],
): Promise<CheckoutResult> {
  const status = undoFailures.length > 0 ? 'requires_attention' : 'failed';
  const ended = await finish(deps, checkout, { status, failure, undoFailures });
  if (status === 'requires_attention') {
    deps.logger.error('CHECKOUT REQUIRES ATTENTION: an undo kept failing', {
      checkout_id: ended.id,
      failed_step: failure.step,
      undo_failures: undoFailures,
    });
  } else {
    deps.logger.info('checkout failed and undone', {
      checkout_id: ended.id,
      failed_step: failure.step,
      reason: failure.reason,
    });
  }
  return finalResult(ended);
}

/** The failure a service error stands for. */
export function failureOf(error: ServiceCallError): CheckoutFailure {
  return {
    step: error.service,
    kind: error instanceof ServiceRefusedError ? 'refused' : 'unavailable',
    reason: error.reason,
    message: error.message,
  };
}

function leaveIncomplete(
  deps: SagaDeps,
  checkout: Checkout,
  error: unknown,
  budget: WorkBudget,
): CheckoutResult {
  deps.logger.warn('checkout outcome unknown, left at its recovery point', {
    checkout_id: checkout.id,
    status: checkout.status,
    downstream: error instanceof ServiceCallError ? error.service : undefined,
    reason: error instanceof ServiceCallError ? error.reason : 'deadline',
  });
  deps.metrics.outcome('incomplete');
  return incompleteResult(checkout, Math.ceil(budget.leaseMs / 1000));
}

type Undo = [name: string, run: () => Promise<void>];

/** The undo of each step done before compensation began, latest first. */
function undoPlan(
  deps: SagaDeps,
  checkout: Checkout,
  failure: CheckoutFailure,
  { signal }: WorkBudget,
): Undo[] {
  const undos: Undo[] = [];
  if (checkout.compensationFrom === 'inventory_deducted') {
    undos.push([
      'release_inventory',
      () => deps.inventory.release({ checkoutId: checkout.id, items: checkout.items }, { signal }),
    ]);
  }
  if (checkout.compensationFrom && checkout.paymentId) {
    const transactionId = checkout.paymentId;
    undos.push([
      'refund_payment',
      () =>
        deps.payment.refund(
          {
            checkoutId: checkout.id,
            transactionId,
            amountCents: checkout.totalCents,
            currency: checkout.currency,
            reason: `${failure.step}_${failure.reason}`,
          },
          { signal },
        ),
    ]);
  }
  return undos;
}

/** Writes the next recovery point and returns the checkout as it now stands. */
export async function advance(deps: SagaDeps, checkout: Checkout, changes: CheckoutChanges) {
  await deps.repository.update(checkout, changes);
  return applyChanges(deps, checkout, changes);
}

/** Writes a final state together with the answer that will be replayed for it. */
async function finish(deps: SagaDeps, checkout: Checkout, changes: CheckoutChanges) {
  const next = applyChanges(deps, checkout, changes);
  const { statusCode, body } = finalResult(next);
  await deps.repository.update(checkout, {
    ...changes,
    response: { statusCode, body: JSON.stringify(body) },
  });
  deps.metrics.outcome(changes.status as FinalStatus, next.failure?.step);
  return next;
}

function applyChanges(deps: SagaDeps, checkout: Checkout, changes: CheckoutChanges): Checkout {
  return {
    ...checkout,
    status: changes.status,
    paymentId: changes.paymentId ?? checkout.paymentId,
    orderId: changes.orderId ?? checkout.orderId,
    failure: changes.failure ?? checkout.failure,
    undoFailures: changes.undoFailures ?? checkout.undoFailures,
    compensationFrom: changes.compensationFrom ?? checkout.compensationFrom,
    updatedAt: deps.clock.now().toISOString(),
  };
}

function requirePaymentId(checkout: Checkout): string {
  if (!checkout.paymentId) throw new Error(`checkout ${checkout.id} has no payment id`);
  return checkout.paymentId;
}
