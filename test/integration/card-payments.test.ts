import { afterEach, describe, expect, it, vi } from 'vitest';

// The default flow, authorize then capture after the order, with logging on (the CPF must
// never reach a log line): both read when the app starts, so set before the handlers load.
process.env.PAYMENT_CAPTURE = 'after_order';
process.env.LOG_LEVEL = 'DEBUG';
// Above the default 5.00, so that a catalog item of 99.90 cannot be paid in 12 installments.
process.env.MIN_INSTALLMENT_AMOUNT = '10.00';
const { getApp } = await import('#lib/app.ts');
const { workBudget } = await import('#lib/checkout/lease.ts');
const { newMarker, seedRequest, useLocalApi } = await import('../support/local-api.ts');
const { header, jsonBody, receivedRequests } = await import('../support/wiremock-journal.ts');

/**
 * Cards as payment services take them, end to end against WireMock and the database: the seed's
 * raw card and a token each authorized, deducted, ordered and captured; a failure before the
 * order costs the customer nothing but a void; installments and the CPF go to the payment
 * service, the plan (never the CPF) comes back on GET.
 */

const api = useLocalApi();
afterEach(() => vi.restoreAllMocks());

const paths = (requests: { url: string }[]) => requests.map((r) => r.url);

/** Everything written to stdout and stderr (where Powertools logs) while `work` runs. */
async function captureLogs(work: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    await work();
  } finally {
    vi.restoreAllMocks();
  }
  return lines.join('');
}

const withToken = (token: string, extra: Record<string, unknown> = {}) => {
  const body = seedRequest();
  return { ...body, payment_method: { type: 'card_token', token, ...extra } };
};

describe('PAYMENT_CAPTURE=after_order against WireMock', () => {
  it('completes the seed raw-card request 200 349.70: authorize, deduct, order (payment authorized), capture', async () => {
    const res = await api.postCheckout(seedRequest());
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed', total_amount: '349.70' });
    const id = String(res.json.checkout_id);

    const payment = await receivedRequests('payment', id);
    expect(paths(payment)).toEqual(['/payments/authorize', `/payments/txn_${id}/capture`]);
    const [authorize, capture] = payment;
    expect(authorize && jsonBody(authorize)).toMatchObject({
      amount: 349.7,
      currency: 'BRL',
      installments: 1,
      payment_method: { type: 'credit_card', card_number: '4111111111111111' },
    });
    expect(header(authorize, 'Idempotency-Key')).toBe(`${id}:authorize`);
    expect(capture && jsonBody(capture)).toEqual({
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
    });
    expect(header(capture, 'Idempotency-Key')).toBe(`${id}:capture`);
    const [order] = await receivedRequests('order', id);
    expect(order && jsonBody(order)).toMatchObject({
      payment_id: `txn_${id}`,
      payment_status: 'authorized',
      total_amount: 349.7,
    });
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row).toMatchObject({ status: 'completed', payment_id: `txn_${id}`, card_last4: '1111' });
  });

  it('a checkout refused by the inventory voids the authorization and never refunds', async () => {
    const body = seedRequest();
    body.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });
    const res = await api.postCheckout(body);
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ status: 'failed', error: 'inventory_failed' });
    const id = String(res.json.checkout_id);
    const payment = paths(await receivedRequests('payment', id));
    expect(payment).toEqual(['/payments/authorize', `/payments/txn_${id}/void`]);
    expect(payment.some((p) => p.endsWith('/refund') || p.endsWith('/capture'))).toBe(false);
  });

  it('completes a token checkout end to end, keeping the brand and last 4 the authorization tells', async () => {
    const res = await api.postCheckout(withToken('tok_elo'));
    expect(res.status).toBe(200);
    const id = String(res.json.checkout_id);
    const { db } = await getApp();
    const [row] = await db.query(
      'select card_brand, card_last4, payment_method, payment_flow from checkouts where id = :id::uuid',
      { id },
    );
    expect(row).toEqual({
      card_brand: 'elo',
      card_last4: '7013',
      payment_method: 'card_token',
      payment_flow: 'after_order',
    });
    const [authorize] = await receivedRequests('payment', id, '/payments/authorize');
    expect(authorize && jsonBody(authorize)).toMatchObject({
      payment_method: { type: 'card_token', token: 'tok_elo' },
    });
  });

  it('sends installments and the CPF to the authorization only; GET shows the plan and never the CPF; no log line holds it', async () => {
    const cpf = '529.982.247-25';
    const body = { ...withToken('tok_visa', { installments: 3 }), customer_document: cpf };
    let id = '';
    const logs = await captureLogs(async () => {
      const res = await api.postCheckout(body, { 'Idempotency-Key': newMarker() });
      expect(res.status).toBe(200);
      id = String(res.json.checkout_id);
    });
    const [authorize] = await receivedRequests('payment', id, '/payments/authorize');
    expect(authorize && jsonBody(authorize)).toMatchObject({
      installments: 3,
      customer_document: '52998224725',
    });
    for (const service of ['inventory', 'order'] as const) {
      expect(JSON.stringify(await receivedRequests(service, id))).not.toContain('52998224725');
    }
    const got = await api.request(`/checkout/${id}`);
    expect(got.json.installments).toEqual({ count: 3, amounts: ['116.58', '116.56', '116.56'] });
    for (const shown of [got.text, logs]) {
      expect(shown).not.toContain('52998224725');
      expect(shown).not.toContain(cpf);
    }
    const { db } = await getApp();
    const [row] = await db.query(
      'select row_to_json(c)::text as row from checkouts c where id = :id::uuid',
      {
        id,
      },
    );
    expect(String(row?.row)).not.toContain('52998224725');
    expect(String(row?.row)).toContain('"installment_plan":{"count": 3');
  });

  it('refuses installments under the minimum of the catalog total, recording and charging nothing', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    body.items = [{ product_id: `prod_001_${marker}`, quantity: 1, price: 99.9 }];
    const res = await api.postCheckout({
      ...body,
      payment_method: { ...body.payment_method, installments: 12 },
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({
      error: 'validation_error',
      details: [
        {
          path: 'payment_method.installments',
          message:
            'each installment must be at least 10.00: at most 9 installments for a total of 99.90',
        },
      ],
    });
  });

  it('a capture whose answer is lost: 503 at order_created, then a same-key retry completes it from the lookup without capturing again', async () => {
    const key = newMarker();
    const body = withToken('tok_capture_timeout');
    const first = await api.postCheckout(body, {
      'Idempotency-Key': key,
    });
    expect(first.status).toBe(503);
    expect(first.json).toMatchObject({ status: 'order_created', error: 'checkout_incomplete' });
    const id = String(first.json.checkout_id);
    const captures = (await receivedRequests('payment', id)).filter((r) =>
      r.url.endsWith('/capture'),
    );
    const { db } = await getApp();
    await db.query(
      `update checkouts set locked_until = now() - interval '2 seconds' where id = :id::uuid`,
      { id },
    );

    const retried = await api.postCheckout(body, {
      'Idempotency-Key': key,
    });
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ checkout_id: id, status: 'completed' });
    const after = (await receivedRequests('payment', id)).filter((r) => r.url.endsWith('/capture'));
    expect(after).toHaveLength(captures.length);
    expect((await receivedRequests('order', id)).filter((r) => r.url === '/orders')).toHaveLength(
      1,
    );
  });

  it('a refused capture answers 409 requires_attention: the order stands and nothing is voided or refunded', async () => {
    const res = await api.postCheckout(withToken('tok_capture_refused'));
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({
      status: 'requires_attention',
      error: 'checkout_requires_attention',
    });
    const id = String(res.json.checkout_id);
    const payment = paths(await receivedRequests('payment', id));
    expect(payment.some((p) => p.endsWith('/void') || p.endsWith('/refund'))).toBe(false);
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row).toMatchObject({ undo_failures: '["capture_payment"]', order_id: `ord_${id}` });
  });

  it('a void that fails leaves the checkout compensating; recovery keeps voiding, never refunds, and hands it to a person', async () => {
    const body = withToken('tok_void_fails');
    body.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });
    const res = await api.postCheckout(body);
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ status: 'compensating' });
    const id = String(res.json.checkout_id);
    const app = await getApp();
    for (let run = 0; run < app.config.recovery.maxAttempts; run++) {
      await app.db.query(
        `update checkouts set locked_until = now() - interval '2 seconds' where id = :id::uuid`,
        { id },
      );
      await app.recoverAbandoned(workBudget(20_000), {
        ...app.config.recovery,
        settleDelayMs: 1000,
      });
    }
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row).toMatchObject({ status: 'requires_attention', undo_failures: '["void_payment"]' });
    const payment = paths(await receivedRequests('payment', id));
    expect(payment.filter((p) => p.endsWith('/void')).length).toBeGreaterThan(1);
    expect(payment.some((p) => p.endsWith('/refund'))).toBe(false);
  });
});
