import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { completedResponseSchema, errorResponseSchema } from '#dev/api-docs/response-schemas.ts';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { migrate } from '#lib/db/migrate.ts';
import { checkoutView } from '#lib/http/checkout-presenter.ts';
import { databaseBeforeMoneyScale, insertOldRow } from '../support/legacy-rows.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { jsonBody, receivedRequests } from '../support/wiremock-journal.ts';

const api = useLocalApi();

/** The seed request in `currency`, its two items (2 × first, 1 × second) at these prices. */
function requestIn(currency: string, [first, second]: [number, number], marker = newMarker()) {
  const body = seedRequest(marker);
  const [a, b] = body.items;
  if (!a || !b) throw new Error('the seed request has two items');
  a.price = first;
  b.price = second;
  return { ...body, currency };
}

// biome-ignore format: one case a line reads as a table
const completedCases = [
  { currency: 'JPY', prices: [50, 50] as [number, number], total: '150', wire: 150, wirePrices: [50, 50], stored: '150.000', storedPrices: ['50', '50'] },
  { currency: 'KWD', prices: [0.5, 0.234] as [number, number], total: '1.234', wire: 1.234, wirePrices: [0.5, 0.234], stored: '1.234', storedPrices: ['0.500', '0.234'] },
  { currency: 'BRL', prices: [99.9, 149.9] as [number, number], total: '349.70', wire: 349.7, wirePrices: [99.9, 149.9], stored: '349.700', storedPrices: ['99.90', '149.90'] },
];

describe('checkouts in currencies with 0, 3 and 2 decimals', () => {
  it.each(completedCases)(
    'completes a $currency checkout with total $total, sends $wire and stores $stored',
    async ({ currency, prices, total, wire, wirePrices, stored, storedPrices }) => {
      const res = await api.postCheckout(requestIn(currency, prices));

      expect(res.status, res.text).toBe(200);
      const body = completedResponseSchema.parse(res.json);
      expect(body).toMatchObject({ status: 'completed', total_amount: total, currency });
      expect(res.text).toContain(`"total_amount":"${total}"`);

      const [charge] = await receivedRequests('payment', body.checkout_id, '/payments/process');
      expect(charge && jsonBody(charge)).toMatchObject({ amount: wire, currency });
      expect(charge?.body).toMatch(new RegExp(`"amount":${wire}[,}]`));
      const [order] = await receivedRequests('order', body.checkout_id, '/orders');
      expect(order && jsonBody(order)).toMatchObject({
        total_amount: wire,
        currency,
        items: [{ price: wirePrices[0] }, { price: wirePrices[1] }],
      });

      const [row] = await api.checkoutRows('id = :id::uuid', { id: body.checkout_id });
      expect(row).toMatchObject({ status: 'completed', total_amount: stored });
      const items = JSON.parse(String(row?.items)) as { price: string }[];
      expect(items.map((i) => i.price)).toEqual(storedPrices);

      const read = await api.request(`/checkout/${body.checkout_id}`);
      expect(read.json).toMatchObject({ total_amount: total, currency });
    },
  );
});

// biome-ignore format: one case a line reads as a table
const refusedCases = [
  { rule: 'the unknown currency ZZZ', currency: 'ZZZ', prices: [50, 50] as [number, number], path: 'currency' },
  { rule: 'a JPY price with decimals', currency: 'JPY', prices: [50.5, 50] as [number, number], path: 'items.0.price' },
  { rule: 'a KWD price with 4 decimals', currency: 'KWD', prices: [0.5, 0.2345] as [number, number], path: 'items.1.price' },
];

describe('currency rules are checked before anything is written or called', () => {
  it.each(refusedCases)(
    'answers $rule with 400 naming $path',
    async ({ currency, prices, path }) => {
      const marker = newMarker();
      const res = await api.postCheckout(requestIn(currency, prices, marker));

      expect(res.status).toBe(400);
      const error = errorResponseSchema.parse(res.json);
      expect(error.error).toBe('validation_error');
      expect(error.details?.map((d) => d.path)).toContain(path);
      await api.expectNothingHappened(marker);
    },
  );
});

describe('currencies ISO 4217 has withdrawn, which the runtime still lists', () => {
  it.each([
    ['HRK', 'EUR'],
    ['SLL', 'SLE'],
    ['ZWL', 'ZWG'],
  ])(
    'answers %s with 400 naming the code and its replacement, nothing written or called',
    async (code, replacement) => {
      expect(Intl.supportedValuesOf('currency')).toContain(code);
      const marker = newMarker();
      const res = await api.postCheckout(requestIn(code, [50, 50], marker));

      expect(res.status).toBe(400);
      const error = errorResponseSchema.parse(res.json);
      expect(error.error).toBe('validation_error');
      expect(error.details).toEqual([
        {
          path: 'currency',
          message: `currency ${code} has been withdrawn from ISO 4217 (replaced by ${replacement})`,
        },
      ]);
      await api.expectNothingHappened(marker);
    },
  );
});

describe('rows written before migration 0003 (numeric(12,2), 2-decimal item prices)', () => {
  it('read back with the same amounts once total_amount is numeric(15,3)', async () => {
    const db = await databaseBeforeMoneyScale();
    try {
      // What the older code wrote: every amount with 2 decimals, whatever the currency, and
      // any well-formed code (ZZZ) accepted.
      const old = [
        {
          currency: 'BRL',
          total: '349.70',
          prices: ['99.90', '149.90'],
          minor: 34_970,
          shown: '349.70',
        },
        { currency: 'JPY', total: '150.00', prices: ['50.00', '50.00'], minor: 150, shown: '150' },
        { currency: 'KWD', total: '1.23', prices: ['0.50', '0.23'], minor: 1230, shown: '1.230' },
        { currency: 'ZZZ', total: '12.34', prices: ['5.00', '2.34'], minor: 1234, shown: '12.34' },
      ].map((row) => ({ ...row, id: randomUUID() }));
      for (const row of old) {
        await insertOldRow(db, {
          id: row.id,
          status: 'completed',
          currency: row.currency,
          total: row.total,
          items: [
            { quantity: 2, price: row.prices[0] ?? '' },
            { quantity: 1, price: row.prices[1] ?? '' },
          ],
        });
      }

      expect(await migrate(db)).toContain('0003-money-scale-3');

      const repository = createCheckoutRepository(db);
      for (const row of old) {
        const checkout = await repository.findById(row.id);
        expect(checkout?.totalCents, row.currency).toBe(row.minor);
        expect(checkoutView(checkout ?? expect.fail('row not found')).total_amount).toBe(row.shown);
      }
      const [jpy] = old.filter((row) => row.currency === 'JPY');
      const read = await repository.findById(String(jpy?.id));
      expect(read?.items.map((i) => i.priceCents)).toEqual([50, 50]);
    } finally {
      await db.close();
    }
  });
});
