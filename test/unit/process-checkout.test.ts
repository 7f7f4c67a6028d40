import { describe, expect, it } from 'vitest';
import type { CallOptions, IdempotencyClaim, PaymentService } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { ServiceOutcomeUnknownError } from '#lib/checkout/service-errors.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  refused,
  sampleCard,
  sampleOrder,
  unavailable,
  unknown,
} from './fakes.ts';

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const KEY = 'order-7f3a-attempt';

type Fakes = ReturnType<typeof createSagaFakes>;

const claim = (requestHash = 'hash-of-the-first-body'): IdempotencyClaim => ({
  key: KEY,
  requestHash,
  ttlHours: 24,
});

/** One `POST /checkout/process` as the handler makes it, with the fakes' work budget. */
function post(fakes: Fakes, idempotency?: IdempotencyClaim) {
  return processCheckout(
    fakes.deps,
    { order: sampleOrder(), card: sampleCard(), idempotency },
    fakes.budget,
  );
}

function stored(fakes: Fakes, id = ID) {
  const row = fakes.repository.checkouts.get(id);
  if (!row) throw new Error(`checkout ${id} was not recorded`);
  return row;
}

/** Forgets the calls and writes so far, so a test can look at what a repeat did. */
function forgetHistory(fakes: Fakes) {
  fakes.log.length = 0;
  fakes.repository.writes.length = 0;
  fakes.metrics.outcomes.length = 0;
}

/** Lets the lease of the stored checkout run out on the fake clock. */
function expireLease(fakes: Fakes, id = ID) {
  stored(fakes, id).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
}

/** A promise and the function that settles it, to hold a fake call until the test says so. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/**
 * Makes the first charge hang until `release()` (a slow payment service); later charges answer
 * at once. `started()` counts the charges begun.
 */
function holdFirstCharge(fakes: Fakes) {
  const held = gate();
  const charge = fakes.payment.charge.bind(fakes.payment);
  let started = 0;
  fakes.payment.charge = async (input) => {
    started += 1;
    if (started === 1) await held.opened;
    return charge(input);
  };
  return { release: held.open, started: () => started };
}

/** Waits until every already-queued promise callback has run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Replaces the fake charge with one that acts like the real client at the deadline: an aborted
 * signal ends the call with an unknown outcome (the request may have reached the service).
 */
function chargeHonouringDeadline(fakes: Fakes) {
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

describe('processCheckout with a new Idempotency-Key', () => {
  it('records the checkout, claiming the key with the request hash, and runs the saga', async () => {
    const fakes = createSagaFakes();
    const result = await post(fakes, claim());

    expect(result.statusCode).toBe(200);
    expect(result.body).toMatchObject({ checkout_id: ID, status: 'completed' });
    expect(result.replayedBody).toBeUndefined();
    expect(fakes.log[0]).toMatchObject({
      name: 'repository.create',
      input: { idempotency: claim() },
    });
    expect(stored(fakes).idempotency).toEqual(claim());
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
  });

  it('starts a separate checkout for each different key', async () => {
    const fakes = createSagaFakes();
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    let next = 0;
    fakes.deps.newId = () => ids[next++] ?? 'unexpected';

    const first = await post(fakes, { ...claim(), key: 'key-a' });
    const second = await post(fakes, { ...claim(), key: 'key-b' });

    expect(first.body.checkout_id).toBe(ids[0]);
    expect(second.body.checkout_id).toBe(ids[1]);
    expect(fakes.log.filter((c) => c.name === 'payment.charge')).toHaveLength(2);
  });
});

describe('processCheckout with a key whose checkout has finished', () => {
  it.each([
    { outcome: 'completed', statusCode: 200, fail: (_: Fakes) => {} },
    {
      outcome: 'refused',
      statusCode: 422,
      fail: (f: Fakes) => {
        f.payment.failWith.charge = refused('payment', 'insufficient_funds');
      },
    },
    {
      outcome: 'unavailable and undone',
      statusCode: 502,
      fail: (f: Fakes) => {
        f.order.failWith.create = unavailable('order');
      },
    },
  ])(
    'replays the stored answer of a $outcome checkout exactly, calling nothing',
    async ({ statusCode, fail }) => {
      const fakes = createSagaFakes();
      fail(fakes);
      const first = await post(fakes, claim());
      expect(first.statusCode).toBe(statusCode);
      const answer = stored(fakes).response;
      if (!answer) throw new Error('no answer was stored');
      forgetHistory(fakes);
      // The services would now succeed: a replay must still not call them.
      fakes.payment.failWith = {};
      fakes.inventory.failWith = {};
      fakes.order.failWith = {};

      const replay = await post(fakes, claim());

      expect(replay.statusCode).toBe(answer.statusCode);
      expect(replay.statusCode).toBe(statusCode);
      expect(replay.replayedBody).toBe(answer.body);
      expect(replay.replayedBody).toBe(JSON.stringify(first.body));
      expect(replay.retryAfterSeconds).toBeUndefined();
      expect(fakes.serviceCalls()).toEqual([]);
      expect(fakes.log.map((c) => c.name)).toEqual(['repository.create']);
      expect(fakes.repository.writes).toEqual([]);
      expect(fakes.metrics.outcomes).toEqual([]);
    },
  );

  it('replays byte for byte even a stored body this version would format differently', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim());
    const legacy = '{ "status" : "completed",\n  "checkout_id": "x" }';
    stored(fakes).response = { statusCode: 200, body: legacy };
    const replay = await post(fakes, claim());
    expect(replay.replayedBody).toBe(legacy);
  });
});

describe('processCheckout with a key used for a different request', () => {
  it('answers 422 idempotency_key_mismatch and calls nothing', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim('hash-a'));
    forgetHistory(fakes);

    const result = await post(fakes, claim('hash-b'));

    expect(result.statusCode).toBe(422);
    expect(result.body.error).toBe('idempotency_key_mismatch');
    expect(result.replayedBody).toBeUndefined();
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('answers the mismatch even while the first request is still running', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim('hash-a'));
    forgetHistory(fakes);

    const result = await post(fakes, claim('hash-b'));

    expect(result.statusCode).toBe(422);
    expect(result.body.error).toBe('idempotency_key_mismatch');
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('processCheckout with a key whose checkout holds an active lease', () => {
  it('answers 409 checkout_in_progress with the checkout id while the first request runs', async () => {
    const fakes = createSagaFakes({ leaseMs: 30_000 });
    const slowCharge = holdFirstCharge(fakes);
    const first = post(fakes, claim());
    await settle();

    const second = await post(fakes, claim());

    expect(second.statusCode).toBe(409);
    expect(second.body).toMatchObject({ error: 'checkout_in_progress', checkout_id: ID });
    expect(second.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(second.retryAfterSeconds).toBe(30);
    expect(slowCharge.started()).toBe(1);
    expect(fakes.log.filter((c) => c.name === 'repository.takeOver')).toEqual([]);

    slowCharge.release();
    expect((await first).body).toMatchObject({ checkout_id: ID, status: 'completed' });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
  });

  it('answers 409 for a checkout left incomplete whose lease has not expired yet', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    fakes.payment.failWith.charge = unknown('payment');
    expect((await post(fakes, claim())).statusCode).toBe(503);
    forgetHistory(fakes);

    const repeat = await post(fakes, claim());

    expect(repeat.statusCode).toBe(409);
    expect(repeat.body).toMatchObject({ error: 'checkout_in_progress', checkout_id: ID });
    expect(repeat.retryAfterSeconds).toBe(60);
    expect(fakes.serviceCalls()).toEqual([]);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('never hints less than one second', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    stored(fakes).lockedUntil = new Date(FIXED_NOW.getTime() + 10);
    const repeat = await post(fakes, claim());
    expect(repeat.statusCode).toBe(409);
    expect(repeat.retryAfterSeconds).toBe(1);
  });
});

describe('processCheckout with a key whose checkout’s lease has expired', () => {
  it('takes the checkout over at payment_processed and finishes it without charging again', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    const first = await post(fakes, claim());
    expect(first.body).toMatchObject({ status: 'payment_processed', error: 'checkout_incomplete' });
    expect(stored(fakes).checkout.attempt).toBe(1);
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.inventory.failWith = {};

    const resumed = await post(fakes, claim());

    expect(resumed.statusCode).toBe(200);
    expect(resumed.body).toMatchObject({
      checkout_id: ID,
      status: 'completed',
      payment_id: 'txn_0001',
      order_id: 'ord_0001',
    });
    expect(fakes.serviceCalls()).toEqual(['inventory.deduct', 'order.create']);
    const keys = fakes.log
      .filter((c) => !c.name.startsWith('repository.'))
      .map((c) => (c.input as { checkoutId: string }).checkoutId);
    expect(keys).toEqual([ID, ID]);
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

    expect(resumed.body).toMatchObject({ checkout_id: ID, status: 'completed' });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct', 'order.create']);
    expect(fakes.log.find((c) => c.name === 'payment.charge')?.input).toMatchObject({
      checkoutId: ID,
      card: sampleCard(),
    });
    expect(stored(fakes).checkout.attempt).toBe(2);
  });

  it('checks a "no" to the resumed step against the service before undoing: it had charged', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    // The first try did charge; the retry's tries only meet an outage.
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
    expect(resumed.body).toMatchObject({ status: 'completed', payment_id: 'txn_first' });
  });

  it('undoes nothing after a "no" to the resumed step when the service holds nothing yet: the earlier request may still land', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    await post(fakes, claim());
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.inventory.failWith = { deduct: unavailable('inventory') };

    const resumed = await post(fakes, claim());

    expect(fakes.serviceCalls()).toEqual(['inventory.deduct', 'inventory.findDeductions']);
    expect(resumed.statusCode).toBe(503);
    expect(stored(fakes).checkout).toMatchObject({ status: 'payment_processed' });
  });

  it('answers 503 and undoes nothing when the resumed step gets a "no" and its lookup no answer', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unknown('order');
    await post(fakes, claim());
    expireLease(fakes);
    forgetHistory(fakes);
    fakes.order.failWith = { create: refused('order', 'http_403'), findOrders: unknown('order') };

    const resumed = await post(fakes, claim());

    expect(resumed.statusCode).toBe(503);
    expect(fakes.serviceCalls()).toEqual(['order.create', 'order.findOrders']);
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
    expect(first.statusCode).toBe(503);
    expect(stored(fakes).checkout.status).toBe('compensating');

    // The client retries later, served by another invocation (a fresh budget).
    const next = createSagaFakes();
    next.repository.checkouts.set(ID, stored(fakes));
    expireLease(next);

    const resumed = await post(next, claim());

    // Undoing needs no card: recovery does it and counts its tries. The retry takes nothing over.
    expect(next.serviceCalls()).toEqual([]);
    expect(next.log.filter((c) => c.name === 'repository.takeOver')).toEqual([]);
    expect(resumed.statusCode).toBe(503);
    expect(resumed.body).toMatchObject({
      checkout_id: ID,
      status: 'compensating',
      error: 'checkout_incomplete',
    });
    expect(stored(next).checkout.attempt).toBe(1);
  });

  it('stops a worker whose lease was taken over: its next write fails and it answers 409', async () => {
    const fakes = createSagaFakes();
    const slowCharge = holdFirstCharge(fakes);
    const slow = post(fakes, claim());
    await settle();
    expireLease(fakes);

    const takeover = await post(fakes, claim());
    expect(slowCharge.started()).toBe(2);
    expect(takeover.body).toMatchObject({ checkout_id: ID, status: 'completed' });
    expect(stored(fakes).checkout.attempt).toBe(2);
    const writesBefore = fakes.repository.writes.length;

    slowCharge.release();
    const stale = await slow;

    expect(stale.statusCode).toBe(409);
    expect(stale.body).toMatchObject({ error: 'checkout_in_progress', checkout_id: ID });
    expect(stale.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(fakes.repository.writes).toHaveLength(writesBefore);
    expect(stored(fakes).checkout).toMatchObject({ status: 'completed', attempt: 2 });
    expect(fakes.log.filter((c) => c.name === 'inventory.deduct')).toHaveLength(1);
    expect(fakes.log.filter((c) => c.name === 'order.create')).toHaveLength(1);
  });

  it('answers 409 when another worker wins the take-over first', async () => {
    const fakes = createSagaFakes();
    fakes.payment.failWith.charge = unknown('payment');
    await post(fakes, claim());
    expireLease(fakes);
    // Another worker takes the checkout over between our read and our take-over.
    const takeOver = fakes.repository.takeOver.bind(fakes.repository);
    fakes.repository.takeOver = async (id, leaseMs) => {
      await takeOver(id, leaseMs);
      return takeOver(id, leaseMs);
    };
    forgetHistory(fakes);

    const repeat = await post(fakes, claim());

    expect(repeat.statusCode).toBe(409);
    expect(repeat.body).toMatchObject({ error: 'checkout_in_progress', checkout_id: ID });
    expect(repeat.retryAfterSeconds).toBe(1);
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('processCheckout at the work budget’s deadline', () => {
  it('answers 503 incomplete and leaves the checkout pending when the deadline has passed', async () => {
    const fakes = createSagaFakes({ leaseMs: 12_000 });
    chargeHonouringDeadline(fakes);
    fakes.deadline.abort();

    const result = await post(fakes, claim());

    expect(result.statusCode).toBe(503);
    expect(result.retryAfterSeconds).toBe(12);
    expect(result.body).toMatchObject({
      checkout_id: ID,
      status: 'pending',
      error: 'checkout_incomplete',
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

    const result = await post(fakes, claim());

    expect(result.statusCode).toBe(503);
    expect(result.body).toMatchObject({ status: 'compensating', error: 'checkout_incomplete' });
    expect(stored(fakes).checkout.status).toBe('compensating');
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });
});

describe('processCheckout metrics', () => {
  it('records completed', async () => {
    const fakes = createSagaFakes();
    await post(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'completed' }]);
  });

  it.each([
    {
      step: 'payment',
      fail: (f: Fakes) => {
        f.payment.failWith.charge = refused('payment', 'insufficient_funds');
      },
    },
    {
      step: 'inventory',
      fail: (f: Fakes) => {
        f.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
      },
    },
    {
      step: 'order',
      fail: (f: Fakes) => {
        f.order.failWith.create = unavailable('order');
      },
    },
  ])('records failed with failedStep $step', async ({ step, fail }) => {
    const fakes = createSagaFakes();
    fail(fakes);
    await post(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'failed', failedStep: step }]);
  });

  it('records incomplete, not requires_attention, when an undo does not go through', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = refused('order', 'invalid_address');
    fakes.inventory.failWith.release = unavailable('inventory');
    await post(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('records incomplete when an outcome is unknown', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.create = unknown('order');
    await post(fakes);
    expect(fakes.metrics.outcomes).toEqual([{ status: 'incomplete' }]);
  });

  it('records nothing for a replay, a mismatch or an in-progress answer', async () => {
    const fakes = createSagaFakes();
    await post(fakes, claim());
    forgetHistory(fakes);
    await post(fakes, claim());
    await post(fakes, claim('another-hash'));
    expect(fakes.metrics.outcomes).toEqual([]);
  });
});
