import { describe, expect, it } from 'vitest';
import type { Checkout, CheckoutFailure } from '#lib/checkout/checkout.ts';
import { type RecoveryOptions, recoverCheckout } from '#lib/checkout/recovery.ts';
import { abandoned } from '#lib/checkout/saga-transitions.ts';
import { ServiceOutcomeUnknownError } from '#lib/checkout/service-errors.ts';
import { renderFinished } from '#lib/http/checkout-presenter.ts';
import {
  callOrder,
  createSagaFakes,
  FIXED_NOW,
  holdStepsDone,
  outcomeOfKind,
  recordedCheckout,
  refused,
  type SagaFakes,
  sampleOrder,
  storedRow,
  unavailable,
  unknown,
  updatedStatuses,
} from './fakes.ts';

/**
 * `recoverCheckout`, the recovery policy for one checkout a recovery run has claimed: it settles
 * the open step by asking the service, undoes what was done, and gives up after its tries or
 * past its age. Claiming and counting are `recoverAbandoned`'s (`recover-abandoned.test.ts`).
 */

const ID = '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291807';
const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};

/**
 * A checkout left at `fields.status` as a recovery run has just claimed it: taken from the
 * worker that created it (attempt 2) and held under the run's lease. Returns what the claim read.
 */
function claimed(fakes: SagaFakes, fields: Partial<Checkout> & Pick<Checkout, 'status'>): Checkout {
  const checkout = recordedCheckout(ID, {
    paymentId: fields.status === 'pending' ? null : 'txn_earlier',
    attempt: 2,
    ...fields,
  });
  fakes.repository.checkouts.set(ID, {
    checkout: structuredClone(checkout),
    lockedUntil: new Date(FIXED_NOW.getTime() + fakes.budget.leaseMs),
  });
  holdStepsDone(fakes, checkout);
  return checkout;
}

const stored = (fakes: SagaFakes) => storedRow(fakes, ID).checkout;

const recover = (fakes: SagaFakes, checkout: Checkout, options: Partial<RecoveryOptions> = {}) =>
  recoverCheckout(fakes.deps, checkout, { ...OPTIONS, ...options }, fakes.budget);

/** Recovers the checkout again as the repository now holds it (the next run's claim). */
const recoverAgain = (fakes: SagaFakes) => recover(fakes, structuredClone(stored(fakes)));

const callsNamed = (fakes: SagaFakes, name: string) => fakes.log.filter((c) => c.name === name);

const alarmOf = (fakes: SagaFakes) =>
  fakes.logger.lines.find((l) => l.level === 'error' && l.message.includes('REQUIRES ATTENTION'));

const UNCONFIRMED = (step: string) => ({
  kind: 'unavailable',
  reason: 'abandoned',
  message: `The ${step} service could not confirm what it did`,
});

/** The forward calls recovery must never make: it has no card and never guesses by replaying. */
const FORWARD = ['payment.charge', 'inventory.deduct', 'order.create'];
const forwardCalls = (fakes: SagaFakes) => fakes.serviceCalls().filter((n) => FORWARD.includes(n));

describe('recoverCheckout settling a checkout left pending (payment outcome unknown)', () => {
  it('asks the payment service, and refunds the charge it holds: never repeats the charge', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);

    const outcome = await recover(fakes, checkout);

    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed', paymentId: 'txn_found' },
      failure: abandoned('payment'),
    });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges', 'payment.refund']);
    expect(callsNamed(fakes, 'payment.refund')[0]?.input).toEqual({
      checkoutId: ID,
      transactionId: 'txn_found',
      amountCents: 34_970,
      currency: 'BRL',
      reason: 'payment_abandoned',
    });
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_found', status: 'refunded' },
    ]);
    expect(stored(fakes)).toMatchObject({
      status: 'failed',
      paymentId: 'txn_found',
      failure: abandoned('payment'),
      undoFailures: [],
    });
    expect(fakes.metrics.outcomes).toEqual([{ status: 'failed', failedStep: 'payment' }]);
  });

  it('ends failed with nothing to undo when the service holds no charge', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending' });

    const outcome = await recover(fakes, checkout);

    expect(outcome).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges']);
    expect(stored(fakes)).toMatchObject({ status: 'failed', paymentId: null, undoFailures: [] });
  });

  it('reads a failed charge as no charge, and a refunded one as a charge to refund (a no-op)', async () => {
    const failedOnly = createSagaFakes();
    const first = claimed(failedOnly, { status: 'pending' });
    failedOnly.payment.charges.set(ID, [{ transactionId: 'txn_x', status: 'failed' }]);
    await recover(failedOnly, first);
    expect(failedOnly.serviceCalls()).toEqual(['payment.findCharges']);

    const refunded = createSagaFakes();
    const second = claimed(refunded, { status: 'pending' });
    refunded.payment.charges.set(ID, [{ transactionId: 'txn_y', status: 'refunded' }]);
    await recover(refunded, second);
    expect(refunded.serviceCalls()).toEqual(['payment.findCharges', 'payment.refund']);
    expect(stored(refunded)).toMatchObject({ status: 'failed', paymentId: 'txn_y' });
  });

  it('records the settled charge before undoing it, then the failure with its answer', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);

    const outcome = outcomeOfKind(await recover(fakes, checkout), 'unavailable');

    expect(updatedStatuses(fakes)).toEqual(['payment_processed', 'compensating', 'failed']);
    expect(callOrder(fakes, 'repository.update:payment_processed', 'payment.refund')).toEqual([
      'repository.update:payment_processed',
      'payment.refund',
    ]);
    expect(outcome.failure).toEqual(abandoned('payment'));
    expect(fakes.repository.writes.at(-1)).toMatchObject({
      kind: 'update',
      changes: { status: 'failed', response: renderFinished(outcome) },
    });
  });
});

describe('recoverCheckout settling a checkout left at payment_processed', () => {
  it('releases the deduction the inventory service holds, then refunds the payment', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'payment_processed' });
    fakes.inventory.deductions.set(ID, [{ status: 'deducted' }]);

    const outcome = await recover(fakes, checkout);

    expect(outcome).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(fakes.serviceCalls()).toEqual([
      'inventory.findDeductions',
      'inventory.release',
      'payment.refund',
    ]);
    expect(callsNamed(fakes, 'inventory.release')[0]?.input).toEqual({
      checkoutId: ID,
      items: sampleOrder().items,
    });
    expect(callsNamed(fakes, 'payment.refund')[0]?.input).toMatchObject({
      checkoutId: ID,
      transactionId: 'txn_earlier',
      amountCents: 34_970,
    });
    expect(stored(fakes)).toMatchObject({
      status: 'failed',
      failure: abandoned('inventory'),
      compensationFrom: 'inventory_deducted',
    });
  });

  it('only refunds when the inventory service holds no deduction', async () => {
    const fakes = createSagaFakes();
    await recover(fakes, claimed(fakes, { status: 'payment_processed' }));
    expect(fakes.serviceCalls()).toEqual(['inventory.findDeductions', 'payment.refund']);
    expect(stored(fakes)).toMatchObject({
      status: 'failed',
      compensationFrom: 'payment_processed',
    });
  });
});

describe('recoverCheckout settling a checkout left at inventory_deducted', () => {
  it('completes the checkout with the order the service holds (an order is not undone)', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_found', status: 'created' }]);

    const outcome = outcomeOfKind(await recover(fakes, checkout), 'completed');

    expect(outcome.checkout).toMatchObject({ status: 'completed', orderId: 'ord_found' });
    // The order completes it only on a charge and a deduction that still stand.
    expect(fakes.serviceCalls()).toEqual([
      'order.findOrders',
      'payment.findCharges',
      'inventory.findDeductions',
    ]);
    expect(stored(fakes)).toMatchObject({
      status: 'completed',
      orderId: 'ord_found',
      failure: null,
    });
    expect(storedRow(fakes, ID).response).toEqual(renderFinished(outcome));
    expect(fakes.metrics.outcomes).toEqual([{ status: 'completed' }]);
  });

  it('releases and refunds when the order service holds no created order', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_gone', status: 'cancelled' }]);

    await recover(fakes, checkout);

    expect(fakes.serviceCalls()).toEqual([
      'order.findOrders',
      'inventory.release',
      'payment.refund',
    ]);
    expect(stored(fakes)).toMatchObject({ status: 'failed', failure: abandoned('order') });
  });
});

describe('recoverCheckout finishing a checkout left compensating', () => {
  it('releases the stock, then refunds the payment, and ends failed with the original failure', async () => {
    const fakes = createSagaFakes();
    const failure: CheckoutFailure = {
      step: 'order',
      kind: 'refused',
      reason: 'invalid_address',
      message: 'the order service refused: invalid_address',
    };
    const checkout = claimed(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      failure,
    });

    const outcome = await recover(fakes, checkout);

    expect(outcome).toMatchObject({ kind: 'refused', checkout: { status: 'failed' }, failure });
    expect(fakes.serviceCalls()).toEqual(['inventory.release', 'payment.refund']);
    expect(callsNamed(fakes, 'payment.refund')[0]?.input).toMatchObject({
      transactionId: 'txn_earlier',
      reason: 'order_invalid_address',
    });
    expect(stored(fakes)).toMatchObject({ status: 'failed', failure, undoFailures: [] });
  });

  it('only refunds when compensation started from payment_processed', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, {
      status: 'compensating',
      compensationFrom: 'payment_processed',
      failure: {
        step: 'inventory',
        kind: 'refused',
        reason: 'out_of_stock',
        message: 'out of stock',
      },
    });
    await recover(fakes, checkout);
    expect(fakes.serviceCalls()).toEqual(['payment.refund']);
    expect(stored(fakes).status).toBe('failed');
  });

  it('repeats an undo that did not go through when recovered again, counting one try', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      failure: { step: 'order', kind: 'unavailable', reason: 'http_503', message: 'down' },
    });
    fakes.payment.failWith.refund = unknown('payment');

    expect(await recover(fakes, checkout)).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'compensating' },
    });
    expect(stored(fakes)).toMatchObject({ status: 'compensating', settleTries: 1 });

    fakes.payment.failWith = {};
    expect(await recoverAgain(fakes)).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed' },
    });
    expect(callsNamed(fakes, 'payment.refund')).toHaveLength(2);
    expect(callsNamed(fakes, 'inventory.release')).toHaveLength(2);
  });

  it('gives up an undo older than maxAgeHours even when every try was cut short by the deadline', async () => {
    const fakes = createSagaFakes();
    const old = new Date(FIXED_NOW.getTime() - 30 * 3_600_000).toISOString();
    const checkout = claimed(fakes, {
      status: 'compensating',
      compensationFrom: 'payment_processed',
      createdAt: old,
      failure: { step: 'inventory', kind: 'refused', reason: 'out_of_stock', message: 'x' },
    });
    fakes.payment.refund = async () => {
      fakes.deadline.abort(); // the refund hangs until the run's budget is gone
      throw unknown('payment');
    };

    await recover(fakes, checkout, { maxAgeHours: 24 });

    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['refund_payment'],
    });
  });

  it('counts the undo’s tries afresh: tries spent settling the charge do not use them up', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    fakes.payment.failWith.refund = unknown('payment');

    const outcome = await recover(fakes, checkout, { maxAttempts: 3 });

    expect(outcome.kind).toBe('incomplete');
    expect(stored(fakes)).toMatchObject({ status: 'compensating', settleTries: 1 });
  });

  it('ends requires_attention when an undo still fails on the maxAttempts-th try', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      settleTries: 2,
      failure: { step: 'order', kind: 'unavailable', reason: 'http_503', message: 'down' },
    });
    fakes.payment.failWith.refund = unavailable('payment');

    const outcome = outcomeOfKind(
      await recover(fakes, checkout, { maxAttempts: 3 }),
      'unavailable',
    );

    expect(outcome.checkout.status).toBe('requires_attention');
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['refund_payment'],
      failure: { step: 'order', reason: 'http_503' },
    });
    expect(storedRow(fakes, ID).response).toEqual(renderFinished(outcome));
    expect(alarmOf(fakes)?.extra[0]).toMatchObject({
      checkout_id: ID,
      undo_failures: ['refund_payment'],
    });
  });
});

describe('recoverCheckout when the lookup gets no answer', () => {
  it.each([
    { error: unknown('payment'), kind: 'an unknown outcome' },
    { error: unavailable('payment'), kind: 'an unreachable service' },
    { error: refused('payment', 'http_404'), kind: 'a refusal' },
  ])('leaves the checkout as it is after $kind, counting one try', async ({ error }) => {
    const fakes = createSagaFakes({ leaseMs: 45_000 });
    const checkout = claimed(fakes, { status: 'pending' });
    fakes.payment.failWith.findCharges = error;

    const outcome = await recover(fakes, checkout);

    expect(outcome).toEqual({ kind: 'incomplete', checkout, retryInMs: 45_000 });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges']);
    expect(stored(fakes)).toMatchObject({
      status: 'pending',
      attempt: 2,
      settleTries: 1,
      failure: null,
    });
    expect(fakes.repository.writes).toEqual([]);
    expect(storedRow(fakes, ID).response).toBeUndefined();
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
    expect(fakes.logger.lines.some((l) => l.message.includes('REQUIRES ATTENTION'))).toBe(false);
  });

  it('ends requires_attention with undoFailures [settle_payment] on the maxAttempts-th try', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.failWith.findCharges = unknown('payment');

    const outcome = await recover(fakes, checkout, { maxAttempts: 3 });

    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'requires_attention' },
      failure: { step: 'payment', ...UNCONFIRMED('payment') },
    });
    expect(forwardCalls(fakes)).toEqual([]);
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_payment'],
      failure: { step: 'payment', ...UNCONFIRMED('payment') },
    });
    expect(fakes.metrics.outcomes).toEqual([
      { status: 'requires_attention', failedStep: 'payment' },
    ]);
    expect(alarmOf(fakes)?.extra[0]).toMatchObject({
      checkout_id: ID,
      undo_failures: ['settle_payment'],
    });
  });

  it('counts tries, not claims: a checkout claimed many times but never tried gets all its tries', async () => {
    const fakes = createSagaFakes();
    // A backlog: claimed by nine earlier runs that ran out of time before reaching it.
    const checkout = claimed(fakes, { status: 'pending', attempt: 10, settleTries: 0 });
    fakes.payment.failWith.findCharges = unknown('payment');

    const outcome = await recover(fakes, checkout, { maxAttempts: 3 });

    expect(outcome.kind).toBe('incomplete');
    expect(stored(fakes)).toMatchObject({ status: 'pending', settleTries: 1 });
  });

  it('does not count a try its own deadline cut short', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.findCharges = async () => {
      fakes.deadline.abort(); // the run's budget ends while the lookup is in flight
      throw new ServiceOutcomeUnknownError('payment', 'deadline', 'no answer in time');
    };

    const outcome = await recover(fakes, checkout, { maxAttempts: 3 });

    expect(outcome.kind).toBe('incomplete');
    expect(stored(fakes)).toMatchObject({ status: 'pending', settleTries: 2, undoFailures: [] });
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('gives up a checkout older than maxAgeHours even when every try was cut short', async () => {
    const fakes = createSagaFakes();
    const old = new Date(FIXED_NOW.getTime() - 25 * 3_600_000).toISOString();
    const checkout = claimed(fakes, { status: 'pending', settleTries: 0, createdAt: old });
    fakes.payment.findCharges = async () => {
      fakes.deadline.abort();
      throw new ServiceOutcomeUnknownError('payment', 'deadline', 'no answer in time');
    };

    await recover(fakes, checkout, { maxAttempts: 3, maxAgeHours: 24 });

    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_payment'],
    });
  });

  it('names the step that stayed unsettled (settle_inventory)', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'payment_processed', settleTries: 5 });
    fakes.inventory.failWith.findDeductions = unknown('inventory');
    await recover(fakes, checkout, { maxAttempts: 3 });
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_inventory'],
    });
    expect(fakes.serviceCalls()).toEqual(['inventory.findDeductions']);
  });
});

describe('recoverCheckout of a checkout it cannot settle', () => {
  it('reports a final checkout as it stands, calling and writing nothing', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'completed', orderId: 'ord_done' });
    const outcome = await recover(fakes, checkout);
    expect(outcome).toEqual({ kind: 'completed', checkout });
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('lets an unexpected error propagate, leaving the checkout as it was', async () => {
    const fakes = createSagaFakes();
    const checkout = claimed(fakes, { status: 'pending' });
    const bug = new TypeError('cannot read properties of undefined');
    fakes.payment.failWith.findCharges = bug;
    await expect(recover(fakes, checkout)).rejects.toBe(bug);
    expect(stored(fakes)).toMatchObject({ status: 'pending', settleTries: 0 });
    expect(fakes.repository.writes).toEqual([]);
  });
});
