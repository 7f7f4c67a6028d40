import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#dev/local/wiremock-process.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { portThatNeverAccepts, resolveToTwoLoopbacks } from '../support/unreachable-hosts.ts';
import { receivedRequests } from '../support/wiremock-journal.ts';

/**
 * The order service where no try can reach it, so it provably did nothing (design:
 * "unreachable"): the earlier steps are undone and the answer is 502. Each describe runs the
 * app afresh with its own ORDER_SERVICE_URL.
 */
function orderServiceAt(url: () => Promise<string>) {
  beforeAll(async () => {
    process.env.ORDER_SERVICE_URL = await url();
  });
  return useLocalApi();
}

/** Posts the seed checkout and checks it failed at the order step with everything undone. */
async function expectUndoneAfterUnreachableOrder(
  api: ReturnType<typeof useLocalApi>,
  reason: string,
) {
  const marker = newMarker();
  const res = await api.postCheckout(seedRequest(marker));

  expect(res.status).toBe(502);
  expect(res.json).toMatchObject({ status: 'failed', error: 'order_unavailable', reason });
  expect(res.text).not.toMatch(/127\.0\.0\.|\.test\b/);
  const id = String(res.json.checkout_id);
  expect(await receivedRequests('payment', id, '/payments/process')).toHaveLength(1);
  expect(await receivedRequests('inventory', id, '/inventory/deduct')).toHaveLength(1);
  expect(await receivedRequests('inventory', id, '/inventory/release')).toHaveLength(1);
  expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toHaveLength(1);
  const [row] = await api.checkoutRows('id = :id::uuid', { id });
  expect(row).toMatchObject({ status: 'failed', failed_step: 'order', order_id: null });
}

describe('when the order service refuses every connection', () => {
  // A port nobody listens on: every try is refused before it is sent.
  const api = orderServiceAt(async () => `http://127.0.0.1:${await freePort()}`);

  it('answers 502 order_unavailable after releasing the stock and refunding the payment', async () => {
    await expectUndoneAfterUnreachableOrder(api, 'econnrefused');
  });
});

describe('when every address of the order service’s name refuses', () => {
  // Two addresses, as `localhost` or a load balancer's name has: Node tries both (happy
  // eyeballs) and reports an AggregateError without a `syscall`; still nothing was sent.
  const name = 'two-addresses.order.test';
  let restore = () => {};
  const api = orderServiceAt(async () => {
    restore = resolveToTwoLoopbacks(name);
    return `http://${name}:${await freePort()}`;
  });
  afterAll(() => restore());

  it('answers 502 order_unavailable after releasing the stock and refunding the payment', async () => {
    await expectUndoneAfterUnreachableOrder(api, 'econnrefused');
  });
});

describe('when no connection to the order service opens before the timeout', () => {
  let close = () => {};
  const api = orderServiceAt(async () => {
    const silent = await portThatNeverAccepts();
    close = silent.close;
    return `http://127.0.0.1:${silent.port}`;
  });
  afterAll(() => close());

  it('answers 502 order_unavailable after releasing the stock and refunding the payment', async () => {
    await expectUndoneAfterUnreachableOrder(api, 'connect_timeout');
  });
});
