import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Checkout, CheckoutFailure } from '#lib/checkout/checkout.ts';
import { type RecoveryOptions, recoverAbandoned, recoverCheckout } from '#lib/checkout/recovery.ts';
import { ServiceOutcomeUnknownError } from '#lib/checkout/service-errors.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  recordedCheckout,
  refused,
  sampleOrder,
  unavailable,
  unknown,
} from './fakes.ts';

const ID = '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291807';
const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};

type Fakes = ReturnType<typeof createSagaFakes>;

const expired = () => new Date(FIXED_NOW.getTime() - 1_000);
const active = () => new Date(FIXED_NOW.getTime() + 30_000);

/** A checkout recorded earlier and left at `fields.status`, its lease (by default) expired. */
function seed(
  fakes: Fakes,
  fields: Partial<Checkout> & Pick<Checkout, 'status'>,
  lockedUntil: Date | null = expired(),
): Checkout {
  const checkout = recordedCheckout(ID, {
    paymentId: fields.status === 'pending' ? null : 'txn_earlier',
    ...fields,
  });
  fakes.repository.checkouts.set(checkout.id, { checkout, lockedUntil });
  return checkout;
}

function stored(fakes: Fakes, id = ID) {
  const row = fakes.repository.checkouts.get(id);
  if (!row) throw new Error(`no checkout ${id}`);
  return row.checkout;
}

const recover = (fakes: Fakes, options: Partial<RecoveryOptions> = {}) =>
  recoverAbandoned(fakes.deps, { ...OPTIONS, ...options }, fakes.budget);

const callsNamed = (fakes: Fakes, name: string) => fakes.log.filter((c) => c.name === name);

const ABANDONED = {
  kind: 'unavailable',
  reason: 'abandoned',
  message: 'The checkout could not be confirmed in time and was undone',
} as const;

const UNCONFIRMED = (step: string) => ({
  kind: 'unavailable',
  reason: 'abandoned',
  message: `The ${step} service could not confirm what it did`,
});

/** The forward calls recovery must never make: it has no card and never guesses by replaying. */
const FORWARD = ['payment.charge', 'inventory.deduct', 'order.create'];
const forwardCalls = (fakes: Fakes) => fakes.serviceCalls().filter((n) => FORWARD.includes(n));

describe('recoverAbandoned settling a checkout left pending (payment outcome unknown)', () => {
  it('asks the payment service, and refunds the charge it holds: never repeats the charge', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);

    const report = await recover(fakes);

    expect(report).toEqual({ claimed: 1, outcomes: { failed: 1 } });
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
      failure: { step: 'payment', ...ABANDONED },
      undoFailures: [],
    });
    expect(fakes.metrics.outcomes).toEqual([{ status: 'failed', failedStep: 'payment' }]);
  });

  it('ends failed with nothing to undo when the service holds no charge', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' });

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ failed: 1 });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges']);
    expect(stored(fakes)).toMatchObject({ status: 'failed', paymentId: null, undoFailures: [] });
  });

  it('reads a failed charge as no charge, and a refunded one as a charge to refund (a no-op)', async () => {
    const failedOnly = createSagaFakes();
    seed(failedOnly, { status: 'pending' });
    failedOnly.payment.charges.set(ID, [{ transactionId: 'txn_x', status: 'failed' }]);
    await recover(failedOnly);
    expect(failedOnly.serviceCalls()).toEqual(['payment.findCharges']);

    const refunded = createSagaFakes();
    seed(refunded, { status: 'pending' });
    refunded.payment.charges.set(ID, [{ transactionId: 'txn_y', status: 'refunded' }]);
    await recover(refunded);
    expect(refunded.serviceCalls()).toEqual(['payment.findCharges', 'payment.refund']);
    expect(stored(refunded)).toMatchObject({ status: 'failed', paymentId: 'txn_y' });
  });

  it('records the settled charge before undoing it, then the failure with its answer', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    await recover(fakes);
    const updates = fakes.repository.writes.flatMap((w) => (w.kind === 'update' ? [w] : []));
    expect(updates.map((w) => w.changes.status)).toEqual([
      'payment_processed',
      'compensating',
      'failed',
    ]);
    const names = fakes.log.map((c) => c.name);
    expect(names.indexOf('repository.update:payment_processed')).toBeLessThan(
      names.indexOf('payment.refund'),
    );
    const answer = updates.at(-1)?.changes.response;
    expect(answer?.statusCode).toBe(502);
    expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({
      checkout_id: ID,
      status: 'failed',
      error: 'payment_unavailable',
      reason: 'abandoned',
    });
  });
});

describe('recoverAbandoned settling a checkout left at payment_processed', () => {
  it('releases the deduction the inventory service holds, then refunds the payment', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'payment_processed' });
    fakes.inventory.deductions.set(ID, [{ status: 'deducted' }]);

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ failed: 1 });
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
      failure: { step: 'inventory', ...ABANDONED },
      compensationFrom: 'inventory_deducted',
    });
  });

  it('only refunds when the inventory service holds no deduction', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'payment_processed' });
    await recover(fakes);
    expect(fakes.serviceCalls()).toEqual(['inventory.findDeductions', 'payment.refund']);
    expect(stored(fakes)).toMatchObject({
      status: 'failed',
      compensationFrom: 'payment_processed',
    });
  });
});

describe('recoverAbandoned settling a checkout left at inventory_deducted', () => {
  it('completes the checkout with the order the service holds (an order is not undone)', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_found', status: 'created' }]);

    const report = await recover(fakes);

    expect(report).toEqual({ claimed: 1, outcomes: { completed: 1 } });
    expect(fakes.serviceCalls()).toEqual(['order.findOrders']);
    expect(stored(fakes)).toMatchObject({
      status: 'completed',
      orderId: 'ord_found',
      failure: null,
    });
    expect(fakes.repository.checkouts.get(ID)?.response?.statusCode).toBe(200);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'completed' }]);
  });

  it('releases and refunds when the order service holds no created order', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_gone', status: 'cancelled' }]);

    await recover(fakes);

    expect(fakes.serviceCalls()).toEqual([
      'order.findOrders',
      'inventory.release',
      'payment.refund',
    ]);
    expect(stored(fakes)).toMatchObject({
      status: 'failed',
      failure: { step: 'order', ...ABANDONED },
    });
  });
});

describe('recoverAbandoned finishing a checkout left compensating', () => {
  it('releases the stock, then refunds the payment, and ends failed with the original failure', async () => {
    const fakes = createSagaFakes();
    const failure: CheckoutFailure = {
      step: 'order',
      kind: 'refused',
      reason: 'invalid_address',
      message: 'the order service refused: invalid_address',
    };
    seed(fakes, { status: 'compensating', compensationFrom: 'inventory_deducted', failure });

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ failed: 1 });
    expect(fakes.serviceCalls()).toEqual(['inventory.release', 'payment.refund']);
    expect(callsNamed(fakes, 'payment.refund')[0]?.input).toMatchObject({
      transactionId: 'txn_earlier',
      reason: 'order_invalid_address',
    });
    expect(stored(fakes)).toMatchObject({ status: 'failed', failure, undoFailures: [] });
  });

  it('only refunds when compensation started from payment_processed', async () => {
    const fakes = createSagaFakes();
    seed(fakes, {
      status: 'compensating',
      compensationFrom: 'payment_processed',
      failure: {
        step: 'inventory',
        kind: 'refused',
        reason: 'out_of_stock',
        message: 'out of stock',
      },
    });
    await recover(fakes);
    expect(fakes.serviceCalls()).toEqual(['payment.refund']);
    expect(stored(fakes).status).toBe('failed');
  });

  it('repeats an undo that did not go through on the next run, counting one try', async () => {
    const fakes = createSagaFakes();
    seed(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      failure: { step: 'order', kind: 'unavailable', reason: 'http_503', message: 'down' },
    });
    fakes.payment.failWith.refund = unknown('payment');

    expect((await recover(fakes)).outcomes).toEqual({ incomplete: 1 });
    expect(stored(fakes)).toMatchObject({ status: 'compensating', settleTries: 1 });

    fakes.payment.failWith = {};
    const row = fakes.repository.checkouts.get(ID);
    if (row) row.lockedUntil = expired();
    expect((await recover(fakes)).outcomes).toEqual({ failed: 1 });
    expect(callsNamed(fakes, 'payment.refund')).toHaveLength(2);
    expect(callsNamed(fakes, 'inventory.release')).toHaveLength(2);
  });

  it('gives up an undo older than maxAgeHours even when every try was cut short by the deadline', async () => {
    const fakes = createSagaFakes();
    const old = new Date(FIXED_NOW.getTime() - 30 * 3_600_000).toISOString();
    seed(fakes, {
      status: 'compensating',
      compensationFrom: 'payment_processed',
      createdAt: old,
      failure: { step: 'inventory', kind: 'refused', reason: 'out_of_stock', message: 'x' },
    });
    fakes.payment.refund = async () => {
      fakes.deadline.abort(); // the refund hangs until the run's budget is gone
      throw unknown('payment');
    };

    await recover(fakes, { maxAgeHours: 24 });

    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['refund_payment'],
    });
  });

  it('counts the undo’s tries afresh: tries spent settling the charge do not use them up', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    fakes.payment.failWith.refund = unknown('payment');

    const report = await recover(fakes, { maxAttempts: 3 });

    expect(report.outcomes).toEqual({ incomplete: 1 });
    expect(stored(fakes)).toMatchObject({ status: 'compensating', settleTries: 1 });
  });

  it('ends requires_attention when an undo still fails on the maxAttempts-th try', async () => {
    const fakes = createSagaFakes();
    seed(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      settleTries: 2,
      failure: { step: 'order', kind: 'unavailable', reason: 'http_503', message: 'down' },
    });
    fakes.payment.failWith.refund = unavailable('payment');

    const report = await recover(fakes, { maxAttempts: 3 });

    expect(report.outcomes).toEqual({ requires_attention: 1 });
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['refund_payment'],
      failure: { step: 'order', reason: 'http_503' },
    });
    const answer = fakes.repository.checkouts.get(ID)?.response;
    expect(answer?.statusCode).toBe(502);
    expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ status: 'requires_attention' });
    const alarm = fakes.logger.lines.find(
      (l) => l.level === 'error' && l.message.includes('REQUIRES ATTENTION'),
    );
    expect(alarm?.extra[0]).toMatchObject({ checkout_id: ID, undo_failures: ['refund_payment'] });
  });
});

describe('recoverAbandoned when the lookup gets no answer', () => {
  it.each([
    { error: unknown('payment'), kind: 'an unknown outcome' },
    { error: unavailable('payment'), kind: 'an unreachable service' },
    { error: refused('payment', 'http_404'), kind: 'a refusal' },
  ])('leaves the checkout as it is after $kind, counting one try', async ({ error }) => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending', attempt: 1 });
    fakes.payment.failWith.findCharges = error;

    const report = await recover(fakes);

    expect(report).toEqual({ claimed: 1, outcomes: { incomplete: 1 } });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges']);
    expect(stored(fakes)).toMatchObject({
      status: 'pending',
      attempt: 2,
      settleTries: 1,
      failure: null,
    });
    expect(fakes.repository.writes).toEqual([]);
    expect(fakes.repository.checkouts.get(ID)?.response).toBeUndefined();
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
    expect(fakes.logger.lines.some((l) => l.message.includes('REQUIRES ATTENTION'))).toBe(false);
  });

  it('keeps it under the new lease, so the next run does not claim it again at once', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' });
    fakes.payment.failWith.findCharges = unknown('payment');
    await recover(fakes);
    expect((await recover(fakes)).claimed).toBe(0);
    expect(callsNamed(fakes, 'payment.findCharges')).toHaveLength(1);
  });

  it('ends requires_attention with undoFailures [settle_payment] on the maxAttempts-th try', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.failWith.findCharges = unknown('payment');

    const report = await recover(fakes, { maxAttempts: 3 });

    expect(report.outcomes).toEqual({ requires_attention: 1 });
    expect(forwardCalls(fakes)).toEqual([]);
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',

      undoFailures: ['settle_payment'],
      failure: { step: 'payment', ...UNCONFIRMED('payment') },
    });
    expect(fakes.metrics.outcomes).toEqual([
      { status: 'requires_attention', failedStep: 'payment' },
    ]);
    const alarm = fakes.logger.lines.find(
      (l) => l.level === 'error' && l.message.includes('REQUIRES ATTENTION'),
    );
    expect(alarm?.extra[0]).toMatchObject({ checkout_id: ID, undo_failures: ['settle_payment'] });
  });

  it('counts tries, not claims: a checkout claimed many times but never tried gets all its tries', async () => {
    const fakes = createSagaFakes();
    // A backlog: claimed by nine earlier runs that ran out of time before reaching it.
    seed(fakes, { status: 'pending', attempt: 10, settleTries: 0 });
    fakes.payment.failWith.findCharges = unknown('payment');

    const report = await recover(fakes, { maxAttempts: 3 });

    expect(report.outcomes).toEqual({ incomplete: 1 });
    expect(stored(fakes)).toMatchObject({ status: 'pending', settleTries: 1 });
  });

  it('does not count a try its own deadline cut short', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending', settleTries: 2 });
    fakes.payment.findCharges = async () => {
      fakes.deadline.abort(); // the run's budget ends while the lookup is in flight
      throw new ServiceOutcomeUnknownError('payment', 'deadline', 'no answer in time');
    };

    await recover(fakes, { maxAttempts: 3 });

    expect(stored(fakes)).toMatchObject({ status: 'pending', settleTries: 2, undoFailures: [] });
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('gives up a checkout older than maxAgeHours even when every try was cut short', async () => {
    const fakes = createSagaFakes();
    const old = new Date(FIXED_NOW.getTime() - 25 * 3_600_000).toISOString();
    seed(fakes, { status: 'pending', settleTries: 0, createdAt: old });
    fakes.payment.findCharges = async () => {
      fakes.deadline.abort();
      throw new ServiceOutcomeUnknownError('payment', 'deadline', 'no answer in time');
    };

    await recover(fakes, { maxAttempts: 3, maxAgeHours: 24 });

    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_payment'],
    });
  });

  it('gets there after maxAttempts runs, each asking once', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    seed(fakes, { status: 'pending', attempt: 1 });
    fakes.payment.failWith.findCharges = unknown('payment');
    const statuses: string[] = [];
    for (let run = 0; run < 4; run++) {
      const report = await recover(fakes, { maxAttempts: 3 });
      statuses.push(...Object.keys(report.outcomes));
      const row = fakes.repository.checkouts.get(ID);
      if (row?.lockedUntil) row.lockedUntil = expired();
    }
    expect(statuses).toEqual(['incomplete', 'incomplete', 'requires_attention']);
    expect(callsNamed(fakes, 'payment.findCharges')).toHaveLength(3);
    expect(forwardCalls(fakes)).toEqual([]);
  });

  it('names the step that stayed unsettled (settle_inventory)', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'payment_processed', settleTries: 5 });
    fakes.inventory.failWith.findDeductions = unknown('inventory');
    await recover(fakes, { maxAttempts: 3 });
    expect(stored(fakes)).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_inventory'],
    });
    expect(fakes.serviceCalls()).toEqual(['inventory.findDeductions']);
  });
});

describe('recoverAbandoned claiming checkouts', () => {
  const ids = Array.from({ length: 5 }, (_, i) => `0c7e9a52-3b1d-4f6e-8a2c-5d4b3a29180${i}`);

  it('waits settleDelayMs after the lease expired before asking (a request may still land)', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' }, new Date(FIXED_NOW.getTime() - 30_000));

    expect((await recover(fakes, { settleDelayMs: 60_000 })).claimed).toBe(0);
    expect(fakes.serviceCalls()).toEqual([]);
    expect((await recover(fakes, { settleDelayMs: 20_000 })).claimed).toBe(1);
  });

  it('does not claim a checkout whose lease is still active', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' }, active());

    const report = await recover(fakes);

    expect(report).toEqual({ claimed: 0, outcomes: {} });
    expect(fakes.serviceCalls()).toEqual([]);
    expect(stored(fakes)).toMatchObject({ status: 'pending', attempt: 1 });
    expect(fakes.repository.writes).toEqual([]);
  });

  it.each(['completed', 'failed', 'requires_attention'] as const)(
    'never touches a %s checkout, even with no lease at all',
    async (status) => {
      const fakes = createSagaFakes();
      seed(fakes, { status, failure: null }, null);
      const before = structuredClone(stored(fakes));

      const report = await recover(fakes);

      expect(report.claimed).toBe(0);
      expect(fakes.serviceCalls()).toEqual([]);
      expect(fakes.repository.writes).toEqual([]);
      expect(stored(fakes)).toEqual(before);
    },
  );

  it('claims only batchSize checkouts per run, the rest in later runs', async () => {
    const fakes = createSagaFakes();
    for (const id of ids) {
      seed(fakes, { id, status: 'inventory_deducted' });
      fakes.order.orders.set(id, [{ orderId: `ord_${id}`, status: 'created' }]);
    }

    const first = await recover(fakes, { batchSize: 2 });

    expect(first).toEqual({ claimed: 2, outcomes: { completed: 2 } });
    expect(callsNamed(fakes, 'order.findOrders')).toHaveLength(2);
    expect(callsNamed(fakes, 'repository.claimAbandoned')[0]?.input).toMatchObject({ limit: 2 });

    const second = await recover(fakes, { batchSize: 2 });
    const third = await recover(fakes, { batchSize: 2 });
    const fourth = await recover(fakes, { batchSize: 2 });

    expect([second.claimed, third.claimed, fourth.claimed]).toEqual([2, 1, 0]);
    const ordered = callsNamed(fakes, 'order.findOrders').map(
      (c) => (c.input as { checkoutId: string }).checkoutId,
    );
    expect([...ordered].sort()).toEqual(ids);
    expect(ids.map((id) => stored(fakes, id).status)).toEqual(Array(5).fill('completed'));
  });

  it('never processes a checkout twice when two runs overlap', async () => {
    const fakes = createSagaFakes();
    for (const id of ids) {
      seed(fakes, { id, status: 'pending' });
      fakes.payment.charges.set(id, [{ transactionId: `txn_${id}`, status: 'success' }]);
    }
    // Slow services, so both runs are in the middle of their work at the same time.
    const findCharges = fakes.payment.findCharges.bind(fakes.payment);
    fakes.payment.findCharges = async (checkoutId) => {
      await sleep(5);
      return findCharges(checkoutId);
    };
    const refund = fakes.payment.refund.bind(fakes.payment);
    fakes.payment.refund = async (input) => {
      await sleep(5);
      return refund(input);
    };

    const reports = await Promise.all([
      recover(fakes, { batchSize: 3 }),
      recover(fakes, { batchSize: 3 }),
    ]);

    expect(reports.map((r) => r.claimed).sort()).toEqual([2, 3]);
    const asked = callsNamed(fakes, 'payment.findCharges').map(
      (c) => (c.input as { checkoutId: string }).checkoutId,
    );
    expect([...asked].sort()).toEqual(ids);
    expect(callsNamed(fakes, 'payment.refund')).toHaveLength(5);
    expect(reports.flatMap((r) => Object.entries(r.outcomes))).toEqual([
      ['failed', 3],
      ['failed', 2],
    ]);
    expect(ids.map((id) => stored(fakes, id).attempt)).toEqual(Array(5).fill(2));
  });

  it('never claims more than are abandoned, whatever the interleaving of many runs', async () => {
    const fakes = createSagaFakes();
    for (const id of ids) {
      seed(fakes, { id, status: 'payment_processed' });
      fakes.inventory.deductions.set(id, [{ status: 'deducted' }]);
    }
    const findDeductions = fakes.inventory.findDeductions.bind(fakes.inventory);
    fakes.inventory.findDeductions = async (checkoutId) => {
      await sleep(Math.floor(Math.random() * 4));
      return findDeductions(checkoutId);
    };

    const reports = await Promise.all(
      Array.from({ length: 4 }, () => recover(fakes, { batchSize: 2 })),
    );

    expect(reports.reduce((n, r) => n + r.claimed, 0)).toBe(5);
    const deducted = callsNamed(fakes, 'inventory.findDeductions').map(
      (c) => (c.input as { checkoutId: string }).checkoutId,
    );
    expect(new Set(deducted).size).toBe(deducted.length);
    expect(callsNamed(fakes, 'inventory.release')).toHaveLength(5);
  });

  it('stops picking up claimed checkouts once the deadline has passed', async () => {
    const fakes = createSagaFakes();
    for (const id of ids) {
      seed(fakes, { id, status: 'inventory_deducted' });
      fakes.order.orders.set(id, [{ orderId: `ord_${id}`, status: 'created' }]);
    }
    const findOrders = fakes.order.findOrders.bind(fakes.order);
    fakes.order.findOrders = async (checkoutId) => {
      fakes.deadline.abort();
      return findOrders(checkoutId);
    };

    const report = await recover(fakes);

    expect(report.claimed).toBe(5);
    expect(report.outcomes).toEqual({ completed: 1 });
    expect(callsNamed(fakes, 'order.findOrders')).toHaveLength(1);
  });

  it('counts a checkout taken over by another worker mid-recovery, writing nothing more', async () => {
    const fakes = createSagaFakes();
    seed(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    const findCharges = fakes.payment.findCharges.bind(fakes.payment);
    fakes.payment.findCharges = async (checkoutId) => {
      // Meanwhile the client retried with the same key after the lease ended: a take-over.
      const row = fakes.repository.checkouts.get(ID);
      if (row) row.lockedUntil = expired();
      await fakes.repository.takeOver(ID, 60_000);
      return findCharges(checkoutId);
    };

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ taken_over: 1 });
    expect(fakes.repository.writes).toEqual([]);
    expect(stored(fakes)).toMatchObject({ status: 'pending', attempt: 3 });
    expect(callsNamed(fakes, 'payment.refund')).toEqual([]);
  });
});

describe('recoverCheckout', () => {
  it('answers a final checkout’s status without calling anything', async () => {
    const fakes = createSagaFakes();
    const checkout = seed(fakes, { status: 'completed' }, null);
    const result = await recoverCheckout(fakes.deps, checkout, OPTIONS, fakes.budget);
    expect(result.body).toMatchObject({ status: 'completed' });
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('answers 503 incomplete for a settle left for the next run', async () => {
    const fakes = createSagaFakes();
    const checkout = seed(fakes, { status: 'pending', attempt: 1 });
    fakes.payment.failWith.findCharges = unknown('payment');
    const result = await recoverCheckout(fakes.deps, checkout, OPTIONS, fakes.budget);
    expect(result).toMatchObject({ statusCode: 503, body: { status: 'pending' } });
  });

  it('lets an unexpected error propagate and recoverAbandoned counts it as an error', async () => {
    const fakes = createSagaFakes();
    const checkout = seed(fakes, { status: 'pending' });
    const bug = new TypeError('cannot read properties of undefined');
    fakes.payment.failWith.findCharges = bug;
    await expect(recoverCheckout(fakes.deps, checkout, OPTIONS, fakes.budget)).rejects.toBe(bug);

    const again = createSagaFakes();
    seed(again, { status: 'pending' });
    again.payment.failWith.findCharges = bug;
    expect((await recover(again)).outcomes).toEqual({ error: 1 });
    expect(stored(again).status).toBe('pending');
    expect(again.logger.lines.some((l) => l.level === 'error')).toBe(true);
  });
});
