import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import {
  completedResponseSchema,
  failedResponseSchema,
  incompleteResponseSchema,
} from '#dev/api-docs/response-schemas.ts';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { header, jsonBody, receivedRequests } from '../support/wiremock-journal.ts';

const api = useLocalApi();

/** Every downstream request a checkout made, by service. */
async function downstreamCalls(checkoutId: string) {
  const [payment, inventory, order] = await Promise.all([
    receivedRequests('payment', checkoutId),
    receivedRequests('inventory', checkoutId),
    receivedRequests('order', checkoutId),
  ]);
  return { payment, inventory, order };
}

const paths = (requests: { url: string }[]) => requests.map((r) => r.url);

describe('POST /checkout/process against WireMock and PostgreSQL', () => {
  it('completes the seed example with total 349.70 and sends that amount to payment', async () => {
    const res = await api.postCheckout(seedRequest());

    expect(res.status).toBe(200);
    const body = completedResponseSchema.parse(res.json);
    expect(body.total_amount).toBe('349.70');
    expect(body.currency).toBe('BRL');

    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row).toMatchObject({
      status: 'completed',
      total_amount: '349.700', // numeric(15,3): exact for every currency
      payment_id: body.payment_id,
      order_id: body.order_id,
      card_last4: '1111',
      response_status: 200,
      response_body: res.text,
    });

    const calls = await downstreamCalls(body.checkout_id);
    expect(paths(calls.payment)).toEqual(['/payments/process']);
    expect(paths(calls.inventory)).toEqual(['/inventory/deduct']);
    expect(paths(calls.order)).toEqual(['/orders']);
    const charge = calls.payment[0];
    expect(charge && jsonBody(charge)).toMatchObject({ amount: 349.7, currency: 'BRL' });
    expect(charge?.body).toContain('"amount":349.7');
    expect(header(charge, 'Idempotency-Key')).toBe(`${body.checkout_id}:charge`);
    expect(header(calls.inventory[0], 'Idempotency-Key')).toBe(`${body.checkout_id}:deduct`);
    const order = calls.order[0];
    expect(order && jsonBody(order)).toMatchObject({
      total_amount: 349.7,
      payment_id: body.payment_id,
      items: [
        { quantity: 2, price: 99.9 },
        { quantity: 1, price: 149.9 },
      ],
    });
  });

  it('answers GET /checkout/{id} with the stored checkout and no card data', async () => {
    const created = await api.postCheckout(seedRequest());
    const id = String(created.json.checkout_id);

    const res = await api.request(`/checkout/${id}`);

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      checkout_id: id,
      status: 'completed',
      total_amount: '349.70',
    });
    expect(res.text).not.toContain('4111111111111111');
    expect((await api.request('/checkout/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await api.request('/checkout/not-a-uuid')).status).toBe(400);
  });

  it('refuses insufficient funds with 422, records the row failed and never calls inventory', async () => {
    const request = seedRequest();
    request.items = [{ product_id: 'prod_luxury', quantity: 1, price: 1000.01 }];

    const res = await api.postCheckout(request);

    expect(res.status).toBe(422);
    const body = failedResponseSchema.parse(res.json);
    expect(body).toMatchObject({
      status: 'failed',
      error: 'payment_failed',
      reason: 'insufficient_funds',
    });
    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row).toMatchObject({
      status: 'failed',
      failed_step: 'payment',
      reason: 'insufficient_funds',
    });
    const calls = await downstreamCalls(body.checkout_id);
    expect(paths(calls.payment)).toEqual(['/payments/process']);
    expect(calls.inventory).toEqual([]);
    expect(calls.order).toEqual([]);
  });

  it('answers out of stock with 422 and refunds the payment', async () => {
    const request = seedRequest();
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });

    const res = await api.postCheckout(request);

    expect(res.status).toBe(422);
    const body = failedResponseSchema.parse(res.json);
    expect(body).toMatchObject({
      status: 'failed',
      error: 'inventory_failed',
      reason: 'out_of_stock',
    });
    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row?.status).toBe('failed');
    const calls = await downstreamCalls(body.checkout_id);
    expect(paths(calls.payment)).toEqual([
      '/payments/process',
      `/payments/${row?.payment_id}/refund`,
    ]);
    const refund = calls.payment[1];
    expect(refund && jsonBody(refund)).toMatchObject({ amount: 499.6, currency: 'BRL' });
    expect(header(refund, 'Idempotency-Key')).toBe(`${body.checkout_id}:refund`);
    expect(paths(calls.inventory)).toEqual(['/inventory/deduct']);
    expect(calls.order).toEqual([]);
  });

  it('answers 422 order_failed for an address the order service rejects, undoing both steps', async () => {
    const request = seedRequest();
    request.shipping_address.zip_code = '00000-000';

    const res = await api.postCheckout(request);

    expect(res.status).toBe(422);
    const body = failedResponseSchema.parse(res.json);
    expect(body).toMatchObject({
      error: 'order_failed',
      reason: 'invalid_address',
      status: 'failed',
    });
    const calls = await downstreamCalls(body.checkout_id);
    expect(paths(calls.inventory)).toEqual(['/inventory/deduct', '/inventory/release']);
    expect(calls.payment.length).toBe(2);
  });

  it('leaves a refund that keeps failing to recovery, which asks for attention after its tries', async () => {
    const request = seedRequest();
    request.customer_email = `refund-error+${newMarker()}@example.com`;
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });

    const res = await api.postCheckout(request);

    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 'compensating', error: 'checkout_incomplete' });
    const id = String(res.json.checkout_id);
    const row = await recover(id);
    expect(row).toMatchObject({
      status: 'requires_attention',
      undo_failures: '["refund_payment"]',
      response_status: 409,
    });
    const refunds = await downstreamCalls(id);
    expect(refunds.payment.filter((c) => c.url.endsWith('/refund')).length).toBeGreaterThan(1);
  });

  it('leaves a release that keeps failing to recovery, which asks for attention after its tries', async () => {
    const request = seedRequest();
    request.items.push({ product_id: 'prod_release_fails', quantity: 1, price: 149.9 });
    request.shipping_address.zip_code = '00000-000';

    const res = await api.postCheckout(request);

    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 'compensating', error: 'checkout_incomplete' });
    const row = await recover(String(res.json.checkout_id));
    expect(row.status).toBe('requires_attention');
    expect(String(row.undo_failures)).toContain('release_inventory');
    expect(row.response_status).toBe(409);
    expect(JSON.parse(String(row.response_body))).toMatchObject({
      status: 'requires_attention',
      error: 'checkout_requires_attention',
    });
  });
});

type SeedRequest = ReturnType<typeof seedRequest>;
type Service = 'payment' | 'inventory' | 'order';

/**
 * The README's fault test values. Each one leaves the step's outcome unknown (503, nothing
 * undone); recovery then settles it by the service's lookup: the default lookups say the step
 * happened, and a fault that did not act makes its WireMock say "nothing there" for that
 * checkout (through a webhook, so the test waits for it before recovering).
 */
const FAULT_VALUES: {
  value: string;
  set: (request: SeedRequest, marker: string) => void;
  service: Service;
  point: 'pending' | 'payment_processed' | 'inventory_deducted';
  didNotAct?: boolean;
  settled: { status: 'failed' | 'completed'; refund: number; release: number };
}[] = [
  {
    value: 'email payment-error (a 503 that did not charge)',
    set: (r, m) => {
      r.customer_email = `payment-error+${m}@example.com`;
    },
    service: 'payment',
    point: 'pending',
    didNotAct: true,
    settled: { status: 'failed', refund: 0, release: 0 },
  },
  {
    value: 'email payment-timeout (a timed-out charge that happened)',
    set: (r, m) => {
      r.customer_email = `payment-timeout+${m}@example.com`;
    },
    service: 'payment',
    point: 'pending',
    settled: { status: 'failed', refund: 1, release: 0 },
  },
  {
    value: 'email payment-timeout-lost (a timed-out charge that did not happen)',
    set: (r, m) => {
      r.customer_email = `payment-timeout-lost+${m}@example.com`;
    },
    service: 'payment',
    point: 'pending',
    didNotAct: true,
    settled: { status: 'failed', refund: 0, release: 0 },
  },
  {
    value: 'email payment-reset',
    set: (r, m) => {
      r.customer_email = `payment-reset+${m}@example.com`;
    },
    service: 'payment',
    point: 'pending',
    settled: { status: 'failed', refund: 1, release: 0 },
  },
  {
    value: 'item prod_inventory_error (a 500 that did not deduct)',
    set: (r) => {
      r.items.push({ product_id: 'prod_inventory_error', quantity: 1, price: 149.9 });
    },
    service: 'inventory',
    point: 'payment_processed',
    didNotAct: true,
    settled: { status: 'failed', refund: 1, release: 0 },
  },
  {
    value: 'item prod_inventory_timeout',
    set: (r) => {
      r.items.push({ product_id: 'prod_inventory_timeout', quantity: 1, price: 149.9 });
    },
    service: 'inventory',
    point: 'payment_processed',
    settled: { status: 'failed', refund: 1, release: 1 },
  },
  {
    value: 'item prod_inventory_reset',
    set: (r) => {
      r.items.push({ product_id: 'prod_inventory_reset', quantity: 1, price: 149.9 });
    },
    service: 'inventory',
    point: 'payment_processed',
    settled: { status: 'failed', refund: 1, release: 1 },
  },
  {
    value: 'email order-error (a 503 that did not create the order)',
    set: (r, m) => {
      r.customer_email = `order-error+${m}@example.com`;
    },
    service: 'order',
    point: 'inventory_deducted',
    didNotAct: true,
    settled: { status: 'failed', refund: 1, release: 1 },
  },
  {
    value: 'email order-timeout',
    set: (r, m) => {
      r.customer_email = `order-timeout+${m}@example.com`;
    },
    service: 'order',
    point: 'inventory_deducted',
    settled: { status: 'completed', refund: 0, release: 0 },
  },
  {
    value: 'email order-reset',
    set: (r, m) => {
      r.customer_email = `order-reset+${m}@example.com`;
    },
    service: 'order',
    point: 'inventory_deducted',
    settled: { status: 'completed', refund: 0, release: 0 },
  },
];

const STEP_PATHS: Record<Service, string> = {
  payment: '/payments/process',
  inventory: '/inventory/deduct',
  order: '/orders',
};
const LOOKUP_PATHS: Record<Service, string> = {
  payment: '/payments',
  inventory: '/inventory/deductions',
  order: '/orders',
};

/** Waits until the service's lookup answers an empty list for the checkout (a webhook's stub). */
async function untilLookupIsEmpty(service: Service, checkoutId: string) {
  const url = `${inject('wiremock')[service]}${LOOKUP_PATHS[service]}?checkout_id=${checkoutId}`;
  for (let i = 0; i < 100; i++) {
    const body = (await (await fetch(url)).json()) as Record<string, unknown[]>;
    if (Object.values(body)[0]?.length === 0) return;
    await sleep(50);
  }
  throw new Error(`the ${service} lookup for ${checkoutId} never answered an empty list`);
}

/** Runs the recovery function, expiring the lease before each run, until the checkout is final. */
async function recover(checkoutId: string) {
  const app = await getApp();
  const { db, config } = app;
  for (let run = 0; run < 10; run++) {
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

describe('fault test values: 503 with nothing undone, then recovery settles by lookup', () => {
  it.each(FAULT_VALUES)('$value', async ({ set, service, point, didNotAct, settled }) => {
    const marker = newMarker();
    const request = seedRequest(marker);
    set(request, marker);

    const res = await api.postCheckout(request);

    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = incompleteResponseSchema.parse(res.json);
    expect(body).toMatchObject({ status: point, error: 'checkout_incomplete' });
    const id = body.checkout_id;
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row?.status).toBe(point);
    expect(row?.locked_until).not.toBeNull();
    const before = await downstreamCalls(id);
    // the first try and HTTP_MAX_RETRIES=1 retry, both with the step's one key
    expect(paths(before[service])).toEqual([STEP_PATHS[service], STEP_PATHS[service]]);
    expect(new Set(before[service].map((c) => header(c, 'Idempotency-Key')))).toHaveProperty(
      'size',
      1,
    );
    expect(paths(before.payment).filter((p) => p.endsWith('/refund'))).toEqual([]);
    expect(paths(before.inventory)).not.toContain('/inventory/release');
    if (didNotAct) await untilLookupIsEmpty(service, id);

    const final = await recover(id);

    const after = await downstreamCalls(id);
    expect(paths(after[service]).filter((p) => p === STEP_PATHS[service])).toHaveLength(2);
    const refunds = paths(after.payment).filter((p) => p.endsWith('/refund'));
    const releases = paths(after.inventory).filter((p) => p === '/inventory/release');
    expect([refunds.length, releases.length]).toEqual([settled.refund, settled.release]);
    if (settled.refund) expect(refunds).toEqual([`/payments/txn_${id}/refund`]);
    // The order of the undos (release, then refund) is asserted by the unit tests of recovery:
    // two WireMocks log to the millisecond, which cannot order two calls made within one.
    if (settled.status === 'completed') {
      expect(final).toMatchObject({ status: 'completed', order_id: `ord_${id}` });
    } else {
      expect(final).toMatchObject({ status: 'failed', reason: 'abandoned' });
      if (service !== 'order') expect(after.order).toEqual([]);
      if (service === 'payment') expect(after.inventory).toEqual([]);
    }
  });
});
