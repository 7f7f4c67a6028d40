import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { workBudget } from '#lib/checkout/lease.ts';
import type { CallOptions, PaymentService } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { ServiceOutcomeUnknownError } from '#lib/checkout/service-errors.ts';
import { createRecoveryScheduler } from '#lib/clients/recovery-scheduler.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { renderFinished } from '#lib/http/checkout-presenter.ts';
import {
  callOrder,
  createSagaFakes,
  FakeLogger,
  FIXED_NOW,
  failForward,
  outcomeOfKind,
  refused,
  type SagaFakes,
  sampleCard,
  sampleCart,
  sampleOrder,
  sampleSecrets,
  storedRow,
  unavailable,
  unknown,
  updatedStatuses,
} from './fakes.ts';

/**
 * `processCheckout` for a request without an `Idempotency-Key`: the saga run through the use
 * case, from the recorded checkout to its outcome. Repeated keys are in
 * `process-checkout-idempotency.test.ts`; how an outcome is answered over HTTP, in
 * `checkout-presenter.test.ts`.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

const checkout = (fakes: SagaFakes) =>
  processCheckout(fakes.deps, { cart: sampleCart(), secrets: sampleSecrets() }, fakes.budget);

const stored = (fakes: SagaFakes) => storedRow(fakes, ID);

describe('processCheckout when the deadline has passed before the cart is priced', () => {
  it('records nothing and calls no service: pricing_unavailable', async () => {
    const fakes = createSagaFakes();
    fakes.deadline.abort();

    expect(await checkout(fakes)).toMatchObject({ kind: 'pricing_unavailable' });
    expect(fakes.repository.writes).toEqual([]);
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('processCheckout when every service succeeds', () => {
  it('completes the checkout with its exact total and the payment and order ids', async () => {
    const fakes = createSagaFakes();
    const outcome = await checkout(fakes);
    expect(outcome).toEqual({
      kind: 'completed',
      checkout: expect.objectContaining({
        id: ID,
        status: 'completed',
        totalCents: 34_970,
        currency: 'BRL',
        paymentId: 'txn_0001',
        orderId: 'ord_0001',
        failure: null,
        undoFailures: [],
      }),
    });
  });

  it('charges, deducts and orders in that order, each keyed by the checkout id', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
    const [charge, deduct, create] = fakes.log.filter((c) =>
      /^(payment|inventory|order)\./.test(c.name),
    );
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
    await checkout(fakes);
    expect(fakes.log.map((c) => c.name).slice(0, 3)).toEqual([
      'catalog.quote',
      'repository.create',
      'payment.charge',
    ]);
    expect(fakes.repository.writes[0]).toMatchObject({
      kind: 'insert',
      checkout: { id: ID, status: 'pending', totalCents: 34_970 },
      leaseMs: 60_000,
    });
  });

  it('writes exactly one insert and three updates, one per step', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    expect(fakes.repository.writes.map((w) => w.kind)).toEqual([
      'insert',
      'update',
      'update',
      'update',
    ]);
    expect(updatedStatuses(fakes)).toEqual([
      'payment_processed',
      'inventory_deducted',
      'completed',
    ]);
  });

  it('leaves the stored checkout completed with its payment and order ids', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    expect(stored(fakes).checkout).toMatchObject({
      status: 'completed',
      paymentId: 'txn_0001',
      orderId: 'ord_0001',
      failure: null,
      undoFailures: [],
    });
  });

  it('logs the completion with how long each step took, in whole milliseconds', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    const completed = fakes.logger.lines.find((l) => l.message === 'checkout completed');
    expect(completed?.extra[0]).toMatchObject({
      checkout_id: ID,
      step_ms: {
        charge: expect.any(Number),
        deduct: expect.any(Number),
        create_order: expect.any(Number),
      },
    });
    const extra = completed?.extra[0] as { step_ms?: Record<string, number> } | undefined;
    const stepMs = Object.values(extra?.step_ms ?? {});
    expect(stepMs).toHaveLength(3);
    expect(stepMs.every((ms) => Number.isInteger(ms) && ms >= 0)).toBe(true);
  });

  it('stores with the final state the answer rendered from the outcome it returns, ending the lease', async () => {
    const fakes = createSagaFakes();
    const outcome = outcomeOfKind(await checkout(fakes), 'completed');
    expect(stored(fakes).response).toEqual(renderFinished(outcome));
    expect(stored(fakes).lockedUntil).toBeNull();
  });

  it('never stores or logs the card number or CVV', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    const written = JSON.stringify(fakes.repository.writes);
    const logged = JSON.stringify(fakes.logger.lines);
    for (const text of [written, logged]) {
      expect(text).not.toContain('4111111111111111');
      expect(text).not.toContain('987');
    }
  });
});

describe('processCheckout when the payment fails', () => {
  it('ends the checkout failed as refused when the payment is refused, undoing nothing', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = refused('payment', 'insufficient_funds');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'refused',
      checkout: { id: ID, status: 'failed', undoFailures: [] },
      failure: {
        step: 'payment',
        kind: 'refused',
        reason: 'insufficient_funds',
        message: 'the payment service refused: insufficient_funds',
      },
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(stored(fakes).checkout.status).toBe('failed');
    expect(updatedStatuses(fakes)).toEqual(['failed']);
  });

  it('ends the checkout failed as unavailable when the payment service is unavailable', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unavailable('payment');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed' },
      failure: { step: 'payment', kind: 'unavailable', reason: 'http_503' },
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(stored(fakes).checkout).toMatchObject({
      status: 'failed',
      failure: { step: 'payment', kind: 'unavailable', reason: 'http_503' },
    });
  });

  it('stores the answer rendered from the failure it returns', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = refused('payment', 'insufficient_funds');
    const outcome = outcomeOfKind(await checkout(fakes), 'refused');
    expect(stored(fakes).response).toEqual(renderFinished(outcome));
  });
});

describe('processCheckout when the inventory fails', () => {
  it('ends refused when the stock is refused and refunds the full charge once, releasing nothing', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'refused',
      checkout: { id: ID, status: 'failed' },
      failure: { step: 'inventory', reason: 'out_of_stock' },
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
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
  });

  it('records compensating before undoing, then failed', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    await checkout(fakes);
    expect(updatedStatuses(fakes)).toEqual(['payment_processed', 'compensating', 'failed']);
    expect(callOrder(fakes, 'repository.update:compensating', 'payment.refund')).toEqual([
      'repository.update:compensating',
      'payment.refund',
    ]);
    expect(stored(fakes).checkout.status).toBe('failed');
  });

  it('ends unavailable and refunds when the inventory service is unavailable', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unavailable('inventory');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed' },
      failure: { step: 'inventory' },
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'payment.refund']);
  });
});

describe('processCheckout when the order fails', () => {
  it('ends refused when the order is refused, releasing the stock, then refunding the payment', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'refused',
      checkout: { status: 'failed' },
      failure: { step: 'order', reason: 'invalid_address' },
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

  it('ends unavailable when the order service is unavailable, releasing, then refunding', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unavailable('order');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed' },
      failure: { step: 'order' },
    });
    expect(fakes.serviceCalls().slice(-2)).toEqual(['inventory.release', 'payment.refund']);
  });
});

describe('processCheckout when an undo does not go through', () => {
  it('leaves the checkout compensating and incomplete: the refund may have acted and is repeated', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    fakes.payment.failWith.refund = unknown('payment');
    const outcome = await checkout(fakes);
    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { id: ID, status: 'compensating' },
      retryInMs: 60_000,
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
    const outcome = await checkout(fakes);
    expect(fakes.serviceCalls().slice(-2)).toEqual(['inventory.release', 'payment.refund']);
    expect(outcome).toMatchObject({ kind: 'incomplete', checkout: { status: 'compensating' } });
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
    await expect(checkout(fakes)).rejects.toBe(bug);
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
    'leaves the checkout incomplete at $status when the $step outcome is unknown, to retry after the lease',
    async ({ step, status, calls }) => {
      const fakes = createSagaFakes({ leaseMs: 60_000 });
      failForward(fakes, unknown(step));

      const outcome = await checkout(fakes);

      expect(outcome).toMatchObject({
        kind: 'incomplete',
        checkout: { id: ID, status },
        retryInMs: 60_000,
      });
      expect(fakes.serviceCalls()).toEqual(calls);
      expect(stored(fakes).checkout.status).toBe(status);
      expect(stored(fakes).response).toBeUndefined();
      expect(updatedStatuses(fakes)).not.toContain('compensating');
      expect(updatedStatuses(fakes)).not.toContain('failed');
    },
  );

  it('asks for a recovery of this checkout once its lease has ended, and only then', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    fakes.inventory.failWith.deduct = unknown('inventory');

    await checkout(fakes);

    expect(fakes.scheduler.scheduled).toEqual([
      { id: ID, attempt: 1, leaseEndsAt: new Date(FIXED_NOW.getTime() + 60_000).toISOString() },
    ]);
  });

  it('asks for no recovery when the checkout ends', async () => {
    const completed = createSagaFakes();
    const refusedFakes = createSagaFakes();
    refusedFakes.payment.failWith.charge = refused('payment', 'card_declined');

    await checkout(completed);
    await checkout(refusedFakes);

    expect(completed.scheduler.scheduled).toEqual([]);
    expect(refusedFakes.scheduler.scheduled).toEqual([]);
  });

  it('hints a retry once the lease has run out, to the millisecond', async () => {
    const fakes = createSagaFakes({ leaseMs: 1_500 });
    fakes.payment.failWith.charge = unknown('payment');
    expect(await checkout(fakes)).toMatchObject({ kind: 'incomplete', retryInMs: 1_500 });
  });
});

describe('processCheckout when something other than a service fails', () => {
  it('lets a repository error propagate', async () => {
    const fakes = createSagaFakes();
    const failure = new Error('connection terminated');
    fakes.repository.failWith.update = failure;
    await expect(checkout(fakes)).rejects.toBe(failure);
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    // Charged, and stuck at pending: recovery is woken when the lease ends, not in an hour.
    expect(fakes.scheduler.scheduled).toEqual([
      { id: ID, attempt: 1, leaseEndsAt: new Date(FIXED_NOW.getTime() + 60_000).toISOString() },
    ]);
  });

  it('answers incomplete with the checkout, not a bare error, when the database stops answering after recording it', async () => {
    const fakes = createSagaFakes();
    fakes.repository.failWith.update = new DatabaseUnavailableError();

    const outcome = await checkout(fakes);

    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { id: ID, status: 'pending' },
      retryInMs: fakes.budget.leaseMs,
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(fakes.scheduler.scheduled).toEqual([
      { id: ID, attempt: 1, leaseEndsAt: new Date(FIXED_NOW.getTime() + 60_000).toISOString() },
    ]);
    // Counted like any open outcome, so the incomplete alarm sees it.
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('calls no service when the checkout cannot be recorded', async () => {
    const fakes = createSagaFakes();
    fakes.repository.failWith.create = new Error('database unavailable');
    await expect(checkout(fakes)).rejects.toThrow('database unavailable');
    expect(fakes.serviceCalls()).toEqual([]);
  });

  it('lets an unexpected error from a service propagate without undoing anything', async () => {
    const fakes = createSagaFakes();
    const bug = new TypeError('cannot read properties of undefined');
    fakes.inventory.failWith.deduct = bug;
    await expect(checkout(fakes)).rejects.toBe(bug);
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct']);
  });
});

describe('processCheckout at the work budget’s deadline', () => {
  /**
   * Replaces the fake charge with one that acts like the real client at the deadline: an
   * aborted signal ends the call with an unknown outcome (the request may have reached the
   * service).
   */
  function chargeHonouringDeadline(fakes: SagaFakes) {
    const charge = fakes.payment.charge.bind(fakes.payment);
    fakes.payment.charge = async (
      input: Parameters<PaymentService['charge']>[0],
      options?: CallOptions,
    ) => {
      if (options?.signal?.aborted) {
        fakes.log.push({ name: 'payment.charge', input });
        throw new ServiceOutcomeUnknownError('payment', 'deadline', 'the work budget ran out');
      }
      return charge(input);
    };
  }

  it('leaves the checkout pending and incomplete when the deadline passes once it is recorded', async () => {
    const fakes = createSagaFakes({ leaseMs: 12_000 });
    chargeHonouringDeadline(fakes);
    const create = fakes.repository.create.bind(fakes.repository);
    fakes.repository.create = async (...args) => {
      const made = await create(...args);
      fakes.deadline.abort();
      return made;
    };

    const outcome = await checkout(fakes);

    expect(outcome).toMatchObject({
      kind: 'incomplete',
      checkout: { id: ID, status: 'pending' },
      retryInMs: 12_000,
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge']);
    expect(stored(fakes).checkout.status).toBe('pending');
    expect(stored(fakes).response).toBeUndefined();
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('leaves a checkout compensating, not requires_attention, when the deadline stops an undo', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    const refund = fakes.payment.refund.bind(fakes.payment);
    fakes.payment.refund = async (
      input: Parameters<PaymentService['refund']>[0],
      options?: CallOptions,
    ) => {
      fakes.deadline.abort();
      if (options?.signal?.aborted) throw unknown('payment');
      return refund(input);
    };

    const outcome = await checkout(fakes);

    expect(outcome).toMatchObject({ kind: 'incomplete', checkout: { status: 'compensating' } });
    expect(stored(fakes).checkout.status).toBe('compensating');
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });
});

describe('processCheckout metrics', () => {
  it('records completed', async () => {
    const fakes = createSagaFakes();
    await checkout(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'completed' }]);
  });

  it.each([
    { step: 'payment', error: refused('payment', 'insufficient_funds') },
    { step: 'inventory', error: refused('inventory', 'out_of_stock') },
    { step: 'order', error: unavailable('order') },
  ])('records failed with failedStep $step', async ({ step, error }) => {
    const fakes = createSagaFakes();
    failForward(fakes, error);
    await checkout(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'failed', failedStep: step }]);
  });

  it('records incomplete, not requires_attention, when an undo does not go through', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    fakes.inventory.failWith.release = unavailable('inventory');
    await checkout(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('records incomplete when an outcome is unknown', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unknown('order');
    await checkout(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });
});

/** A CreateSchedule that takes `ms` (throttled, a slow region), honouring its abort signal. */
function slowClient(ms: number): SchedulerClient {
  return {
    send: (_command: unknown, options?: { abortSignal?: AbortSignal }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({}), ms);
        options?.abortSignal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        });
      }),
  } as unknown as SchedulerClient;
}

describe('processCheckout near the end of the invocation', () => {
  it('answers before the function’s own deadline even when asking for the recovery schedule is slow', async () => {
    const f = createSagaFakes();
    f.deps.scheduler = createRecoveryScheduler({
      config: { group: 'g', targetArn: 'arn:aws:lambda:x:1:function:r', roleArn: 'arn:r' },
      settleDelayMs: 60_000,
      logger: new FakeLogger(),
      client: slowClient(1_900),
    });
    // The payment service hangs: the call ends only when the work budget aborts it.
    const hang: PaymentService['charge'] = async (_input, options) => {
      await new Promise((resolve) => options?.signal?.addEventListener('abort', resolve));
      throw unknown('payment');
    };
    Object.assign(f.payment, { charge: hang });
    const remainingMs = 3_000; // what context.getRemainingTimeInMillis() said at the start
    const budget = workBudget(60_000, remainingMs, 'request:r1');
    const started = performance.now();
    const outcome = await processCheckout(
      f.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      budget,
    );
    const elapsed = performance.now() - started;
    expect(outcome.kind).toBe('incomplete');
    expect(elapsed).toBeLessThan(remainingMs);
  });
});
