import { describe, expect, it } from 'vitest';
import { callerPricing, PricingUnavailableError, priceCart } from '#lib/checkout/pricing.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { requestHash } from '#lib/checkout/request-hash.ts';
import { checkoutRequestSchema, MAX_PRICE } from '#lib/checkout/request-schema.ts';
import { ValidationError } from '#lib/errors.ts';
import { presentOutcome } from '#lib/http/checkout-presenter.ts';
import { formatMinorUnits } from '#lib/money.ts';
import { useCatalogDoubles } from '../support/catalog-double.ts';
import { validCheckoutBody } from './checkout-body.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
} from './fakes.ts';

/** Review of issue 20: probes that held (they pass). */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const catalogs = useCatalogDoubles();

/** The client against a catalog answering every quote so, three tries of 2 s. */
const catalog = async (
  status: number,
  body: string,
  delayMs = 0,
  contentType = 'application/json',
) =>
  (
    await catalogs.answering(status, body, {
      delayMs,
      contentType,
      timeoutMs: 2_000,
      maxRetries: 2,
    })
  ).client;

const nothingDone = (fakes: SagaFakes) => ({
  writes: fakes.repository.writes.length,
  calls: fakes.serviceCalls(),
});

describe('the fingerprint covers the request as sent', () => {
  const hashOf = (change: (items: Record<string, unknown>[]) => void) => {
    const body = validCheckoutBody();
    change(body.items);
    return requestHash(checkoutRequestSchema.parse(body), undefined, '');
  };
  it('a price omitted and sent differ; 99.9 and 99.90 are one; quantity counts', () => {
    const sent = hashOf(() => {});
    const omitted = hashOf((items) => {
      delete items[0]?.price;
    });
    const quantity = hashOf((items) => {
      if (items[0]) items[0].quantity = 3;
    });
    expect(new Set([sent, omitted, quantity]).size).toBe(3);
    const samePrice = hashOf((items) => {
      if (items[0]) items[0].price = 99.9;
    });
    expect(samePrice).toBe(sent);
  });
});

describe('the catalog client', () => {
  it('reads items in another order, with extra products', async () => {
    const client = await catalog(
      200,
      JSON.stringify({
        currency: 'BRL',
        items: [
          { product_id: 'prod_x', unit_price: 1 },
          { product_id: 'prod_002', unit_price: 149.9 },
          { product_id: 'prod_001', unit_price: 99.9 },
        ],
      }),
    );
    expect(await client.quote(sampleCart())).toEqual(
      new Map([
        ['prod_x', 100],
        ['prod_002', 14_990],
        ['prod_001', 9990],
      ]),
    );
  });

  it.each([
    ['a proxy’s 401', 401, '{"message":"Unauthorized"}', 'application/json'],
    ['a proxy’s 404 page', 404, '<html>Not Found</html>', 'text/html'],
    [
      'a 403 naming a product',
      403,
      '{"error":"unknown_product","product_id":"prod_001"}',
      'application/json',
    ],
  ])('takes %s as pricing unavailable', async (_c, status, body, type) => {
    const client = await catalog(status, body, 0, type);
    await expect(client.quote(sampleCart())).rejects.toBeInstanceOf(PricingUnavailableError);
  });

  it('a quote still unanswered when the work budget ends: pricing_unavailable, nothing written', async () => {
    const fakes = createSagaFakes();
    fakes.deps.pricing = await catalog(200, '{"currency":"BRL","items":[]}', 1_000);
    setTimeout(() => fakes.deadline.abort(), 50);
    const outcome = await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );
    expect(outcome).toMatchObject({ kind: 'pricing_unavailable' });
    expect(nothingDone(fakes)).toEqual({ writes: 0, calls: [] });
  });
});

describe('money at the bounds', () => {
  it('100 lines × 999 × MAX_PRICE in KWD stay exact', () => {
    const cart = { ...sampleCart(), currency: 'KWD' };
    cart.items = Array.from({ length: 100 }, () => ({ productId: 'prod_001', quantity: 999 }));
    const priced = priceCart(cart, new Map([['prod_001', MAX_PRICE * 1000]]));
    if (!('order' in priced)) throw new Error('not priced');
    expect(Number.isSafeInteger(priced.order.totalCents)).toBe(true);
    expect(formatMinorUnits(priced.order.totalCents, 'KWD')).toBe('999000000000.000');
  });

  it('price_changed in JPY and KWD writes each currency’s decimals', () => {
    const jpy = presentOutcome({
      kind: 'price_changed',
      currency: 'JPY',
      items: [{ productId: 'p', priceSentCents: 150, currentPriceCents: 160 }],
    });
    const kwd = presentOutcome({
      kind: 'price_changed',
      currency: 'KWD',
      items: [{ productId: 'p', priceSentCents: 1234, currentPriceCents: 500 }],
    });
    expect(JSON.parse(jpy.body).items).toEqual([
      { product_id: 'p', price_sent: 150, current_price: 160 },
    ]);
    expect(JSON.parse(kwd.body).items).toEqual([
      { product_id: 'p', price_sent: 1.234, current_price: 0.5 },
    ]);
  });
});

describe('duplicate lines', () => {
  it('one with a cheaper price sent and one without: 409, nothing done', async () => {
    const fakes = createSagaFakes();
    const cart = sampleCart();
    cart.items.push({ productId: 'prod_001', quantity: 1, priceSeenCents: 1 });
    cart.items.push({ productId: 'prod_001', quantity: 1 });
    const outcome = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets() },
      fakes.budget,
    );
    expect(outcome).toMatchObject({ kind: 'price_changed' });
    expect(nothingDone(fakes)).toEqual({ writes: 0, calls: [] });
  });

  it('PRICING=caller: one with a price and one without is a 400', async () => {
    const cart = sampleCart();
    cart.items.push({ productId: 'prod_001', quantity: 1 });
    await expect(callerPricing.quote(cart)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('the key holder on a refusal', () => {
  const claim = (requestHash: string) => ({
    key: 'k',
    caller: 'api-key:shop-a',
    requestHash,
    ttlHours: 24,
  });

  it('a holder with another hash: key mismatch; one under lease: in progress; nothing called', async () => {
    const fakes = createSagaFakes();
    const cart = sampleCart();
    const first = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets(), idempotency: claim('h1') },
      fakes.budget,
    );
    expect(first).toMatchObject({ kind: 'completed' });
    const row = storedRow(fakes, ID);
    row.response = undefined;
    row.checkout.status = 'payment_processed';
    row.lockedUntil = new Date(FIXED_NOW.getTime() + 30_000);
    fakes.log.length = 0;
    fakes.catalog.prices.set('prod_002', 1);

    const other = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets(), idempotency: claim('h2') },
      fakes.budget,
    );
    const same = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets(), idempotency: claim('h1') },
      fakes.budget,
    );
    expect(other).toEqual({ kind: 'key_mismatch' });
    expect(same).toMatchObject({ kind: 'in_progress', checkoutId: ID });
    expect(fakes.serviceCalls()).toEqual([]);
  });
});

describe('the refusal bodies', () => {
  it('say nothing internal', () => {
    for (const outcome of [
      { kind: 'pricing_unavailable', retryInMs: 5000 } as const,
      { kind: 'unknown_product', productId: 'prod_9' } as const,
    ]) {
      const answer = presentOutcome(outcome);
      expect(answer.body).not.toMatch(/https?:|127\.0|catalog\/quote|stack|Error/);
    }
  });
});
