import { describe, expect, it } from 'vitest';
import { listCheckouts } from '#lib/checkout/operations/list-checkouts.ts';
import { type Resolution, resolveCheckout } from '#lib/checkout/operations/resolve-checkout.ts';
import { retryCheckout } from '#lib/checkout/operations/retry-checkout.ts';
import { showCheckout } from '#lib/checkout/operations/show-checkout.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { recoverAbandoned } from '#lib/checkout/recover-abandoned.ts';
import type { RecoveryOptions } from '#lib/checkout/recovery.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  refused,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
  unavailable,
  unknown,
} from './fakes.ts';

/**
 * The operator's use cases (`npm run checkouts`, the operator function) over the fakes. Each
 * checkout gets where it is through the real saga and recovery, so its history is the one they
 * write.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const RECOVERY: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 1,
  maxAgeHours: 24,
  settleDelayMs: 0,
};
const operator = (fakes: SagaFakes) => ({ ...fakes.budget, worker: 'operator:ana' });
const resolve = (fakes: SagaFakes, resolution: Resolution) =>
  resolveCheckout(fakes.deps, ID, resolution, operator(fakes), { settleDelayMs: 0 });
/** What a person does in the payment provider's console. */
const refundByHand = (fakes: SagaFakes) => {
  for (const charge of fakes.payment.charges.get(ID) ?? []) charge.status = 'refunded';
};

const expireLease = (fakes: SagaFakes) => {
  storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
};

/**
 * A checkout whose stock was refused and whose refund kept failing: the request leaves it
 * compensating, recovery (one try allowed) gives it up as `requires_attention`.
 */
async function needingAttention(): Promise<SagaFakes> {
  const fakes = createSagaFakes();
  fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
  fakes.payment.failWith.refund = unavailable('payment');
  await processCheckout(fakes.deps, { cart: sampleCart(), secrets: sampleSecrets() }, fakes.budget);
  expireLease(fakes);
  await recoverAbandoned(fakes.deps, RECOVERY, { ...fakes.budget, worker: 'recovery:run-1' });
  expect(storedRow(fakes, ID).checkout.status).toBe('requires_attention');
  return fakes;
}

describe('listCheckouts', () => {
  it('lists what needs a person and what is unfinished by default, not what ended', async () => {
    const attention = await needingAttention();
    const completed = createSagaFakes();
    await processCheckout(
      completed.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      completed.budget,
    );

    expect((await listCheckouts(attention.deps, {})).checkouts.map((c) => c.status)).toEqual([
      'requires_attention',
    ]);
    expect(await listCheckouts(completed.deps, {})).toEqual({ checkouts: [], unreadable: [] });
    const ended = await listCheckouts(completed.deps, { statuses: ['completed'] });
    expect(ended.checkouts).toHaveLength(1);
  });
});

describe('showCheckout', () => {
  it('shows the checkout, its history by worker, and what each service holds', async () => {
    const fakes = await needingAttention();

    const report = await showCheckout(fakes.deps, ID);

    expect(report?.checkout).toMatchObject({ id: ID, status: 'requires_attention' });
    expect(report?.history.map((t) => [t.from, t.to, t.by])).toEqual([
      [null, 'pending', 'request:test'],
      ['pending', 'payment_processed', 'request:test'],
      ['payment_processed', 'compensating', 'request:test'],
      ['compensating', 'compensating', 'recovery:run-1'],
      ['compensating', 'compensating', 'recovery:run-1'],
      ['compensating', 'requires_attention', 'recovery:run-1'],
    ]);
    expect(report?.services).toEqual({
      payment: { records: [{ transactionId: 'txn_0001', status: 'success' }] },
      inventory: { records: [] },
      order: { records: [] },
    });
  });

  it('says which service could not answer instead of failing the report', async () => {
    const fakes = await needingAttention();
    fakes.order.failWith.findOrders = unknown('order');

    const report = await showCheckout(fakes.deps, ID);

    expect(report?.services.order).toEqual({ unknown: expect.stringContaining('order') });
    expect(report?.services.payment).toHaveProperty('records');
  });

  it('finds nothing for an unknown id', async () => {
    expect(await showCheckout(createSagaFakes().deps, ID)).toBeUndefined();
  });
});

describe('retryCheckout', () => {
  it('reopens a checkout given up in compensation and undoes it now: refunded, failed', async () => {
    const fakes = await needingAttention();
    fakes.payment.failWith.refund = undefined;

    const outcome = await retryCheckout(fakes.deps, ID, RECOVERY, operator(fakes));

    expect(outcome).toMatchObject({ kind: 'refused', checkout: { status: 'failed' } });
    expect(fakes.payment.charges.get(ID)).toEqual([
      { transactionId: 'txn_0001', status: 'refunded' },
    ]);
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual([]);
    expect(
      storedRow(fakes, ID)
        .history?.slice(-2)
        .map((t) => [t.from, t.to, t.by]),
    ).toEqual([
      ['requires_attention', 'compensating', 'operator:ana'],
      ['compensating', 'failed', 'operator:ana'],
    ]);
  });

  it('refuses a checkout that ended, and one another worker holds', async () => {
    const ended = createSagaFakes();
    await processCheckout(
      ended.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      ended.budget,
    );
    const held = createSagaFakes();
    held.inventory.failWith.deduct = unknown('inventory');
    await processCheckout(held.deps, { cart: sampleCart(), secrets: sampleSecrets() }, held.budget);

    expect(await retryCheckout(ended.deps, ID, RECOVERY, operator(ended))).toEqual({
      refused: 'finished',
    });
    expect(await retryCheckout(held.deps, ID, RECOVERY, operator(held))).toEqual({
      refused: 'held',
    });
    expect(held.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct']);
  });

  it('waits the settle delay after the lease ended, as recovery does: a request may still land', async () => {
    const fakes = createSagaFakes();
    fakes.inventory.failWith.deduct = unknown('inventory');
    await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );
    expireLease(fakes);
    const options = { ...RECOVERY, settleDelayMs: 60_000 };

    expect(await retryCheckout(fakes.deps, ID, options, operator(fakes))).toEqual({
      refused: 'settling',
    });
    expect(fakes.serviceCalls()).toEqual(['payment.charge', 'inventory.deduct']);
  });
});

describe('resolveCheckout', () => {
  it('records a checkout a person settled by hand, with the note and the operator', async () => {
    const fakes = await needingAttention();
    refundByHand(fakes);

    const outcome = await resolve(fakes, {
      as: 'failed',
      note: 'refunded in the payment console, ticket 4711',
    });

    expect(outcome).toMatchObject({ kind: 'refused', checkout: { status: 'failed' } });
    const row = storedRow(fakes, ID);
    expect(row.checkout).toMatchObject({ status: 'failed', undoFailures: [] });
    expect(row.history?.at(-1)).toMatchObject({
      from: 'requires_attention',
      to: 'failed',
      by: 'operator:ana',
      cause: expect.stringContaining('refunded in the payment console, ticket 4711'),
    });
    // A repeated Idempotency-Key now gets the resolved answer, without the undo failures.
    expect(row.response?.body).not.toContain('needs attention');
    expect(fakes.serviceCalls().filter((c) => c === 'payment.refund')).toHaveLength(2);
  });

  it('refuses to resolve without a note, changing nothing', async () => {
    const fakes = await needingAttention();
    const before = structuredClone(storedRow(fakes, ID));

    await expect(resolve(fakes, { as: 'completed', note: '  ' })).rejects.toThrow(/note/);
    expect(storedRow(fakes, ID)).toEqual(before);
  });

  it('refuses to call a checkout failed while its charge stands, changing nothing', async () => {
    const fakes = await needingAttention();
    const before = structuredClone(storedRow(fakes, ID));

    expect(await resolve(fakes, { as: 'failed', note: 'I think it was refunded' })).toEqual({
      refused: 'services_disagree',
      detail: 'charge txn_0001 still stands',
    });
    expect(storedRow(fakes, ID)).toEqual(before);
  });

  it('refuses to call a checkout completed without a charge that stands and a created order', async () => {
    const fakes = await needingAttention();
    refundByHand(fakes);

    expect(await resolve(fakes, { as: 'completed', note: 'shipped' })).toEqual({
      refused: 'services_disagree',
      detail: 'no charge or capture that stands and no created order',
    });
    expect(storedRow(fakes, ID).checkout.status).toBe('requires_attention');
  });

  it('records a completed resolution with the ids the services hold', async () => {
    const fakes = await needingAttention();
    fakes.inventory.deductions.set(ID, [{ status: 'deducted' }]);
    fakes.order.orders.set(ID, [{ orderId: 'ord_by_hand', status: 'created' }]);

    const outcome = await resolve(fakes, { as: 'completed', note: 'order placed by support' });

    expect(outcome).toMatchObject({
      kind: 'completed',
      checkout: { status: 'completed', paymentId: 'txn_0001', orderId: 'ord_by_hand' },
    });
  });

  it('records what the services cannot confirm only when forced, and says so in the history', async () => {
    const fakes = await needingAttention();
    fakes.payment.failWith.findCharges = unknown('payment');

    expect(await resolve(fakes, { as: 'failed', note: 'provider down' })).toEqual({
      refused: 'services_unknown',
      detail: 'payment could not be asked',
    });
    const forced = await resolve(fakes, {
      as: 'failed',
      note: 'refunded by phone with the provider',
      force: true,
    });

    expect(forced).toMatchObject({ checkout: { status: 'failed' } });
    expect(storedRow(fakes, ID).history?.at(-1)?.cause).toBe(
      'resolved by hand as failed (forced: payment could not be asked): refunded by phone with the provider',
    );
  });

  it('refuses to resolve a checkout that ended', async () => {
    const fakes = createSagaFakes();
    await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );
    expect(await resolve(fakes, { as: 'failed', note: 'x' })).toEqual({ refused: 'finished' });
    expect(storedRow(fakes, ID).checkout.status).toBe('completed');
  });
});

describe('operations on a Pix', () => {
  /** A Pix issued and waiting for its customer. */
  async function issuedPix(): Promise<SagaFakes> {
    const fakes = createSagaFakes();
    fakes.payment.transactionId = 'pix_0001';
    const cart = { ...sampleCart(), card: null, method: 'pix' as const };
    const secrets = { instrument: { type: 'pix' as const }, customerDocument: '52998224725' };
    await processCheckout(
      fakes.deps,
      { cart: { ...cart, asyncTerms: { method: 'pix' } }, secrets },
      fakes.budget,
    );
    expect(storedRow(fakes, ID).checkout.status).toBe('awaiting_payment');
    return fakes;
  }

  it('lists it as awaiting payment by default, and by its status', async () => {
    const fakes = await issuedPix();
    const listed = (statuses?: ('awaiting_payment' | 'failed')[]) =>
      listCheckouts(fakes.deps, statuses ? { statuses } : {}).then((l) =>
        l.checkouts.map((c) => c.id),
      );
    expect(await listed()).toEqual([ID]);
    expect(await listed(['awaiting_payment'])).toEqual([ID]);
    expect(await listed(['failed'])).toEqual([]);
  });

  it('resolves a paid Pix with its order as completed without forcing, a pending one never as failed', async () => {
    const fakes = await issuedPix();
    expect(await resolve(fakes, { as: 'failed', note: 'customer gave up' })).toEqual({
      refused: 'services_disagree',
      detail: 'charge pix_0001 still stands, stock is still deducted',
    });
    fakes.payment.pay(ID);
    fakes.order.orders.set(ID, [{ orderId: 'ord_by_hand', status: 'created' }]);
    const outcome = await resolve(fakes, { as: 'completed', note: 'order made by hand' });
    expect(outcome).toMatchObject({
      kind: 'completed',
      checkout: { paymentId: 'pix_0001', orderId: 'ord_by_hand' },
    });
  });

  it('retries a waiting Pix by looking it up now, as the sweep would', async () => {
    const fakes = await issuedPix();
    fakes.payment.pay(ID);
    const outcome = await retryCheckout(fakes.deps, ID, RECOVERY, operator(fakes));
    expect(outcome).toMatchObject({ kind: 'completed' });
  });
});
