import { afterEach, describe, expect, it } from 'vitest';
import { getApp } from '#lib/app.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { jsonBody, receivedRequests } from '../support/wiremock-journal.ts';
import { addStub } from '../support/wiremock-stubs.ts';

/**
 * Prices from the catalog, not from the caller (issue 20), end to end against the WireMock
 * catalog (`wiremock/inventory/mappings/catalog-*.json`): the amount charged is the catalog's,
 * a price the customer saw that is not the catalog's is a 409, an unknown product a 422, a
 * catalog that cannot answer a 503; in all three nothing is written and no service is called,
 * and a same-key retry of a recorded checkout answers with its stored prices.
 */

const api = useLocalApi();
const removeStubs: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const remove of removeStubs.splice(0)) await remove();
});

/**
 * The catalog answers `response` to every quote whose body contains each of `products` (this
 * test's own), from now on, until the test ends.
 */
async function quoteFor(products: string[], response: Record<string, unknown>) {
  const stub = {
    priority: 1,
    request: {
      method: 'POST',
      urlPath: '/catalog/quote',
      bodyPatterns: products.map((product) => ({ contains: product })),
    },
    response,
  };
  removeStubs.push(await addStub('inventory', stub));
}

/** A 200 quote with `items` as its JSON text, in BRL. */
const quoted = (items: string) => ({
  status: 200,
  headers: { 'Content-Type': 'application/json' },
  body: `{"currency":"BRL","items":${items}}`,
});

/** The catalog prices this test's product (`prod_promo_<marker>`) at `price`, from now on. */
const priceFor = (product: string, price: number | 'fails') =>
  quoteFor(
    [product],
    price === 'fails'
      ? { status: 500, jsonBody: { error: 'internal_error' } }
      : quoted(`[{"product_id":"${product}","unit_price":${price}}]`),
  );

describe('the amount charged is the catalog’s', () => {
  it('charges the catalog’s total when no price is sent, and sends those prices to the order', async () => {
    const body = seedRequest();
    for (const item of body.items) delete (item as { price?: number }).price;

    const res = await api.postCheckout(body);

    expect(res.status, res.text).toBe(200);
    expect(res.json.total_amount).toBe('349.70');
    const id = String(res.json.checkout_id);
    const [charge] = await receivedRequests('payment', id, '/payments/process');
    expect(charge && jsonBody(charge)).toMatchObject({ amount: 349.7 });
    const [order] = await receivedRequests('order', id, '/orders');
    expect(order && jsonBody(order)).toMatchObject({
      total_amount: 349.7,
      items: [{ price: 99.9 }, { price: 149.9 }],
    });
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(JSON.parse(String(row?.items)).map((i: { price: string }) => i.price)).toEqual([
      '99.90',
      '149.90',
    ]);
  });

  it('never charges a cheaper price: 2 × R$0.01 is a 409 price_changed, nothing written or called', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    for (const item of body.items) item.price = 0.01;

    const res = await api.postCheckout(body);

    expect(res.status).toBe(409);
    expect(res.json).toEqual({
      error: 'price_changed',
      message: expect.any(String),
      items: [
        { product_id: `prod_001_${marker}`, price_sent: 0.01, current_price: 99.9 },
        { product_id: `prod_002_${marker}`, price_sent: 0.01, current_price: 149.9 },
      ],
    });
    await api.expectNothingHappened(marker);
  });

  it('names only the items whose price changed', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    body.items.push({ product_id: `prod_repriced_${marker}`, quantity: 1, price: 99.9 });

    const res = await api.postCheckout(body);

    expect(res.status).toBe(409);
    expect(res.json.items).toEqual([
      { product_id: `prod_repriced_${marker}`, price_sent: 99.9, current_price: 109.9 },
    ]);
    await api.expectNothingHappened(marker);
  });
});

describe('what the catalog cannot price changes nothing', () => {
  it('answers 422 unknown_product naming the product', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    body.items.push({ product_id: `discontinued_${marker}`, quantity: 1, price: 10 });

    const res = await api.postCheckout(body);

    expect(res.status).toBe(422);
    expect(res.json).toEqual({
      error: 'unknown_product',
      product_id: `discontinued_${marker}`,
      message: expect.any(String),
    });
    await api.expectNothingHappened(marker);
  });

  it('answers 503 pricing_unavailable with Retry-After when the catalog times out', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    body.items.push({ product_id: `prod_catalog_timeout_${marker}`, quantity: 1, price: 149.9 });

    const res = await api.postCheckout(body);

    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ error: 'pricing_unavailable' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.text).not.toMatch(/http:\/\/|127\.0\.0\.1/);
    await api.expectNothingHappened(marker);
  });

  it.each([
    ['in another currency', '{"currency":"USD","items":[{"product_id":"P","unit_price":99.9}]}'],
    ['missing an item', '{"currency":"BRL","items":[]}'],
    [
      'with a price BRL cannot hold',
      '{"currency":"BRL","items":[{"product_id":"P","unit_price":9.999}]}',
    ],
    ['with a price of zero', '{"currency":"BRL","items":[{"product_id":"P","unit_price":0}]}'],
  ])('answers 503 pricing_unavailable to an answer %s, nothing charged', async (_case, answer) => {
    const marker = newMarker();
    const product = `prod_promo_${marker}`;
    await quoteFor([product], {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: answer.replace('"P"', `"${product}"`),
    });
    const body = seedRequest(marker);
    body.items = [{ product_id: product, quantity: 1, price: 99.9 }];

    const res = await api.postCheckout(body);

    expect(res.status).toBe(503);
    expect(res.json.error).toBe('pricing_unavailable');
    await api.expectNothingHappened(marker);
  });

  it('takes a 404 that names no product of the cart as the catalog failing, not as unknown', async () => {
    const marker = newMarker();
    const product = `prod_promo_${marker}`;
    await quoteFor([product], {
      status: 404,
      jsonBody: { error: 'unknown_product', product_id: 'other' },
    });
    const body = seedRequest(marker);
    body.items = [{ product_id: product, quantity: 1, price: 99.9 }];

    const res = await api.postCheckout(body);

    expect(res.status).toBe(503);
    expect(res.json.error).toBe('pricing_unavailable');
  });
});

describe('an Idempotency-Key against prices', () => {
  it('lets the same key be used again with corrected prices after a 409', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const body = seedRequest(marker);
    body.items[0] = { ...body.items[0], product_id: `prod_001_${marker}`, quantity: 2, price: 1 };

    const stale = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(stale.status).toBe(409);
    body.items[0].price = 99.9;
    const corrected = await api.postCheckout(body, { 'Idempotency-Key': key });

    expect(corrected.status, corrected.text).toBe(200);
    expect(corrected.json.total_amount).toBe('349.70');
  });

  it('replays the stored answer after the catalog changed the price, and during an outage', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const product = `prod_promo_${marker}`;
    await priceFor(product, 50);
    const body = seedRequest(marker);
    body.items = [{ product_id: product, quantity: 2, price: 50 }];
    const first = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(first.status, first.text).toBe(200);
    expect(first.json.total_amount).toBe('100.00');

    for (const remove of removeStubs.splice(0)) await remove();
    await priceFor(product, 60);
    const afterChange = await api.postCheckout(body, { 'Idempotency-Key': key });
    for (const remove of removeStubs.splice(0)) await remove();
    await priceFor(product, 'fails');
    const duringOutage = await api.postCheckout(body, { 'Idempotency-Key': key });

    for (const again of [afterChange, duringOutage]) {
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    const charges = await receivedRequests('payment', marker, '/payments/process');
    expect(charges.map((c) => jsonBody(c).amount)).toEqual([100]);
  });

  it('resumes a recorded checkout with its stored prices whatever the catalog says now', async () => {
    const marker = newMarker();
    const key = `key-${marker}`;
    const product = `prod_promo_${marker}`;
    await priceFor(product, 50);
    const body = seedRequest(marker);
    // Without a price sent, the catalog's price is the one recorded; the inventory resets.
    body.items = [
      { product_id: product, quantity: 2 },
      { product_id: 'prod_inventory_reset', quantity: 1 },
    ] as typeof body.items;
    await quoteFor(
      [product, 'prod_inventory_reset'],
      quoted(
        `[{"product_id":"${product}","unit_price":50},{"product_id":"prod_inventory_reset","unit_price":149.9}]`,
      ),
    );
    const first = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(first.status, first.text).toBe(503);
    const id = String(first.json.checkout_id);

    // The catalog now says 60, and then fails; the lease expires and the client retries.
    for (const remove of removeStubs.splice(0)) await remove();
    await priceFor(product, 'fails');
    const { db } = await getApp();
    await db.query(
      `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
      { id },
    );
    const retried = await api.postCheckout(body, { 'Idempotency-Key': key });

    expect(retried.json.checkout_id).toBe(id);
    const charges = await receivedRequests('payment', id, '/payments/process');
    expect(charges.map((c) => jsonBody(c).amount)).toEqual([249.9]);
    const [row] = await api.checkoutRows('id = :id::uuid', { id });
    expect(row?.total_amount).toBe('249.900');
  });
});
