import { describe, expect, it } from 'vitest';
import type { Checkout } from '#lib/checkout/checkout.ts';
import type { IdempotencyClaim } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { type RecoveryOptions, recoverCheckout } from '#lib/checkout/recovery.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  leftBehindWithKey,
  outcomeOfKind,
  recordedCheckout,
  refused,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
  unknown,
} from './fakes.ts';

/**
 * A checkout goes forward only from steps that stand now (issue 19, design §4a): a step that
 * happened and was undone since (an operator's refund in the payment console, a release of the
 * stock), or that a provider replays as a stored success, must never lead to a completed
 * checkout; an undo that is already done needs no attention; a legacy `compensating` row undoes
 * what the services hold; a confirmed decline on a takeover is a decline; and a database that
 * stops answering after a takeover is answered with the checkout as this worker left it.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const claim = (): IdempotencyClaim => ({
  key: 'order-42',
  caller: 'api-key:shop-a',
  requestHash: 'hash-of-the-request',
  ttlHours: 24,
});
const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};

/** A keyed checkout left at `fields.status` by a first worker, its lease expired. */
function leftBehind(fakes: SagaFakes, fields: Partial<Checkout> & Pick<Checkout, 'status'>) {
  const checkout = recordedCheckout(ID, {
    paymentId: fields.status === 'pending' ? null : 'txn_0001',
    ...fields,
  });
  return leftBehindWithKey(fakes, checkout, claim());
}

/** An operator refunds the charge in the payment console; a refund of it again is refused. */
function refundedInConsole(fakes: SagaFakes, transactionId = 'txn_0001') {
  fakes.payment.charges.set(ID, [{ transactionId, status: 'refunded' }]);
  fakes.payment.failWith.refund = refused('payment', 'refund_exceeds_charge');
}

/** An operator releases the stock in the inventory console; a release again is refused. */
function releasedInConsole(fakes: SagaFakes) {
  fakes.inventory.deductions.set(ID, [{ status: 'released' }]);
  fakes.inventory.failWith.release = refused('inventory', 'nothing_to_release');
}

const retry = (fakes: SagaFakes, settleDelayMs?: number) =>
  processCheckout(
    { ...fakes.deps, settleDelayMs },
    { cart: sampleCart(), secrets: sampleSecrets(), idempotency: claim() },
    fakes.budget,
  );

/** One recovery run's claim of the checkout (its lease expired) and its recovery. */
async function recover(fakes: SagaFakes) {
  storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
  const { leaseMs, worker } = fakes.budget;
  const { claimed } = await fakes.repository.claimAbandoned(1, leaseMs, 0, worker);
  const [checkout] = claimed;
  if (!checkout) throw new Error('recovery claimed nothing');
  return recoverCheckout(fakes.deps, checkout, OPTIONS, fakes.budget);
}

const FORWARD = ['payment.charge', 'inventory.deduct', 'order.create'];
const forwardCalls = (fakes: SagaFakes) => fakes.serviceCalls().filter((n) => FORWARD.includes(n));

describe('a same-key retry that takes a checkout over', () => {
  it('never completes on a charge refunded since, even when the provider would replay its success', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'pending' });
    refundedInConsole(fakes); // the fake's charge would answer success again for the key

    const outcome = outcomeOfKind(await retry(fakes), 'refused');

    // The repeated charge was answered with the stored success; the record said refunded.
    expect(forwardCalls(fakes)).toEqual(['payment.charge']);
    expect(outcome.checkout).toMatchObject({ status: 'failed', paymentId: 'txn_0001' });
    expect(outcome.failure).toMatchObject({ step: 'payment', reason: 'undone_outside_checkout' });
    // The refund it tried was refused as already done, which the record confirmed.
    expect(fakes.serviceCalls()).toEqual([
      'payment.charge',
      'payment.findCharges',
      'payment.refund',
      'payment.findCharges',
    ]);
    expect(storedRow(fakes, ID).response?.code).toBe(422);
  });

  it('does not go forward from a charge refunded while the stock step was open: it waits for recovery, which undoes the rest', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    refundedInConsole(fakes);

    const outcome = await retry(fakes);

    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'payment_processed' },
    });
    expect(forwardCalls(fakes)).toEqual([]);

    const recovered = await recover(fakes);
    expect(recovered).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(forwardCalls(fakes)).toEqual([]);
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
  });

  it('records a deduction that landed after the charge was refunded, and releases it', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.inventory.deductions.set(ID, [{ status: 'deducted' }]); // the first try's deduct landed
    refundedInConsole(fakes);

    const outcome = outcomeOfKind(await retry(fakes), 'refused');

    expect(outcome.checkout.status).toBe('failed');
    expect(fakes.inventory.deductions.get(ID)).toEqual([{ status: 'released' }]);
    expect(forwardCalls(fakes)).toEqual([]);
  });

  it('does not create the order on stock released since: it undoes the rest and ends failed', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    releasedInConsole(fakes);

    expect(await retry(fakes)).toMatchObject({ kind: 'incomplete' });
    const recovered = await recover(fakes);

    expect(recovered).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(forwardCalls(fakes)).toEqual([]);
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
  });

  it('asks for attention when the order exists on a charge refunded since: an order cannot be undone', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_landed', status: 'created' }]);
    refundedInConsole(fakes);

    const outcome = outcomeOfKind(await retry(fakes), 'refused');

    expect(outcome.checkout).toMatchObject({
      status: 'requires_attention',
      orderId: 'ord_landed',
      undoFailures: ['payment_undone_under_order'],
    });
    expect(forwardCalls(fakes)).toEqual([]);
  });

  it('answers a decline the payment service holds as a decline (422), not as abandoned', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'pending' });
    // The first try was declined, but its answer was lost (the client got 503).
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_declined', status: 'failed' }]);
    fakes.payment.failWith.charge = refused('payment', 'insufficient_funds');

    const outcome = outcomeOfKind(await retry(fakes), 'refused');

    expect(outcome.failure).toMatchObject({ step: 'payment', reason: 'insufficient_funds' });
    expect(outcome.checkout.status).toBe('failed');
    expect(storedRow(fakes, ID).response?.code).toBe(422);
  });

  it('answers the status it reached and schedules recovery as itself when the database stops answering', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'pending' });
    const update = fakes.repository.update.bind(fakes.repository);
    let writes = 0;
    fakes.repository.update = async (checkout, changes) => {
      if (++writes === 2) throw new DatabaseUnavailableError();
      return update(checkout, changes);
    };

    const outcome = await retry(fakes);

    // Charged and recorded at payment_processed, then the database went away.
    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'payment_processed', attempt: 2 },
    });
    expect(fakes.scheduler.scheduled).toEqual([expect.objectContaining({ id: ID, attempt: 2 })]);
  });
});

describe('recovery of a checkout whose steps were undone outside it', () => {
  it('ends failed, not requires_attention, when the refund it owes was already made in the console', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    refundedInConsole(fakes);

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual([]);
  });

  it('still asks for attention when the refund is refused and the charge stands', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.payment.failWith.refund = refused('payment', 'refund_rejected');

    await recover(fakes);
    await recover(fakes);
    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ checkout: { status: 'requires_attention' } });
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual(['refund_payment']);
  });

  it('asks for attention, keeping the order id, when the order exists on stock released since', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_landed', status: 'created' }]);
    releasedInConsole(fakes);

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({
      checkout: {
        status: 'requires_attention',
        orderId: 'ord_landed',
        undoFailures: ['inventory_undone_under_order'],
      },
    });
  });

  it('leaves the checkout open when it cannot tell whether the steps under a found order stand', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_landed', status: 'created' }]);
    fakes.payment.failWith.findCharges = unknown('payment');

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ kind: 'incomplete' });
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'inventory_deducted',
      settleTries: 1,
    });
  });
});

describe('a compensating row written before compensation_from existed', () => {
  it('undoes every step the services hold: releases the stock and refunds the charge', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'compensating', compensationFrom: null });
    fakes.inventory.deductions.set(ID, [{ status: 'deducted' }]);

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ checkout: { status: 'failed' } });
    expect(fakes.inventory.deductions.get(ID)).toEqual([{ status: 'released' }]);
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
  });

  it('finds the charge to refund in the payment service when the row has no transaction id', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'compensating', compensationFrom: null, paymentId: null });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    fakes.inventory.failWith.release = refused('inventory', 'nothing_to_release');

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ checkout: { status: 'failed', undoFailures: [] } });
    const refund = fakes.log.find((c) => c.name === 'payment.refund');
    expect(refund?.input).toMatchObject({ transactionId: 'txn_found' });
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_found', status: 'refunded' },
    ]);
  });
});

describe('a record that holds nothing of a step the checkout recorded proves nothing', () => {
  it('does not count a refused refund as done when the lookup shows no charge (it lags, or is a copy)', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.payment.failWith.refund = refused('payment', 'charge_disputed');
    fakes.payment.charges.set(ID, []); // the lookup lags behind the charge the row records

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ kind: 'incomplete', checkout: { status: 'compensating' } });
    expect(storedRow(fakes, ID).checkout.settleTries).toBe(1);
  });

  it('does not ask for attention over an order when the charge lookup shows nothing', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_landed', status: 'created' }]);
    fakes.payment.charges.set(ID, []);

    const outcome = await recover(fakes);

    expect(outcome).toMatchObject({ kind: 'incomplete' });
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'inventory_deducted',
      undoFailures: [],
    });
  });

  it('does not refund a charge the row records on a takeover when the lookup shows nothing', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.payment.charges.set(ID, []);

    const outcome = await retry(fakes);

    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'payment_processed' },
    });
    expect(fakes.serviceCalls()).toEqual(['payment.findCharges']);
  });
});

describe('a refusal heard by a takeover once the earlier worker’s requests cannot land', () => {
  it('answers out of stock with 422 after the settle delay, and undoes the charge', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');

    const outcome = outcomeOfKind(await retry(fakes, 0), 'refused');

    expect(outcome.failure).toMatchObject({ step: 'inventory', reason: 'out_of_stock' });
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
    expect(storedRow(fakes, ID).response?.code).toBe(422);
  });

  it('answers a refused order with 422 after the settle delay, stock released and charge refunded', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.failWith.create = refused('order', 'invalid_address');

    const outcome = outcomeOfKind(await retry(fakes, 0), 'refused');

    expect(outcome.failure).toMatchObject({ step: 'order', reason: 'invalid_address' });
    expect(fakes.inventory.deductions.get(ID)).toEqual([{ status: 'released' }]);
  });

  it('leaves it open (503) while the earlier worker’s request may still land', async () => {
    const fakes = createSagaFakes();
    leftBehind(fakes, { status: 'payment_processed' });
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');

    expect(await retry(fakes, 60_000)).toMatchObject({ kind: 'incomplete' });
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'success' },
    ]);
  });
});

describe('a database that stops answering while a checkout is undone', () => {
  it('answers 503 with the status it holds (compensating), not the one it was recorded with', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    const update = fakes.repository.update.bind(fakes.repository);
    fakes.repository.update = async (checkout, changes) => {
      if (changes.status === 'failed') throw new DatabaseUnavailableError();
      return update(checkout, changes);
    };

    const outcome = await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );

    expect(outcome).toMatchObject({ kind: 'incomplete', checkout: { status: 'compensating' } });
    expect(storedRow(fakes, ID).checkout.status).toBe('compensating');
  });
});
