import { describe, expect, it } from 'vitest';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { runSaga } from '#lib/checkout/saga.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  recordedCheckout,
  refused,
  sampleCard,
  sampleOrder,
  unavailable,
  unknown,
} from './fakes.ts';

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

function run(fakes: ReturnType<typeof createSagaFakes>) {
  return processCheckout(fakes.deps, { order: sampleOrder(), card: sampleCard() }, fakes.budget);
}

function stored(fakes: ReturnType<typeof createSagaFakes>) {
  const row = fakes.repository.checkouts.get(ID);
  if (!row) throw new Error('the checkout was not recorded');
  return row;
}

const updatedStatuses = (fakes: ReturnType<typeof createSagaFakes>) =>
  fakes.repository.writes.flatMap((w) => (w.kind === 'update' ? [w.changes.status] : []));

describe('processCheckout when every service succeeds', () => {
  it('answers 200 with the completed checkout and the exact total', async () => {
    const fakes = createSagaFakes();
    const result = await run(fakes);
    expect(result.statusCode).toBe(200);
    expect(result.retryAfterSeconds).toBeUndefined();
    expect(result.body).toEqual({
      checkout_id: ID,
      status: 'completed',
      total_amount: '349.70',
      currency: 'BRL',
      payment_id: 'txn_0001',
      order_id: 'ord_0001',
      error: null,
    });
  });

  it('charges, deducts and orders in that order, each keyed by the checkout id', async () => {
    const fakes = createSagaFakes();
    await run(fakes);
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
    const [charge, deduct, create] = fakes.log.filter((c) => !c.name.startsWith('repository.'));
    expect(charge?.input).toEqual({
      checkoutId: ID,
      amountCents: 34_970,
      currency: 'BRL',
      card: sampleCard(),
      customerEmail: 'customer@example.com',
    });
    expect(deduct?.input).toEqual({ checkoutId: ID, items: sampleOrder().items });
    expect(create?.input).toMatchObject({
      checkoutId: ID,
      totalCents: 34_970,
      paymentId: 'txn_0001',
      items: sampleOrder().items,
      shippingAddress: sampleOrder().shippingAddress,
    });
  });

  it('records the checkout as pending, under a lease, before calling any service', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    await run(fakes);
    expect(fakes.log[0]?.name).toBe('repository.create');
    const insert = fakes.repository.writes[0];
    expect(insert?.kind).toBe('insert');
    if (insert?.kind !== 'insert') return;
    expect(insert.checkout).toMatchObject({ id: ID, status: 'pending', totalCents: 34_970 });
    expect(insert.leaseMs).toBe(60_000);
  });

  it('writes exactly one insert and three updates, one per step', async () => {
    const fakes = createSagaFakes();
    await run(fakes);
    expect(fakes.repository.writes.map((w) => w.kind)).toEqual([
      'insert',
      'update',
      'update',
      'update',
    ]);
    expect(fakes.repository.writes.length).toBeLessThanOrEqual(4);
    expect(updatedStatuses(fakes)).toEqual([
      'payment_processed',
      'inventory_deducted',
      'completed',
    ]);
  });

  it('leaves the stored checkout completed with its payment and order ids', async () => {
    const fakes = createSagaFakes();
    await run(fakes);
    expect(stored(fakes).checkout).toMatchObject({
      status: 'completed',
      paymentId: 'txn_0001',
      orderId: 'ord_0001',
      failure: null,
      undoFailures: [],
    });
  });

  it('stores for replay exactly the answer it returns', async () => {
    const fakes = createSagaFakes();
    const result = await run(fakes);
    expect(stored(fakes).response).toEqual({
      statusCode: 200,
      body: JSON.stringify(result.body),
    });
  });

  it('never stores or logs the card number or CVV', async () => {
    const fakes = createSagaFakes();
    await run(fakes);
    const written = JSON.stringify(fakes.repository.writes);
    const logged = JSON.stringify(fakes.logger.lines);
    for (const text of [written, logged]) {
      expect(text).not.toContain('4111111111111111');
      expect(text).not.toContain('987');
    }
  });
});

describe('processCheckout when the payment fails', () => {
  it('answers 422 payment_failed when the payment is refused, and undoes nothing', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = refused('payment', 'insufficient_funds');
    const result = await run(fakes);
    expect(result.statusCode).toBe(422);
    expect(result.body).toEqual({
      checkout_id: ID,
      status: 'failed',
      error: 'payment_failed',
      reason: 'insufficient_funds',
      message: 'the payment service refused: insufficient_funds',
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(stored(fakes).checkout.status).toBe('failed');
    expect(updatedStatuses(fakes)).toEqual(['failed']);
  });

  it('answers 502 payment_unavailable when the payment service is unavailable', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unavailable('payment');
    const result = await run(fakes);
    expect(result.statusCode).toBe(502);
    expect(result.body).toMatchObject({
      status: 'failed',
      error: 'payment_unavailable',
      reason: 'http_503',
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(stored(fakes).checkout).toMatchObject({
      status: 'failed',
      failure: { step: 'payment', kind: 'unavailable', reason: 'http_503' },
    });
  });

  it('stores the failure answer it returns', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = refused('payment', 'insufficient_funds');
    const result = await run(fakes);
    expect(stored(fakes).response).toEqual({
      statusCode: 422,
      body: JSON.stringify(result.body),
    });
  });
});

describe('processCheckout when the inventory fails', () => {
  it('answers 422 inventory_failed and refunds the full charge once, releasing nothing', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    const result = await run(fakes);
    expect(result.statusCode).toBe(422);
    expect(result.body).toMatchObject({
      checkout_id: ID,
      status: 'failed',
      error: 'inventory_failed',
      reason: 'out_of_stock',
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'payment.refund']);
    const refunds = fakes.log.filter((c) => c.name === 'payment.refund');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]?.input).toMatchObject({
      checkoutId: ID,
      transactionId: 'txn_0001',
      amountCents: 34_970,
      currency: 'BRL',
    });
  });

  it('records compensating before undoing, then failed', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    await run(fakes);
    expect(updatedStatuses(fakes)).toEqual(['payment_processed', 'compensating', 'failed']);
    const names = fakes.log.map((c) => c.name);
    expect(names.indexOf('repository.update:compensating')).toBeLessThan(
      names.indexOf('payment.refund'),
    );
    expect(stored(fakes).checkout.status).toBe('failed');
  });

  it('answers 502 inventory_unavailable and refunds when the inventory is unavailable', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unavailable('inventory');
    const result = await run(fakes);
    expect(result.statusCode).toBe(502);
    expect(result.body).toMatchObject({ status: 'failed', error: 'inventory_unavailable' });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'payment.refund']);
  });
});

describe('processCheckout when the order fails', () => {
  it('answers 422 order_failed and releases the stock, then refunds the payment', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    const result = await run(fakes);
    expect(result.statusCode).toBe(422);
    expect(result.body).toMatchObject({
      status: 'failed',
      error: 'order_failed',
      reason: 'invalid_address',
    });
    expect(fakes.serviceCalls()).toEqual([
      'payment.charge',
      'inventory.deduct',
      'order.create',
      'inventory.release',
      'payment.refund',
    ]);
    const release = fakes.log.find((c) => c.name === 'inventory.release');
    expect(release?.input).toEqual({ checkoutId: ID, items: sampleOrder().items });
    expect(stored(fakes).checkout.status).toBe('failed');
  });

  it('answers 502 order_unavailable and releases, then refunds', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unavailable('order');
    const result = await run(fakes);
    expect(result.statusCode).toBe(502);
    expect(result.body).toMatchObject({ status: 'failed', error: 'order_unavailable' });
    expect(fakes.serviceCalls().slice(-2)).toEqual(['inventory.release', 'payment.refund']);
  });
});

describe('processCheckout when an undo does not go through', () => {
  it('leaves the checkout compensating and answers 503: the refund may have acted and is repeated', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    fakes.payment.failWith.refund = unknown('payment');
    const result = await run(fakes);
    expect(result.statusCode).toBe(503);
    expect(result.body).toMatchObject({
      checkout_id: ID,
      status: 'compensating',
      error: 'checkout_incomplete',
    });
    expect(stored(fakes).checkout).toMatchObject({
      status: 'compensating',
      compensationFrom: 'payment_processed',
      failure: { step: 'inventory', kind: 'refused', reason: 'out_of_stock' },
      undoFailures: [],
    });
    expect(stored(fakes).response).toBeUndefined();
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
    expect(fakes.logger.lines.some((l) => l.message.includes('REQUIRES ATTENTION'))).toBe(false);
  });

  it('still refunds when the release fails, and stays compensating', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    fakes.inventory.failWith.release = unavailable('inventory');
    const result = await run(fakes);
    expect(fakes.serviceCalls().slice(-2)).toEqual(['inventory.release', 'payment.refund']);
    expect(result.statusCode).toBe(503);
    expect(stored(fakes).checkout).toMatchObject({
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
    });
  });

  it('lets an unexpected error in an undo propagate rather than guess', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unavailable('order');
    const bug = new TypeError('socket closed');
    fakes.payment.failWith.refund = bug;
    await expect(run(fakes)).rejects.toBe(bug);
    expect(stored(fakes).checkout.status).toBe('compensating');
  });
});

describe('processCheckout when a step’s outcome is unknown', () => {
  it.each([
    { step: 'payment', status: 'pending', calls: ['payment.charge'] },
    {
      step: 'inventory',
      status: 'payment_processed',
      calls: ['payment.charge', 'inventory.deduct'],
    },
    {
      step: 'order',
      status: 'inventory_deducted',
      calls: ['payment.charge', 'inventory.deduct', 'order.create'],
    },
  ] as const)(
    'leaves the checkout at $status when the $step outcome is unknown, answering 503',
    async ({ step, status, calls }) => {
      const fakes = createSagaFakes({ leaseMs: 60_000 });
      if (step === 'payment') fakes.payment.failWith.charge = unknown('payment');
      if (step === 'inventory') fakes.inventory.failWith.deduct = unknown('inventory');
      if (step === 'order') fakes.order.failWith.create = unknown('order');

      const result = await run(fakes);

      expect(result.statusCode).toBe(503);
      expect(result.retryAfterSeconds).toBe(60);
      expect(result.body).toMatchObject({ checkout_id: ID, status, error: 'checkout_incomplete' });
      expect(fakes.serviceCalls()).toEqual(calls);
      expect(stored(fakes).checkout.status).toBe(status);
      expect(stored(fakes).response).toBeUndefined();
      expect(updatedStatuses(fakes)).not.toContain('compensating');
      expect(updatedStatuses(fakes)).not.toContain('failed');
    },
  );

  it('rounds the retry hint up to whole seconds of the lease', async () => {
    const fakes = createSagaFakes({ leaseMs: 1_500 });
    fakes.payment.failWith.charge = unknown('payment');
    expect((await run(fakes)).retryAfterSeconds).toBe(2);
  });
});

describe('runSaga resuming a recorded checkout', () => {
  it('continues from payment_processed without charging again', async () => {
    const fakes = createSagaFakes();
    const checkout = recordedCheckout(ID, {
      status: 'payment_processed',
      paymentId: 'txn_earlier',
    });
    fakes.repository.checkouts.set(ID, { checkout, lockedUntil: FIXED_NOW });
    const result = await runSaga(fakes.deps, checkout, sampleCard(), fakes.budget);
    expect(fakes.serviceCalls()).toEqual(['inventory.deduct', 'order.create']);
    expect(result.body).toMatchObject({ status: 'completed', payment_id: 'txn_earlier' });
  });
});

describe('processCheckout when something other than a service fails', () => {
  it('lets a repository error propagate', async () => {
    const fakes = createSagaFakes();
    const failure = new Error('connection terminated');
    fakes.repository.failWith.update = failure;
    await expect(run(fakes)).rejects.toBe(failure);
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
  });

  it('calls no service when the checkout cannot be recorded', async () => {
    const fakes = createSagaFakes();
    fakes.repository.failWith.create = new Error('database unavailable');
    await expect(run(fakes)).rejects.toThrow('database unavailable');
    expect(fakes.serviceCalls()).toEqual([]);
  });

  it('lets an unexpected error from a service propagate without undoing anything', async () => {
    const fakes = createSagaFakes();
    const bug = new TypeError('cannot read properties of undefined');
    fakes.inventory.failWith.deduct = bug;
    await expect(run(fakes)).rejects.toBe(bug);
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct']);
  });
});
