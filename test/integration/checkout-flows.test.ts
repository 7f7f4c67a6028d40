import { describe, expect, it } from 'vitest';
import {
  completedResponseSchema,
  failedResponseSchema,
  incompleteResponseSchema,
} from '../../lib/checkout/response-schemas.ts';
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
      total_amount: '349.70',
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
    request.items = [{ product_id: `prod_big_${newMarker()}`, quantity: 1, price: 1000.01 }];

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
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 10 });

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
    expect(refund && jsonBody(refund)).toMatchObject({ amount: 359.7, currency: 'BRL' });
    expect(header(refund, 'Idempotency-Key')).toBe(`${body.checkout_id}:refund`);
    expect(paths(calls.inventory)).toEqual(['/inventory/deduct']);
    expect(calls.order).toEqual([]);
  });

  it('answers 502 when the order service is down, releasing the stock and then refunding', async () => {
    const request = seedRequest();
    request.customer_email = `order-error+${newMarker()}@example.com`;

    const res = await api.postCheckout(request);

    expect(res.status).toBe(502);
    const body = failedResponseSchema.parse(res.json);
    expect(body).toMatchObject({ status: 'failed', error: 'order_unavailable' });
    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row?.status).toBe('failed');
    const calls = await downstreamCalls(body.checkout_id);
    expect(calls.order.length).toBe(2); // the first try and HTTP_MAX_RETRIES=1 retry
    expect(paths(calls.inventory)).toEqual(['/inventory/deduct', '/inventory/release']);
    expect(paths(calls.payment)).toEqual([
      '/payments/process',
      `/payments/${row?.payment_id}/refund`,
    ]);
    const release = calls.inventory[1] as unknown as { loggedDate: number };
    const refund = calls.payment[1] as unknown as { loggedDate: number };
    expect(release.loggedDate).toBeLessThanOrEqual(refund.loggedDate);
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

  it('marks the checkout requires_attention when the refund keeps failing', async () => {
    const request = seedRequest();
    request.customer_email = `refund-error+${newMarker()}@example.com`;
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 10 });

    const res = await api.postCheckout(request);

    expect(res.status).toBe(422);
    const body = failedResponseSchema.parse(res.json);
    expect(body.status).toBe('requires_attention');
    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row).toMatchObject({
      status: 'requires_attention',
      undo_failures: '["refund_payment"]',
    });
  });

  it('answers 503 with Retry-After when the payment outcome is unknown, and undoes nothing', async () => {
    const request = seedRequest();
    request.customer_email = `payment-timeout+${newMarker()}@example.com`;

    const res = await api.postCheckout(request);

    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = incompleteResponseSchema.parse(res.json);
    expect(body.status).toBe('pending');
    const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
    expect(row?.status).toBe('pending');
    expect(row?.locked_until).not.toBeNull();
    const calls = await downstreamCalls(body.checkout_id);
    expect(paths(calls.payment)).toEqual(['/payments/process', '/payments/process']);
    expect(calls.inventory).toEqual([]);
  });
});
