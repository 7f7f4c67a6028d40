import { describe, expect, it } from 'vitest';

// The documented answers are the default flow's: authorize, capture after the order. Read when
// the app starts, so set before the handlers load.
process.env.PAYMENT_CAPTURE = 'after_order';
const { getApp } = await import('#lib/app.ts');
const { workBudget } = await import('#lib/checkout/lease.ts');
const { requestOf, TEST_VALUES } = await import('#dev/api-docs/test-values.ts');
const { useLocalApi } = await import('../support/local-api.ts');
const { receivedRequests } = await import('../support/wiremock-journal.ts');
const { lookup, untilWebhooksDone } = await import('../support/wiremock-lookups.ts');

/**
 * The last column of docs/test-values.md ("recovery ends with"), produced for real now that the
 * mocks' lookups answer only what was asked of them: each test value whose outcome is left
 * unknown is sent through the local API to the run's WireMocks, recovery runs once the lease has
 * expired, and the checkout ends as documented, with the undo documented, and each service's
 * lookup then holds what the calls did.
 */
const api = useLocalApi();

type Held = { payment: string[]; inventory: string[]; order: string[] };
type Count = number | 'repeated';
interface Outcome {
  /** The row at the end: its status and reason, and the undo that kept failing. */
  end: { status: string; reason?: string; undo_failures?: string };
  /** How many voids and releases were sent: a number, or `repeated` (each run: more than one). */
  undo: { voids: Count; releases: Count };
  /** What each lookup holds at the end: `<transaction> <status>`, a deduction's or an order's status. */
  held: (id: string) => Held;
}

const ABANDONED = { status: 'failed', reason: 'abandoned' };
const nothing = { payment: [], inventory: [], order: [] };

const OUTCOMES: Record<string, Outcome> = {
  'payment-error': { end: ABANDONED, undo: { voids: 0, releases: 0 }, held: () => nothing },
  'payment-timeout': {
    end: ABANDONED,
    undo: { voids: 1, releases: 0 },
    held: (id) => ({ ...nothing, payment: [`txn_${id} voided`] }),
  },
  'payment-timeout-lost': { end: ABANDONED, undo: { voids: 0, releases: 0 }, held: () => nothing },
  'payment-reset': {
    end: ABANDONED,
    undo: { voids: 1, releases: 0 },
    held: (id) => ({ ...nothing, payment: [`txn_${id} voided`] }),
  },
  'inventory-error': {
    end: ABANDONED,
    undo: { voids: 1, releases: 0 },
    held: (id) => ({ ...nothing, payment: [`txn_${id} voided`] }),
  },
  'inventory-timeout': {
    end: ABANDONED,
    undo: { voids: 1, releases: 1 },
    held: (id) => ({ payment: [`txn_${id} voided`], inventory: ['released'], order: [] }),
  },
  'inventory-reset': {
    end: ABANDONED,
    undo: { voids: 1, releases: 1 },
    held: (id) => ({ payment: [`txn_${id} voided`], inventory: ['released'], order: [] }),
  },
  'order-error': {
    end: ABANDONED,
    undo: { voids: 1, releases: 1 },
    held: (id) => ({ payment: [`txn_${id} voided`], inventory: ['released'], order: [] }),
  },
  'order-timeout': {
    end: { status: 'completed' },
    undo: { voids: 0, releases: 0 },
    held: (id) => ({
      payment: [`txn_${id} captured`],
      inventory: ['deducted'],
      order: [`ord_${id} created`],
    }),
  },
  'order-reset': {
    end: { status: 'completed' },
    undo: { voids: 0, releases: 0 },
    held: (id) => ({
      payment: [`txn_${id} captured`],
      inventory: ['deducted'],
      order: [`ord_${id} created`],
    }),
  },
  'capture-timeout': {
    end: { status: 'completed' },
    undo: { voids: 0, releases: 0 },
    held: (id) => ({
      payment: [`auth_capture_timeout_${id} captured`],
      inventory: ['deducted'],
      order: [`ord_${id} created`],
    }),
  },
  'refund-fails': {
    end: { status: 'requires_attention', undo_failures: '["void_payment"]' },
    undo: { voids: 'repeated', releases: 0 },
    held: (id) => ({ ...nothing, payment: [`auth_void_fails_${id} authorized`] }),
  },
  'void-fails': {
    end: { status: 'requires_attention', undo_failures: '["void_payment"]' },
    undo: { voids: 'repeated', releases: 0 },
    held: (id) => ({ ...nothing, payment: [`auth_void_fails_${id} authorized`] }),
  },
  'release-fails': {
    end: { status: 'requires_attention', undo_failures: '["release_inventory"]' },
    undo: { voids: 'repeated', releases: 'repeated' },
    held: (id) => ({ payment: [`txn_${id} voided`], inventory: ['deducted'], order: [] }),
  },
};

const SERVICES = ['payment', 'inventory', 'order'] as const;

/** Every webhook of the checkout's calls has landed: the lookups hold what the calls did. */
const untilRegistered = (id: string) =>
  Promise.all(SERVICES.map((service) => untilWebhooksDone(service, id, 0)));

/** What each lookup holds, as `show` prints it. */
async function heldBy(id: string): Promise<Held> {
  const [payment, inventory, order] = await Promise.all(SERVICES.map((s) => lookup(s, id)));
  return {
    payment: (payment ?? []).map((p) => `${p.transactionId} ${p.status}`),
    inventory: (inventory ?? []).map((d) => String(d.status)),
    order: (order ?? []).map((o) => `${o.orderId} ${o.status}`),
  };
}

/** Runs the recovery function, expiring the lease before each run, until the checkout is final. */
async function recover(checkoutId: string) {
  const app = await getApp();
  const { db, config } = app;
  for (let run = 0; run < config.recovery.maxAttempts + 2; run++) {
    await db.query(
      `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
      { id: checkoutId },
    );
    await app.recoverAbandoned(workBudget(20_000), { ...config.recovery, batchSize: 100 });
    const [row] = await api.checkoutRows('id = :id::uuid', { id: checkoutId });
    if (row && ['completed', 'failed', 'requires_attention'].includes(String(row.status)))
      return row;
  }
  throw new Error(`recovery did not finish checkout ${checkoutId}`);
}

const count = (urls: string[], suffix: string) => urls.filter((u) => u.endsWith(suffix)).length;

function expectCount(actual: number, expected: Count, what: string) {
  if (expected === 'repeated') expect(actual, what).toBeGreaterThan(1);
  else expect(actual, what).toBe(expected);
}

const documented = TEST_VALUES.filter((v) => v.recovery !== undefined);

describe('the documented recovery outcomes, against the lookups of the real mocks', () => {
  it('cover every test value whose outcome recovery settles', () => {
    expect(documented.map((v) => v.name).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  it.each(documented.map((v) => [v.name, v] as const))('%s', async (name, value) => {
    const outcome = OUTCOMES[name] as Outcome;
    const res = await api.postCheckout(requestOf(value));
    expect(res.status).toBe(value.answer.status);
    const id = String(res.json.checkout_id);
    // Recovery would not ask before the settle delay; the tests expire the lease at once.
    await untilRegistered(id);

    const final = await recover(id);

    expect(final).toMatchObject(outcome.end);
    const payment = (await receivedRequests('payment', id)).map((r) => r.url);
    const inventory = (await receivedRequests('inventory', id)).map((r) => r.url);
    expectCount(count(payment, '/void'), outcome.undo.voids, 'voids');
    expectCount(count(inventory, '/inventory/release'), outcome.undo.releases, 'releases');
    expect(count(payment, '/refund'), 'refunds').toBe(0);
    await untilRegistered(id);
    expect(await heldBy(id)).toEqual(outcome.held(id));
  });
});
