import { describe, expect, it } from 'vitest';
import type { Checkout } from '#lib/checkout/checkout.ts';
import { recoverAbandoned } from '#lib/checkout/recover-abandoned.ts';
import type { RecoveryOptions } from '#lib/checkout/recovery.ts';
import {
  createSagaFakes,
  deferred,
  FIXED_NOW,
  holdStepsDone,
  recordedCheckout,
  type SagaFakes,
  storedRow,
  unknown,
} from './fakes.ts';

/**
 * `recoverAbandoned`, the recovery function's use case: which checkouts a run claims, how runs
 * share them, and how the run reports where each ended. What happens to one checkout is
 * `recoverCheckout`'s (`recovery.test.ts`).
 */

const ID = '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291807';
const IDS = [
  '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291800',
  '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291801',
  '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291802',
  '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291803',
  '0c7e9a52-3b1d-4f6e-8a2c-5d4b3a291804',
] as const;
const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};

const expired = () => new Date(FIXED_NOW.getTime() - 1_000);

/** A checkout its worker left at `fields.status`, its lease (by default) expired. */
function left(
  fakes: SagaFakes,
  fields: Partial<Checkout> & Pick<Checkout, 'status'>,
  lockedUntil: Date | null = expired(),
): void {
  const checkout = recordedCheckout(fields.id ?? ID, {
    paymentId: fields.status === 'pending' ? null : 'txn_earlier',
    ...fields,
  });
  fakes.repository.checkouts.set(checkout.id, { checkout, lockedUntil });
  holdStepsDone(fakes, checkout);
}

const stored = (fakes: SagaFakes, id = ID) => storedRow(fakes, id).checkout;

const recover = (fakes: SagaFakes, options: Partial<RecoveryOptions> = {}) =>
  recoverAbandoned(fakes.deps, { ...OPTIONS, ...options }, fakes.budget);

/** Makes one lookup of a fake service throw `error` for the checkouts in `ids` only. */
function failFor<S extends Record<K, (id: string) => Promise<unknown>>, K extends keyof S>(
  service: S,
  lookup: K,
  ids: readonly (string | undefined)[],
  error: Error,
) {
  const answer = service[lookup].bind(service);
  service[lookup] = (async (id: string) => {
    if (ids.includes(id)) throw error;
    return answer(id);
  }) as S[K];
}

const callsNamed = (fakes: SagaFakes, name: string) => fakes.log.filter((c) => c.name === name);

const checkoutIdsOf = (fakes: SagaFakes, name: string) =>
  callsNamed(fakes, name).map((c) => (c.input as { checkoutId: string }).checkoutId);

/**
 * Runs recovery runs at once, each waiting at `turn()` (wired into a fake service) until every
 * unfinished run waits there, then letting the one `pick` chooses go on. The runs interleave
 * in an order the test chose, not one that timing happened to produce.
 */
function turnTaking(pick: (waiting: number) => number) {
  const waiting: Array<() => void> = [];
  let changed = deferred();
  let running = 0;
  return {
    turn: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        changed.resolve();
      }),
    async all<T>(starts: Array<() => Promise<T>>): Promise<T[]> {
      running = starts.length;
      const runs = starts.map((start) =>
        start().finally(() => {
          running -= 1;
          changed.resolve();
        }),
      );
      while (running > 0) {
        await changed.promise;
        changed = deferred();
        if (running > 0 && waiting.length === running) waiting.splice(pick(running), 1)[0]?.();
      }
      return Promise.all(runs);
    },
  };
}

describe('recoverAbandoned reporting a run', () => {
  it('claims every abandoned checkout and counts each by where it ended', async () => {
    const fakes = createSagaFakes();
    const [failed, completed, incomplete, attention] = IDS;
    left(fakes, { id: failed, status: 'pending' }); // no charge found: undone
    left(fakes, { id: completed, status: 'inventory_deducted' });
    fakes.order.orders.set(completed, [{ orderId: 'ord_found', status: 'created' }]);
    failFor(fakes.inventory, 'findDeductions', [incomplete, attention], unknown('inventory'));
    left(fakes, { id: incomplete, status: 'payment_processed' });
    left(fakes, { id: attention, status: 'payment_processed', settleTries: 2 });

    const report = await recover(fakes, { maxAttempts: 3 });

    expect(report).toEqual({
      claimed: 4,
      outcomes: { failed: 1, completed: 1, incomplete: 1, requires_attention: 1 },
    });
    expect(
      [failed, completed, incomplete, attention].map((id) => stored(fakes, id).status),
    ).toEqual(['failed', 'completed', 'payment_processed', 'requires_attention']);
    expect(fakes.logger.lines.at(-1)).toMatchObject({
      level: 'info',
      message: 'recovery run finished',
      extra: [{ claimed: 4, outcomes: report.outcomes }],
    });
  });

  it('sets a row it cannot read aside as requires_attention, raising the alarm, and recovers the others', async () => {
    const fakes = createSagaFakes();
    left(fakes, { id: IDS[0], status: 'pending' });
    left(fakes, { id: IDS[1], status: 'pending' });
    storedRow(fakes, IDS[0]).unreadable = true;

    const report = await recover(fakes);

    expect(report).toEqual({ claimed: 2, outcomes: { unreadable: 1, failed: 1 } });
    expect(stored(fakes, IDS[0])).toMatchObject({ status: 'requires_attention' });
    expect(checkoutIdsOf(fakes, 'payment.findCharges')).toEqual([IDS[1]]);
    expect(fakes.metrics.outcomes).toContainEqual({ status: 'requires_attention' });
    const alarm = fakes.logger.lines.find((l) => l.message.includes('its row cannot be read'));
    expect(alarm).toMatchObject({ level: 'error', extra: [{ checkout_id: IDS[0] }] });
  });

  it('counts a checkout taken over by another worker mid-recovery, writing nothing more', async () => {
    const fakes = createSagaFakes();
    left(fakes, { status: 'pending' });
    fakes.payment.charges.set(ID, [{ transactionId: 'txn_found', status: 'success' }]);
    const findCharges = fakes.payment.findCharges.bind(fakes.payment);
    fakes.payment.findCharges = async (checkoutId) => {
      // Meanwhile the client retried with the same key after the lease ended: a take-over.
      storedRow(fakes, ID).lockedUntil = expired();
      await fakes.repository.takeOver(ID, 60_000, 'request:retry');
      return findCharges(checkoutId);
    };

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ taken_over: 1 });
    expect(fakes.repository.writes).toEqual([]);
    expect(stored(fakes)).toMatchObject({ status: 'pending', attempt: 3 });
    expect(callsNamed(fakes, 'payment.refund')).toEqual([]);
  });

  it('counts an unexpected error, logs it, and goes on with the next checkout', async () => {
    const fakes = createSagaFakes();
    left(fakes, { id: IDS[0], status: 'pending' });
    left(fakes, { id: IDS[1], status: 'inventory_deducted' });
    fakes.order.orders.set(IDS[1], [{ orderId: 'ord_found', status: 'created' }]);
    const bug = new TypeError('cannot read properties of undefined');
    failFor(fakes.payment, 'findCharges', [IDS[0]], bug);

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ error: 1, completed: 1 });
    expect(stored(fakes, IDS[0]).status).toBe('pending');
    expect(fakes.logger.lines).toContainEqual({
      level: 'error',
      message: 'recovery of a checkout failed',
      extra: [{ checkout_id: IDS[0], error: 'cannot read properties of undefined' }],
    });
  });
});

describe('recoverAbandoned reporting the backlog', () => {
  it('reports how many checkouts are still unfinished and the age of the oldest after the run', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.findDeductions = unknown('inventory');
    const fiveMinutesAgo = new Date(FIXED_NOW.getTime() - 300_000).toISOString();
    left(fakes, { id: IDS[0], status: 'payment_processed', createdAt: fiveMinutesAgo });
    left(fakes, { id: IDS[1], status: 'pending' }); // nothing charged: undone, no longer unfinished

    await recover(fakes);

    expect(fakes.metrics.backlogs).toMatchObject([{ unfinished: 1, oldestAgeSeconds: 300 }]);
  });

  it('finishes the run when the backlog cannot be read: its work is written, the metric skipped', async () => {
    const fakes = createSagaFakes();
    left(fakes, { id: IDS[0], status: 'pending' });
    fakes.repository.failWith.backlog = new Error('connection terminated');

    const report = await recover(fakes);

    expect(report.outcomes).toEqual({ failed: 1 });
    expect(stored(fakes, IDS[0]).status).toBe('failed');
    expect(fakes.metrics.backlogs).toEqual([]);
    expect(fakes.logger.lines).toContainEqual({
      level: 'warn',
      message: 'backlog not reported',
      extra: [{ error: 'connection terminated' }],
    });
  });

  it('reports an empty backlog as 0, so the age alarm sees it fall back', async () => {
    const fakes = createSagaFakes();
    await recover(fakes);
    expect(fakes.metrics.backlogs).toMatchObject([{ unfinished: 0, oldestAgeSeconds: 0 }]);
  });
});

describe('recoverAbandoned over several runs', () => {
  it('keeps a checkout whose lookup got no answer under the new lease, so the next run does not claim it again at once', async () => {
    const fakes = createSagaFakes();
    left(fakes, { status: 'pending' });
    fakes.payment.failWith.findCharges = unknown('payment');
    expect(await recover(fakes)).toEqual({ claimed: 1, outcomes: { incomplete: 1 } });
    expect((await recover(fakes)).claimed).toBe(0);
    expect(callsNamed(fakes, 'payment.findCharges')).toHaveLength(1);
  });

  it('gives a checkout whose lookups get no answer up after maxAttempts runs, each asking once', async () => {
    const fakes = createSagaFakes({ leaseMs: 60_000 });
    left(fakes, { status: 'pending', attempt: 1 });
    fakes.payment.failWith.findCharges = unknown('payment');
    const outcomes: string[] = [];
    for (let run = 0; run < 4; run++) {
      const report = await recover(fakes, { maxAttempts: 3 });
      outcomes.push(...Object.keys(report.outcomes));
      const row = storedRow(fakes, ID);
      if (row.lockedUntil) row.lockedUntil = expired();
    }
    expect(outcomes).toEqual(['incomplete', 'incomplete', 'requires_attention']);
    expect(callsNamed(fakes, 'payment.findCharges')).toHaveLength(3);
    expect(fakes.serviceCalls()).toEqual(Array(3).fill('payment.findCharges'));
  });
});

describe('recoverAbandoned claiming checkouts', () => {
  it('waits settleDelayMs after the lease expired before asking (a request may still land)', async () => {
    const fakes = createSagaFakes();
    left(fakes, { status: 'pending' }, new Date(FIXED_NOW.getTime() - 30_000));

    expect((await recover(fakes, { settleDelayMs: 60_000 })).claimed).toBe(0);
    expect(fakes.serviceCalls()).toEqual([]);
    expect((await recover(fakes, { settleDelayMs: 20_000 })).claimed).toBe(1);
  });

  it('does not claim a checkout whose lease is still active', async () => {
    const fakes = createSagaFakes();
    left(fakes, { status: 'pending' }, new Date(FIXED_NOW.getTime() + 30_000));

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
      left(fakes, { status, failure: null }, null);
      const before = structuredClone(stored(fakes));

      const report = await recover(fakes);

      expect(report.claimed).toBe(0);
      expect(fakes.serviceCalls()).toEqual([]);
      expect(fakes.repository.writes).toEqual([]);
      expect(stored(fakes)).toEqual(before);
    },
  );

  it('claims batchSize checkouts at a time, batch after batch, until a batch is not full', async () => {
    const fakes = createSagaFakes();
    for (const id of IDS) {
      left(fakes, { id, status: 'inventory_deducted' });
      fakes.order.orders.set(id, [{ orderId: `ord_${id}`, status: 'created' }]);
    }

    const report = await recover(fakes, { batchSize: 2 });

    expect(report).toEqual({ claimed: 5, outcomes: { completed: 5 } });
    expect(callsNamed(fakes, 'repository.claimAbandoned').map((c) => c.input)).toEqual([
      expect.objectContaining({ limit: 2 }),
      expect.objectContaining({ limit: 2 }),
      expect.objectContaining({ limit: 2 }),
    ]);
    expect(checkoutIdsOf(fakes, 'order.findOrders').sort()).toEqual(IDS);
    expect(IDS.map((id) => stored(fakes, id).status)).toEqual(Array(5).fill('completed'));
    expect(fakes.scheduler.scheduled).toEqual([]);
  });

  it('does not claim again in the same run a checkout it left incomplete', async () => {
    const fakes = createSagaFakes();
    fakes.order.failWith.findOrders = unknown('order');
    for (const id of IDS.slice(0, 2)) left(fakes, { id, status: 'inventory_deducted' });

    const report = await recover(fakes, { batchSize: 2, maxAttempts: 10 });

    expect(report).toEqual({ claimed: 2, outcomes: { incomplete: 2 } });
    expect(callsNamed(fakes, 'repository.claimAbandoned')).toHaveLength(2);
  });

  it('never processes a checkout twice when two runs overlap', async () => {
    const fakes = createSagaFakes();
    for (const id of IDS) {
      left(fakes, { id, status: 'pending' });
      fakes.payment.charges.set(id, [{ transactionId: `txn_${id}`, status: 'success' }]);
    }
    // Each lookup waits until both runs are in the middle of their work, then the older goes on.
    const turns = turnTaking(() => 0);
    const findCharges = fakes.payment.findCharges.bind(fakes.payment);
    fakes.payment.findCharges = async (checkoutId) => {
      await turns.turn();
      return findCharges(checkoutId);
    };

    const reports = await turns.all([
      () => recover(fakes, { batchSize: 3 }),
      () => recover(fakes, { batchSize: 3 }),
    ]);

    expect(reports.map((r) => r.claimed)).toEqual([3, 2]);
    // The first run claimed IDS 0-2, the second 3-4, and their lookups took turns.
    const [a, b, c, d, e] = IDS;
    expect(checkoutIdsOf(fakes, 'payment.findCharges')).toEqual([a, d, b, e, c]);
    expect(callsNamed(fakes, 'payment.refund')).toHaveLength(5);
    expect(reports.map((r) => r.outcomes)).toEqual([{ failed: 3 }, { failed: 2 }]);
    expect(IDS.map((id) => stored(fakes, id).attempt)).toEqual(Array(5).fill(2));
  });

  it.each([
    { order: 'the oldest waiting lookup first', pick: () => 0 },
    { order: 'the newest waiting lookup first', pick: (waiting: number) => waiting - 1 },
  ])(
    'never claims more than are abandoned when many runs overlap, taking $order',
    async ({ pick }) => {
      const fakes = createSagaFakes();
      for (const id of IDS) {
        left(fakes, { id, status: 'payment_processed' });
        fakes.inventory.deductions.set(id, [{ status: 'deducted' }]);
      }
      const turns = turnTaking(pick);
      const findDeductions = fakes.inventory.findDeductions.bind(fakes.inventory);
      fakes.inventory.findDeductions = async (checkoutId) => {
        await turns.turn();
        return findDeductions(checkoutId);
      };

      const reports = await turns.all(
        Array.from({ length: 4 }, () => () => recover(fakes, { batchSize: 2 })),
      );

      expect(reports.map((r) => r.claimed)).toEqual([2, 2, 1, 0]);
      expect(checkoutIdsOf(fakes, 'inventory.findDeductions').sort()).toEqual(IDS);
      expect(callsNamed(fakes, 'inventory.release')).toHaveLength(5);
    },
  );

  it('stops picking up claimed checkouts once the deadline has passed', async () => {
    const fakes = createSagaFakes();
    for (const id of IDS) {
      left(fakes, { id, status: 'inventory_deducted' });
      fakes.order.orders.set(id, [{ orderId: `ord_${id}`, status: 'created' }]);
    }
    const findOrders = fakes.order.findOrders.bind(fakes.order);
    fakes.order.findOrders = async (checkoutId) => {
      fakes.deadline.abort();
      return findOrders(checkoutId);
    };

    const report = await recover(fakes);

    expect(report.claimed).toBe(5);
    expect(report.outcomes).toEqual({ completed: 1, left_for_next_run: 4 });
    expect(callsNamed(fakes, 'order.findOrders')).toHaveLength(1);
    // Claimed under this run's lease: a recovery run is asked for when that lease ends.
    expect(fakes.scheduler.scheduled).toEqual([
      {
        id: IDS[1],
        attempt: 2,
        leaseEndsAt: new Date(FIXED_NOW.getTime() + fakes.budget.leaseMs).toISOString(),
      },
    ]);
  });

  it('asks for another run when its deadline ends it after a full batch', async () => {
    const fakes = createSagaFakes();
    for (const id of IDS.slice(0, 2)) {
      left(fakes, { id, status: 'inventory_deducted' });
      fakes.order.orders.set(id, [{ orderId: `ord_${id}`, status: 'created' }]);
    }
    const findOrders = fakes.order.findOrders.bind(fakes.order);
    let asked = 0;
    fakes.order.findOrders = async (checkoutId) => {
      if (++asked === 2) fakes.deadline.abort(); // the batch's last checkout, then time is up
      return findOrders(checkoutId);
    };

    const report = await recover(fakes, { batchSize: 2 });

    expect(report).toEqual({ claimed: 2, outcomes: { completed: 2 } });
    expect(fakes.scheduler.scheduled.map((s) => s.id)).toEqual([IDS[1]]);
  });
});
