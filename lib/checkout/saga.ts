import { randomUUID } from 'node:crypto';
import type { Checkout, CheckoutFailure, CheckoutOrder, PaymentCard } from './checkout.ts';
import { type CheckoutResult, finalResult, incompleteResult } from './checkout-result.ts';
import type {
  CheckoutChanges,
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
  /** How long a running checkout is held before recovery may take it over. */
  leaseMs: number;
  newId?: () => string;
}

/**
 * Records a new checkout, then runs the saga: charge → deduct → create order. The row is
 * written before the first downstream call, so no call is ever made for an unrecorded checkout.
 */
export async function processCheckout(
  deps: SagaDeps,
  order: CheckoutOrder,
  card: PaymentCard,
): Promise<CheckoutResult> {
  const now = deps.clock.now();
  const checkout: Checkout = {
    ...order,
    id: (deps.newId ?? randomUUID)(),
    status: 'pending',
    paymentId: null,
    orderId: null,
    failure: null,
    undoFailures: [],
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await deps.repository.insert(checkout, new Date(now.getTime() + deps.leaseMs));
  deps.logger.info('checkout recorded', { checkout_id: checkout.id });
  return runSaga(deps, checkout, card);
}

/**
 * Drives a recorded checkout forward from its recovery point (its status) to `completed`.
 * A refusal or an unavailable service undoes what was done; an unknown outcome leaves the
 * checkout where it is, under its lease, for a retry or the recovery function to settle.
 */
export async function runSaga(
  deps: SagaDeps,
  start: Checkout,
  card: PaymentCard,
): Promise<CheckoutResult> {
  let checkout = start;
  try {
    if (checkout.status === 'pending') {
      const { transactionId } = await deps.payment.charge({
        checkoutId: checkout.id,
        amountCents: checkout.totalCents,
        currency: checkout.currency,
        card,
        customerEmail: checkout.customerEmail,
      });
      checkout = await advance(deps, checkout, {
        status: 'payment_processed',
        paymentId: transactionId,
      });
    }
    if (checkout.status === 'payment_processed') {
      await deps.inventory.deduct({ checkoutId: checkout.id, items: checkout.items });
      checkout = await advance(deps, checkout, { status: 'inventory_deducted' });
    }
    if (checkout.status === 'inventory_deducted') {
      const { orderId } = await deps.order.create({
        checkoutId: checkout.id,
        customerEmail: checkout.customerEmail,
        shippingAddress: checkout.shippingAddress,
        items: checkout.items,
        totalCents: checkout.totalCents,
        currency: checkout.currency,
        paymentId: requirePaymentId(checkout),
      });
      checkout = await finish(deps, checkout, { status: 'completed', orderId });
      deps.logger.info('checkout completed', { checkout_id: checkout.id });
    }
    return finalResult(checkout);
  } catch (error) {
    if (error instanceof ServiceOutcomeUnknownError) {
      deps.logger.warn('checkout outcome unknown, left at its recovery point', {
        checkout_id: checkout.id,
        status: checkout.status,
        downstream: error.service,
        reason: error.reason,
      });
      return incompleteResult(checkout, Math.ceil(deps.leaseMs / 1000));
    }
    if (error instanceof ServiceCallError) {
      return compensate(deps, checkout, {
        step: error.service,
        kind: error instanceof ServiceRefusedError ? 'refused' : 'unavailable',
        reason: error.reason,
        message: error.message,
      });
    }
    throw error;
  }
}

/**
 * Undoes, in reverse order, the steps done before `failure.step`: release the stock (undoes
 * the deduction), then refund the payment (undoes the charge). Every undo is attempted even
 * if an earlier one failed; if any keeps failing the checkout ends `requires_attention`.
 */
async function compensate(
  deps: SagaDeps,
  start: Checkout,
  failure: CheckoutFailure,
): Promise<CheckoutResult> {
  let checkout = start;
  const undos = undoPlan(deps, checkout, failure);
  if (undos.length > 0) {
    checkout = await advance(deps, checkout, { status: 'compensating', failure });
  }
  const undoFailures: string[] = [];
  for (const [name, undo] of undos) {
    try {
      await undo();
    } catch (error) {
      undoFailures.push(name);
      deps.logger.error('undo failed', {
        checkout_id: checkout.id,
        undo: name,
        reason: error instanceof ServiceCallError ? error.reason : 'unexpected_error',
      });
    }
  }
  const status = undoFailures.length > 0 ? 'requires_attention' : 'failed';
  checkout = await finish(deps, checkout, { status, failure, undoFailures });
  if (status === 'requires_attention') {
    deps.logger.error('CHECKOUT REQUIRES ATTENTION: an undo kept failing', {
      checkout_id: checkout.id,
      failed_step: failure.step,
      undo_failures: undoFailures,
    });
  } else {
    deps.logger.info('checkout failed and undone', {
      checkout_id: checkout.id,
      failed_step: failure.step,
      reason: failure.reason,
    });
  }
  return finalResult(checkout);
}

type Undo = [name: string, run: () => Promise<void>];

function undoPlan(deps: SagaDeps, checkout: Checkout, failure: CheckoutFailure): Undo[] {
  const undos: Undo[] = [];
  if (failure.step === 'order') {
    undos.push([
      'release_inventory',
      () => deps.inventory.release({ checkoutId: checkout.id, items: checkout.items }),
    ]);
  }
  if (failure.step !== 'payment') {
    undos.push([
      'refund_payment',
      () =>
        deps.payment.refund({
          checkoutId: checkout.id,
          transactionId: requirePaymentId(checkout),
          amountCents: checkout.totalCents,
          currency: checkout.currency,
          reason: `${failure.step}_${failure.reason}`,
        }),
    ]);
  }
  return undos;
}

/** Writes the next recovery point and returns the checkout as it now stands. */
async function advance(deps: SagaDeps, checkout: Checkout, changes: CheckoutChanges) {
  await deps.repository.update(checkout.id, changes);
  return applyChanges(deps, checkout, changes);
}

/** Writes a final state together with the answer that will be replayed for it. */
async function finish(deps: SagaDeps, checkout: Checkout, changes: CheckoutChanges) {
  const next = applyChanges(deps, checkout, changes);
  const { statusCode, body } = finalResult(next);
  await deps.repository.update(checkout.id, {
    ...changes,
    response: { statusCode, body: JSON.stringify(body) },
  });
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
    updatedAt: deps.clock.now().toISOString(),
  };
}

function requirePaymentId(checkout: Checkout): string {
  if (!checkout.paymentId) throw new Error(`checkout ${checkout.id} has no payment id`);
  return checkout.paymentId;
}
