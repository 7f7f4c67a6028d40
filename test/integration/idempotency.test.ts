import { describe, expect, it } from 'vitest';
import { getApp } from '#lib/app.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { header, receivedRequests } from '../support/wiremock-journal.ts';

const api = useLocalApi();

const distinctKeys = (requests: Parameters<typeof header>[0][]) =>
  new Set(requests.map((r) => header(r, 'Idempotency-Key')));

describe('Idempotency-Key on POST /checkout/process', () => {
  it('20 concurrent requests with one key charge, deduct and order exactly once', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    const key = `key-${marker}`;

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => api.postCheckout(body, { 'Idempotency-Key': key })),
    );

    const completed = responses.filter((r) => r.status === 200);
    const inProgress = responses.filter((r) => r.status === 409);
    expect(completed.length + inProgress.length).toBe(20);
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(completed.map((r) => r.text)).size).toBe(1);
    const checkoutId = String(completed[0]?.json.checkout_id);
    for (const r of inProgress) {
      expect(r.json).toMatchObject({ error: 'checkout_in_progress', checkout_id: checkoutId });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(await api.checkoutRows('customer_email like :m', { m: `%${marker}%` })).toHaveLength(1);
    const charges = await receivedRequests('payment', marker, '/payments/process');
    const deducts = await receivedRequests('inventory', marker, '/inventory/deduct');
    const orders = await receivedRequests('order', marker, '/orders');
    expect([charges.length, deducts.length, orders.length]).toEqual([1, 1, 1]);
    const later = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(later.text).toBe(completed[0]?.text);
  });

  it('keeps keys apart by caller: the same key from two API keys records two checkouts', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    const key = `key-${marker}`;
    const as = (apiKey: string) =>
      api.postCheckout(body, { 'Idempotency-Key': key, 'x-api-key': apiKey });

    const shopA = await as('shop-a-api-key');
    const shopB = await as('shop-b-api-key');
    const shopAAgain = await as('shop-a-api-key');

    expect([shopA.status, shopB.status, shopAAgain.status]).toEqual([200, 200, 200]);
    expect(shopB.json.checkout_id).not.toBe(shopA.json.checkout_id);
    expect(shopAAgain.text).toBe(shopA.text);
    expect(shopAAgain.headers.get('idempotent-replayed')).toBe('true');
    const charges = await receivedRequests('payment', marker, '/payments/process');
    expect(charges).toHaveLength(2);
  });

  it('lets a key stored before keys had callers hold for every caller until it expires', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    const key = `key-${marker}`;
    const first = await api.postCheckout(body, { 'Idempotency-Key': key, 'x-api-key': 'old' });
    // As an earlier release stored it: the bare key.
    const { db } = await getApp();
    await db.query('update checkouts set idempotency_key = :key where id = :id::uuid', {
      key,
      id: String(first.json.checkout_id),
    });

    const again = await api.postCheckout(body, { 'Idempotency-Key': key, 'x-api-key': 'new' });

    expect(again.text).toBe(first.text);
    expect(await receivedRequests('payment', marker, '/payments/process')).toHaveLength(1);
  });

  it('replays a completed checkout byte for byte with Idempotent-Replayed', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const first = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const again = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });

    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await receivedRequests('payment', marker)).toHaveLength(1);
  });

  it('replays a refused checkout with its 422, without calling the payment service again', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const body = seedRequest(marker);
    body.payment_method.card_number = '4000000000000002';
    const first = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(first.status).toBe(422);

    const again = await api.postCheckout(body, { 'Idempotency-Key': key });

    expect(again.status).toBe(422);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await receivedRequests('payment', marker)).toHaveLength(1);
  });

  it('answers 422 idempotency_key_mismatch for the same key with another body, changing nothing', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });
    const other = seedRequest(marker);
    other.items[0] = { product_id: 'prod_002', quantity: 5, price: 149.9 };

    const res = await api.postCheckout(other, { 'Idempotency-Key': key });

    expect(res.status).toBe(422);
    expect(res.json.error).toBe('idempotency_key_mismatch');
    expect(await api.checkoutRows('customer_email like :m', { m: `%${marker}%` })).toHaveLength(1);
    expect(await receivedRequests('payment', marker)).toHaveLength(1);
  });

  it('treats a key as new once it has expired, and as a repeat until then', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const first = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });
    const { db } = await getApp();
    const setExpiry = (offset: string) =>
      db.query(
        `update checkouts set idempotency_expires_at = now() + :offset::interval
         where idempotency_key is not null and customer_email like :m`,
        { m: `%${marker}%`, offset },
      );

    await setExpiry('2 seconds');
    const beforeExpiry = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });
    expect(beforeExpiry.headers.get('idempotent-replayed')).toBe('true');
    expect(beforeExpiry.text).toBe(first.text);

    await setExpiry('-1 millisecond');
    const afterExpiry = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': key });
    expect(afterExpiry.status).toBe(200);
    expect(afterExpiry.headers.get('idempotent-replayed')).toBeNull();
    expect(afterExpiry.json.checkout_id).not.toBe(first.json.checkout_id);
    expect(await receivedRequests('payment', marker)).toHaveLength(2);
  });

  it('rejects a malformed key with 400 before anything happens', async () => {
    const marker = newMarker();
    const res = await api.postCheckout(seedRequest(marker), { 'Idempotency-Key': 'x'.repeat(256) });
    expect(res.status).toBe(400);
    expect(await receivedRequests('payment', marker)).toEqual([]);
    expect(await api.checkoutRows('customer_email like :m', { m: `%${marker}%` })).toEqual([]);
  });

  it('resumes a checkout whose lease expired when the client retries with the same key', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const body = seedRequest(marker);
    body.items.push({ product_id: 'prod_inventory_reset', quantity: 1, price: 149.9 });
    const first = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(first.status).toBe(503);
    expect(first.json.status).toBe('payment_processed');
    const checkoutId = String(first.json.checkout_id);

    const whileLeased = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(whileLeased.status).toBe(409);

    const { db } = await getApp();
    await db.query(
      `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
      {
        id: checkoutId,
      },
    );
    const retried = await api.postCheckout(body, { 'Idempotency-Key': key });

    // The inventory still resets the connection: the retry resumes at the deduct (no second
    // charge) and again ends at the same recovery point.
    expect(retried.status).toBe(503);
    expect(retried.json.checkout_id).toBe(checkoutId);
    const charges = await receivedRequests('payment', checkoutId, '/payments/process');
    expect(charges).toHaveLength(1);
    const deducts = await receivedRequests('inventory', checkoutId, '/inventory/deduct');
    expect(deducts.length).toBeGreaterThanOrEqual(4);
    expect(distinctKeys(deducts)).toEqual(new Set([`${checkoutId}:deduct`]));
    const [row] = await api.checkoutRows('id = :id::uuid', { id: checkoutId });
    expect(row?.status).toBe('payment_processed');
  });
});
