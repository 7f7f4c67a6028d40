import { describe, expect, it } from 'vitest';
import type { IdempotencyClaim } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { renderFinished } from '#lib/http/checkout-presenter.ts';
import {
  createSagaFakes,
  deferred,
  FIXED_NOW,
  failForward,
  outcomeOfKind,
  refused,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
  unavailable,
  unknown,
} from './fakes.ts';

/**
 * `processCheckout` with an `Idempotency-Key`: a repeated key never starts a second checkout.
 * It replays the stored answer, reports a mismatch or a checkout in progress, or takes over a
 * checkout whose lease expired.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const KEY = 'order-7f3a-attempt';

const claim = (requestHash = 'hash-of-the-first-body'): IdempotencyClaim => ({
  key: KEY,
  caller: 'api-key:shop-a',
  requestHash,
  ttlHours: 24,
});

/** One `POST /checkout/process` as the handler makes it, with the fakes' work budget. */
function post(fakes: SagaFakes, idempotency?: IdempotencyClaim) {
  return processCheckout(
    fakes.deps,
    { cart: sampleCart(), secrets: sampleSecrets(), idempotency },
    fakes.budget,
  );
}

const stored = (fakes: SagaFakes, id = ID) => storedRow(fakes, id);

/** Forgets the calls and writes so far, so a test can look at what a repeat did. */
function forgetHistory(fakes: SagaFakes) {
  fakes.log.length = 0;
  fakes.repository.writes.length = 0;
  fakes.metrics.outcomes.length = 0;
}

/** Lets the lease of the stored checkout run out on the fake clock. */
function expireLease(fakes: SagaFakes, id = ID) {
  stored(fakes, id).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
}

/**
 * Makes the first charge wait until `release()` (a slow payment service); later charges answer
 * at once. `firstStarted` resolves when the first charge has begun; `started()` counts them.
 */
function holdFirstCharge(fakes: SagaFakes) {
  const begun = deferred();
  const released = deferred();
  const charge = fakes.payment.charge.bind(fakes.payment);
  let started = 0;
  fakes.payment.charge = async (input) => {
    started += 1;
    if (started === 1) {
      begun.resolve();
      await released.promise;
    }
    return charge(input);
  };
  return { firstStarted: begun.promise, release: released.resolve, started: () => started };
}

describe('processCheckout with a new Idempotency-Key', () => {
  it('records the checkout, claiming the key with the request hash, and runs the saga', async () => {
    const fakes = createSagaFakes();
    const outcome = await post(fakes, claim());

    expect(outcome).toMatchObject({ kind: 'completed', checkout: { id: ID, status: 'completed' } });
    // Priced first, then recorded with the key.
    expect(fakes.log[0]?.name).toBe('catalog.quote');
    expect(fakes.log[1]).toMatchObject({
      name: 'repository.create',
      input: { idempotency: claim() },
    });
    expect(stored(fakes).idempotency).toEqual({
      key: `api-key:shop-a\u001f${KEY}`,
      requestHash: 'hash-of-the-first-body',
      expiresAt: new Date(FIXED_NOW.getTime() + 24 * 3_600_000),
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
  });

  it('starts a separate checkout for each different key', async () => {
    const fakes = createSagaFakes();
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    let next = 0;
    fakes.deps.newId = () => ids[next++] ?? 'unexpected';

    const first = await post(fakes, { ...claim(), key: 'key-a' });
    const second = await post(fakes, { ...claim(), key: 'key-b' });

    expect(outcomeOfKind(first, 'completed').checkout.id).toBe(ids[0]);
    expect(outcomeOfKind(second, 'completed').checkout.id).toBe(ids[1]);
    expect(fakes.log.filter((c) => c.name === 'payment.charge')).toHaveLength(2);
  });
});

describe('processCheckout with a key whose checkout has finished', () => {
  it.each([
    { outcome: 'completed', error: undefined },
    { outcome: 'refused', error: refused('payment', 'insufficient_funds') },
    { outcome: 'unavailable', error: unavailable('order') },
  ] as const)(
    'replays the answer stored for a $outcome checkout, unchanged, calling nothing',
    async ({ outcome, error }) => {
      const fakes = createSagaFakes();
      if (error) failForward(fakes, error);
      const first = outcomeOfKind(await post(fakes, claim()), outcome);
      const answer = stored(fakes).response;
      expect(answer).toEqual(renderFinished(first));
      forgetHistory(fakes);
      // The services would now succeed: a replay must still not call them.
      fakes.payment.failWith = {};
      fakes.inventory.failWith = {};
      fakes.order.failWith = {};

      const replay = await post(fakes, claim());

      expect(replay).toEqual({ kind: 'replay', stored: answer });
      expect(fakes.serviceCalls()).toEqual([]);
      expect(fakes.log.map((c) => c.name)).toEqual(['catalog.quote', 'repository.create']);
      expect(fakes.repository.writes).toEqual([]);
      expect(fakes.metrics.outcomes).toEqual([]);
    },
  );

  it('replays even a stored answer this version would render differently, as it was stored', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim());
    const legacy = { code: 200, body: '{ "status" : "completed",\n  "checkout_id": "x" }' };
    stored(fakes).response = legacy;
    expect(await post(fakes, claim())).toEqual({ kind: 'replay', stored: legacy });
  });
});

describe('processCheckout with a key used for a different request', () => {
  it('reports the key mismatch and calls nothing', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim('hash-a'));
    forgetHistory(fakes);

    const outcome = await post(fakes, claim('hash-b'));

    expect(outcome).toEqual({ kind: 'key_mismatch' });
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('reports the mismatch even while the first request is still running', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim('hash-a'));
    forgetHistory(fakes);

    const outcome = await post(fakes, claim('hash-b'));

    expect(outcome).toEqual({ kind: 'key_mismatch' });
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('processCheckout with a key whose checkout holds an active lease', () => {
  it('reports the checkout in progress, until its lease ends, while the first request runs', async () => {
    const fakes = createSagaFakes({ leaseMs: 30_000 });
    const slowCharge = holdFirstCharge(fakes);
    const first = post(fakes, claim());
    await slowCharge.firstStarted;

    const second = await post(fakes, claim());

    expect(second).toEqual({ kind: 'in_progress', checkoutId: ID, retryInMs: 30_000 });
    expect(slowCharge.started()).toBe(1);
    expect(fakes.log.filter((c) => c.name === 'repository.takeOver')).toEqual([]);

    slowCharge.release();
    expect(await first).toMatchObject({
      kind: 'completed',
      checkout: { id: ID, status: 'completed' },
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
  });

  it('reports a checkout left incomplete whose lease has not expired yet as in progress', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    fakes.payment.failWith.charge = unknown('payment');
    expect(await post(fakes, claim())).toMatchObject({ kind: 'incomplete' });
    forgetHistory(fakes);

    const repeat = await post(fakes, claim());

    expect(repeat).toEqual({ kind: 'in_progress', checkoutId: ID, retryInMs: 60_000 });
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('hints the lease’s remaining milliseconds, however few', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    stored(fakes).lockedUntil = new Date(FIXED_NOW.getTime() + 10);
    expect(await post(fakes, claim())).toEqual({
      kind: 'in_progress',
      checkoutId: ID,
      retryInMs: 10,
    });
  });
});

describe('processCheckout with a key whose checkout’s lease has expired', () => {
  it('tells a final checkout without a stored answer as it stands (409 requires_attention), never as still running', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    await post(fakes, claim());
    // Set aside by recovery as a row it could not read: final, no answer stored with it.
    const row = stored(fakes);
    row.checkout.status = 'requires_attention';
    row.checkout.failure = {
      step: 'inventory',
      kind: 'unavailable',
      reason: 'unreadable',
      message: 'The checkout could not be read',
    };
    expireLease(fakes);
    forgetHistory(fakes);

    const outcome = await post(fakes, claim());

    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'requires_attention' },
    });
    expect(renderFinished(outcomeOfKind(outcome, 'unavailable')).code).toBe(409);
    expect(fakes.serviceCalls()).toEqual([]);
  });

  it('takes the checkout over at payment_processed and finishes it without charging again', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    const first = await post(fakes, claim());
    expect(first).toMatchObject({ kind: 'incomplete', checkout: { status: 'payment_processed' } });
    expect(stored(fakes).checkout.attempt).toBe(1);
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.inventory.failWith = {};

    const resumed = await post(fakes, claim());

    expect(resumed).toMatchObject({
      kind: 'completed',
      checkout: { id: ID, status: 'completed', paymentId: 'txn_0001', orderId: 'ord_0001' },
    });
    // It checks that the charge still stands, repeats the deduct and checks its record.
    expect(fakes.serviceCalls()).toEqual([
      'payment.findCharges',
      'inventory.deduct',
      'inventory.findDeductions',
      'order.create',
    ]);
    const keys = fakes.log
      .filter((c) => /^(payment|inventory|order)\./.test(c.name))
      .map((c) => (c.input as { checkoutId: string }).checkoutId);
    expect(keys).toEqual([ID, ID, ID, ID]);
    expect(fakes.log.find((c) => c.name === 'order.create')?.input).toMatchObject({
      paymentId: 'txn_0001',
    });
    expect(stored(fakes).checkout).toMatchObject({ status: 'completed', attempt: 2 });
    expect(fakes.repository.writes.filter((w) => w.kind === 'insert')).toEqual([]);
  });

  it('takes a pending checkout over and repeats the charge under the same checkout id', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.payment.failWith = {};

    const resumed = await post(fakes, claim());

    expect(resumed).toMatchObject({ kind: 'completed', checkout: { id: ID, status: 'completed' } });
    expect(fakes.serviceCalls()).toEqual([
      'payment.charge',
      'payment.findCharges',
      'inventory.deduct',
      'order.create',
    ]);
    expect(fakes.log.find((c) => c.name === 'payment.charge')?.input).toMatchObject({
      checkoutId: ID,
      card: sampleSecrets().instrument,
    });
    expect(stored(fakes).checkout.attempt).toBe(2);
  });

  it('checks a "no" to the resumed step against the service before undoing: it had charged', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    // The first try did charge; the retry's tries would only meet an outage.
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_first', status: 'success' }]);
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.payment.failWith = { charge: unavailable('payment') };

    const resumed = await post(fakes, claim());

    expect(fakes.serviceCalls()).toEqual([
      'payment.charge',
      'payment.findCharges',
      'inventory.deduct',
      'order.create',
    ]);
    expect(resumed).toMatchObject({
      kind: 'completed',
      checkout: { status: 'completed', paymentId: 'txn_first' },
    });
  });

  it('undoes nothing after a "no" to the resumed step when the service holds nothing yet: the earlier request may still land', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    await post(fakes, claim());
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.inventory.failWith = { deduct: unavailable('inventory') };

    const resumed = await post(fakes, claim());

    expect(fakes.serviceCalls()).toEqual([
      'payment.findCharges',
      'inventory.deduct',
      'inventory.findDeductions',
    ]);
    expect(resumed).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'payment_processed' },
    });
    expect(stored(fakes).checkout).toMatchObject({ status: 'payment_processed' });
  });

  it('undoes nothing and stays incomplete when the resumed step gets a "no" and its lookup no answer', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unknown('order');
    await post(fakes, claim());
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.order.failWith = { create: refused('order', 'http_403'), findOrders: unknown('order') };

    const resumed = await post(fakes, claim());

    expect(resumed).toMatchObject({
      kind: 'incomplete',
      checkout: { status: 'inventory_deducted' },
    });
    expect(fakes.serviceCalls()).toEqual([
      'payment.findCharges',
      'inventory.findDeductions',
      'order.create',
      'order.findOrders',
    ]);
    expect(stored(fakes).checkout.status).toBe('inventory_deducted');
  });

  it('leaves the undo of a checkout left compensating to recovery, running nothing', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    // The deadline strikes during the refund: the checkout stays compensating.
    fakes.payment.refund = async () => {
      fakes.deadline.abort();
      throw unknown('payment');
    };
    const first = await post(fakes, claim());
    expect(first).toMatchObject({ kind: 'incomplete', checkout: { status: 'compensating' } });
    expect(stored(fakes).checkout.status).toBe('compensating');

    // The client retries later, served by another invocation (a fresh budget).
    const next = createSagaFakes();
    next.repository.checkouts.set(ID, stored(fakes));
    expireLease(next);

    const resumed = await post(next, claim());

    // Undoing needs no card: recovery does it and counts its tries. The retry takes nothing over.
    expect(next.serviceCalls()).toEqual([]);
    expect(next.log.filter((c) => c.name === 'repository.takeOver')).toEqual([]);
    expect(resumed).toMatchObject({
      kind: 'incomplete',
      checkout: { id: ID, status: 'compensating' },
      retryInMs: 60_000,
    });
    expect(stored(next).checkout.attempt).toBe(1);
  });

  it('stops a worker whose lease was taken over: its next write fails and it reports the checkout in progress', async () => {
    const fakes = createSagaFakes();
    const slowCharge = holdFirstCharge(fakes);
    const slow = post(fakes, claim());
    await slowCharge.firstStarted;
    expireLease(fakes);

    const takeover = await post(fakes, claim());
    expect(slowCharge.started()).toBe(2);
    expect(takeover).toMatchObject({
      kind: 'completed',
      checkout: { id: ID, status: 'completed' },
    });
    expect(stored(fakes).checkout.attempt).toBe(2);
    const writesBefore = fakes.repository.writes.length;

    slowCharge.release();
    const stale = await slow;

    expect(stale).toEqual({ kind: 'in_progress', checkoutId: ID, retryInMs: 1_000 });
    expect(fakes.repository.writes).toHaveLength(writesBefore);
    expect(stored(fakes).checkout).toMatchObject({ status: 'completed', attempt: 2 });
    expect(fakes.log.filter((c) => c.name === 'inventory.deduct')).toHaveLength(1);
    expect(fakes.log.filter((c) => c.name === 'order.create')).toHaveLength(1);
  });

  it('reports the checkout in progress when another worker wins the take-over first', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    expireLease(fakes);
    // Another worker takes the checkout over between our read and our take-over.
    const takeOver = fakes.repository.takeOver.bind(fakes.repository);
    fakes.repository.takeOver = async (id, leaseMs, worker) => {
      await takeOver(id, leaseMs, 'request:other');
      return takeOver(id, leaseMs, worker);
    };
    forgetHistory(fakes);

    const repeat = await post(fakes, claim());

    expect(repeat).toEqual({ kind: 'in_progress', checkoutId: ID, retryInMs: 1_000 });
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('processCheckout metrics for a repeated key', () => {
  it('records nothing for a replay, a mismatch or an in-progress answer', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim());
    const running = { ...claim(), key: 'a-key-still-running' };
    fakes.deps.newId = () => '33333333-3333-4333-8333-333333333333';
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, running);
    forgetHistory(fakes);

    const answers = [
      await post(fakes, claim()),
      await post(fakes, claim('another-hash')),
      await post(fakes, running),
    ];

    expect(answers.map((a) => a.kind)).toEqual(['replay', 'key_mismatch', 'in_progress']);
    expect(fakes.metrics.outcomes).toEqual([]);
  });
});
