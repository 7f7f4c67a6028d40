import { describe, expect, it } from 'vitest';
import { PricingUnavailableError, UnknownProductError } from '#lib/checkout/pricing.ts';
import { catalogClientAt, useCatalogDoubles } from '../support/catalog-double.ts';
import { sampleCart } from './fakes.ts';

/**
 * The catalog client over real HTTP on loopback: what `POST /catalog/quote` is sent, and which
 * answers give prices, an unknown product, or "no trustworthy answer" (never a guess).
 */

const catalogs = useCatalogDoubles();

/** A catalog answering every quote so; the client tries twice, 200 ms each. */
const catalogAnswering = (status: number, body: unknown, delayMs = 0) =>
  catalogs.answering(status, body, { delayMs, timeoutMs: 200, maxRetries: 1 });

const PRICES = {
  currency: 'BRL',
  items: [
    { product_id: 'prod_001', unit_price: 99.9 },
    { product_id: 'prod_002', unit_price: 149.9 },
  ],
};

describe('the catalog client', () => {
  it('asks for the cart’s products and quantities in its currency, without a key, and reads minor units', async () => {
    const { client, seen } = await catalogAnswering(200, PRICES);

    const prices = await client.quote(sampleCart());

    expect(prices).toEqual(
      new Map([
        ['prod_001', 9990],
        ['prod_002', 14_990],
      ]),
    );
    expect(seen).toEqual([
      {
        body: {
          currency: 'BRL',
          items: [
            { product_id: 'prod_001', quantity: 2 },
            { product_id: 'prod_002', quantity: 1 },
          ],
        },
        key: undefined,
      },
    ]);
  });

  it.each([404, 422])(
    'takes a %i naming a product of the cart as that product unknown',
    async (status) => {
      const { client } = await catalogAnswering(status, {
        error: 'unknown_product',
        product_id: 'prod_002',
      });
      const error = await client.quote(sampleCart()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownProductError);
      expect((error as UnknownProductError).productId).toBe('prod_002');
    },
  );

  it.each([
    ['a 404 naming a product not in the cart', 404, { error: 'unknown_product', product_id: 'x' }],
    ['another 4xx', 400, { error: 'bad_request' }],
    ['a 5xx', 500, { error: 'internal_error' }],
    ['an answer in another currency', 200, { ...PRICES, currency: 'USD' }],
    ['an answer missing an item', 200, { currency: 'BRL', items: PRICES.items.slice(0, 1) }],
    [
      'a price with more decimals than BRL has',
      200,
      {
        currency: 'BRL',
        items: [...PRICES.items.slice(1), { product_id: 'prod_001', unit_price: 99.999 }],
      },
    ],
    [
      'a price of zero',
      200,
      {
        currency: 'BRL',
        items: [...PRICES.items.slice(1), { product_id: 'prod_001', unit_price: 0 }],
      },
    ],
    ['a body that is not a quote', 200, { ok: true }],
  ])('takes %s as no answer: pricing unavailable', async (_case, status, body) => {
    const { client } = await catalogAnswering(status, body);
    await expect(client.quote(sampleCart())).rejects.toBeInstanceOf(PricingUnavailableError);
  });

  it('gives up after its timeout and retries: pricing unavailable', async () => {
    const { client, seen } = await catalogAnswering(200, PRICES, 1_000);
    await expect(client.quote(sampleCart())).rejects.toBeInstanceOf(PricingUnavailableError);
    expect(seen).toHaveLength(2);
  });
});

describe('a quote on a connection of its own', () => {
  it('never takes a copy of an earlier quote’s answer (its older prices) as its own', async () => {
    // The first quote's answer is written again, late, on its connection; the price changes.
    let price = 99.9;
    const sockets = new Set<unknown>();
    let copy: { socket: unknown; raw: string } | undefined;
    const url = await catalogs.serving((req, res) => {
      req.resume();
      req.on('end', () => {
        sockets.add(req.socket);
        const body = JSON.stringify({
          currency: 'BRL',
          items: [
            { product_id: 'prod_001', unit_price: price },
            { product_id: 'prod_002', unit_price: 149.9 },
          ],
        });
        const raw = `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`;
        // The copy waits on the first quote's connection for whatever is asked on it next.
        if (copy?.socket === req.socket) req.socket.write(copy.raw);
        copy ??= { socket: req.socket, raw };
        res.writeHead(200, { 'content-type': 'application/json' }).end(body);
      });
    });
    const client = catalogClientAt(url);

    expect((await client.quote(sampleCart())).get('prod_001')).toBe(9990);
    price = 120;
    expect((await client.quote(sampleCart())).get('prod_001')).toBe(12_000);
    expect(sockets.size).toBe(2);
  });
});
