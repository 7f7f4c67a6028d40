import { describe, expect, it } from 'vitest';

const { getApp } = await import('#lib/app.ts');
const { workBudget } = await import('#lib/checkout/lease.ts');
const { LOCAL_WEBHOOK_SECRET } = await import('#lib/config.ts');
const { signWebhook, WEBHOOK_SIGNATURE_HEADER } = await import('#lib/http/webhook-signature.ts');
const { markPaid } = await import('../../scripts/pay/paid-stubs.ts');
const { paidEvent } = await import('../../scripts/pay/paid-webhook.ts');
const { seedRequest, useLocalApi } = await import('../support/local-api.ts');
const { header, receivedRequests } = await import('../support/wiremock-journal.ts');
const { lookup, untilWebhooksDone } = await import('../support/wiremock-lookups.ts');

/**
 * Pix and boleto end to end, through the local API Gateway adapter, the real handlers (checkout,
 * webhook, recovery), the database and the WireMocks: 202 with the instructions, paid through a
 * signed webhook (what `npm run pay` sends), expired by the sweep, a boleto waiting through
 * recovery runs, a late payment taken again, a forged webhook refused with nothing changed.
 */

const api = useLocalApi();
const CPF = '529.982.247-25';

function pixRequest() {
  return { ...seedRequest(), payment_method: { type: 'pix' }, customer_document: CPF };
}

function boletoRequest() {
  const body = seedRequest();
  return {
    ...body,
    payment_method: { type: 'boleto' },
    customer_document: CPF,
    customer_name: 'Maria Silva',
    shipping_address: { ...body.shipping_address, neighborhood: 'Jardim Paulista' },
  };
}

/** A request recorded and issued: 202 `awaiting_payment`; its id. */
async function issued(body: Record<string, unknown>, key?: string): Promise<string> {
  const res = await api.postCheckout(body, key ? { 'idempotency-key': key } : {});
  expect(res.status, res.text).toBe(202);
  const id = String(res.json.checkout_id);
  // The lookup lists the pending charge once the creation's WireMock webhook has registered it.
  await untilWebhooksDone('payment', id);
  return id;
}

/** The payment service's webhook, signed with `secret` at `t` (unix seconds). */
function sendEvent(
  event: object,
  secret = LOCAL_WEBHOOK_SECRET,
  t = Math.floor(Date.now() / 1000),
) {
  const body = JSON.stringify(event);
  return api.request('/webhooks/payments', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, body, t),
    },
    body,
  });
}

/** The customer pays: the lookup says paid, then the service's webhook arrives. */
async function pay(id: string, transactionId: string) {
  const { payment } = (await getApp()).config;
  await markPaid(
    payment.baseUrl,
    { transactionId, checkout_id: id, status: 'pending', amount: 349.7, currency: 'BRL' },
    new Date().toISOString(),
  );
  return paidEvent(transactionId, id, new Date().toISOString());
}

const row = async (id: string) => (await api.checkoutRows('id = :id::uuid', { id }))[0];

/** Time passes: the checkout's deadline is behind it, and its next check due. */
async function pastExpiry(id: string, by = "interval '3 minutes'") {
  const { db } = await getApp();
  await db.query(
    `update checkouts set payment_expires_at = now() - ${by}, next_check_at = now()
     where id = :id::uuid`,
    { id },
  );
}

/**
 * The expiry check: the sweep cancels, and the WireMock's lookup shows the cancel once its
 * webhook has registered it (tens of ms later), so the next check (due at once) ends it.
 */
async function expire(id: string, by?: string) {
  await pastExpiry(id, by);
  await recover();
  await untilWebhooksDone('payment', id);
  await pastExpiry(id, by);
  await recover();
}

const recover = async () =>
  (await getApp()).recoverAbandoned(workBudget(30_000, undefined, 'recovery:test'), {
    batchSize: 50,
    maxAttempts: 3,
    maxAgeHours: 24,
    settleDelayMs: 0,
  });

describe('a Pix, end to end', () => {
  it('answers 202 with its QR code, completes once paid through a signed webhook, and ignores the duplicate', async () => {
    const res = await api.postCheckout(pixRequest());
    expect(res.status, res.text).toBe(202);
    const id = String(res.json.checkout_id);
    expect(res.json).toMatchObject({
      status: 'awaiting_payment',
      total_amount: '349.70',
      currency: 'BRL',
      payment_id: `pix_${id}`,
      payment: { method: 'pix', qr_code: expect.stringMatching(/^000201/) },
    });
    const [deduct] = await receivedRequests('inventory', id);
    const [create] = await receivedRequests('payment', id);
    expect(header(deduct, 'Idempotency-Key')).toBe(`${id}:deduct`);
    expect(header(create, 'Idempotency-Key')).toBe(`${id}:pix`);
    const waiting = await api.request(`/checkout/${id}`);
    expect(waiting.json).toMatchObject({ status: 'awaiting_payment', payment: { method: 'pix' } });
    expect(waiting.text).not.toContain('52998224725');
    await untilWebhooksDone('payment', id);

    const event = await pay(id, `pix_${id}`);
    const first = await sendEvent(event);
    expect(first.status, first.text).toBe(200);
    const done = await api.request(`/checkout/${id}`);
    expect(done.json).toMatchObject({ status: 'completed', order_id: `ord_${id}`, error: null });
    expect(done.json.payment).toBeUndefined();

    const again = await sendEvent(event);
    expect(again.json).toMatchObject({ received: true, duplicate: true });
    expect((await receivedRequests('order', id)).length).toBe(1);
  });

  it('refuses a forged webhook and a stale one with 401, changing nothing', async () => {
    const id = await issued(pixRequest());
    const event = await pay(id, `pix_${id}`);
    const before = await row(id);
    expect((await sendEvent(event, 'not-the-secret')).status).toBe(401);
    expect(
      (await sendEvent(event, LOCAL_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 301)).status,
    ).toBe(401);
    expect(await row(id)).toEqual(before);
    expect(await receivedRequests('order', id)).toEqual([]);
  });

  it('expires unpaid: cancelled, its stock released, answered 422 payment_expired on a retry', async () => {
    const body = pixRequest();
    const key = `pix-expires-${Date.now()}`;
    const id = await issued(body, key);
    await expire(id);
    expect(await row(id)).toMatchObject({ status: 'expired', reason: 'payment_expired' });
    await untilWebhooksDone('payment', id);
    await untilWebhooksDone('inventory', id);
    expect((await lookup('payment', id))[0]).toMatchObject({ status: 'cancelled' });
    expect((await lookup('inventory', id))[0]).toMatchObject({ status: 'released' });
    const retry = await api.postCheckout(body, { 'idempotency-key': key });
    expect(retry.status).toBe(422);
    expect(retry.json).toMatchObject({ status: 'expired', error: 'payment_expired' });
  });

  it('is not cancelled before its expiry check, however often recovery runs', async () => {
    const id = await issued(pixRequest());
    const { db } = await getApp();
    // Expired 60 s ago: within the 120 s a payment may still be confirmed in.
    await db.query(
      `update checkouts set payment_expires_at = now() - interval '60 seconds',
         next_check_at = now() where id = :id::uuid`,
      { id },
    );
    await recover();
    expect((await row(id))?.status).toBe('awaiting_payment');
    expect((await receivedRequests('payment', id)).map((r) => r.url)).not.toContain(
      `/payments/pix_${id}/cancel`,
    );
  });
});

describe('a boleto, end to end', () => {
  it('waits through recovery runs untouched, with its slip on GET', async () => {
    const id = await issued(boletoRequest());
    for (let run = 0; run < 3; run++) await recover();
    expect((await row(id))?.status).toBe('awaiting_payment');
    const got = await api.request(`/checkout/${id}`);
    expect(got.json).toMatchObject({
      status: 'awaiting_payment',
      payment: { method: 'boleto', barcode: expect.stringMatching(/^\d{44}$/) },
    });
    expect((await receivedRequests('payment', id)).map((r) => r.url)).toEqual(['/payments/boleto']);
  });

  it('paid late, after it expired: the stock deducted again under its own key, then completed', async () => {
    const id = await issued(boletoRequest());
    await expire(id, "interval '4 days'");
    expect((await row(id))?.status).toBe('expired');
    await untilWebhooksDone('payment', id);
    const event = await pay(id, `bol_${id}`);
    const res = await sendEvent(event);
    expect(res.status, res.text).toBe(200);
    expect(await row(id)).toMatchObject({
      status: 'completed',
      order_id: `ord_${id}`,
      error: null,
    });
    const deducts = (await receivedRequests('inventory', id)).filter(
      (r) => r.url === '/inventory/deduct',
    );
    expect(deducts.map((r) => header(r, 'Idempotency-Key'))).toEqual([
      `${id}:deduct`,
      `${id}:deduct_late`,
    ]);
  });
});
