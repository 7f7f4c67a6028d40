import { describe, expect, it } from 'vitest';
import { freePort } from '#dev/local/wiremock-process.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { receivedRequests } from '../support/wiremock-journal.ts';

// The order service on a port nobody listens on: every try is refused before it is sent, the
// one case in which a service provably did nothing (design: "unreachable").
process.env.ORDER_SERVICE_URL = `http://127.0.0.1:${await freePort()}`;

const api = useLocalApi();

describe('when the order service cannot be reached at all', () => {
  it('answers 502 order_unavailable after releasing the stock and refunding the payment', async () => {
    const marker = newMarker();
    const res = await api.postCheckout(seedRequest(marker));

    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({
      status: 'failed',
      error: 'order_unavailable',
      reason: 'econnrefused',
    });
    expect(res.text).not.toMatch(/127\.0\.0\.1/);
    const id = String(res.json.checkout_id);
    expect(await receivedRequests('payment', id, '/payments/process')).toHaveLength(1);
    expect(await receivedRequests('inventory', id, '/inventory/deduct')).toHaveLength(1);
    expect(await receivedRequests('inventory', id, '/inventory/release')).toHaveLength(1);
    expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toHaveLength(1);
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row).toMatchObject({ status: 'failed', failed_step: 'order', order_id: null });
  });
});
