import { describe, expect, it } from 'vitest';
import { callerPricing, PricingUnavailableError, priceCart } from '#lib/checkout/pricing.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { ValidationError } from '#lib/errors.ts';
import { presentOutcome } from '#lib/http/checkout-presenter.ts';
import { createSagaFakes, type SagaFakes, sampleCart, sampleSecrets, storedRow } from './fakes.ts';

/**
 * Pricing in the use case (issue 20): the cart is priced before anything is written, the
 * catalog's prices are what is recorded and charged, and a refusal (a price that changed, an
 * unknown product, no answer) writes nothing and calls no service, unless the request's key
 * already holds a checkout, which then answers for itself.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const claim = () => ({
  key: 'order-7',
  caller: 'api-key:shop-a',
  requestHash: 'hash',
  ttlHours: 24,
});

const post = (fakes: SagaFakes, cart = sampleCart(), withKey = false) =>
  processCheckout(
    fakes.deps,
    { cart, secrets: sampleSecrets(), ...(withKey && { idempotency: claim() }) },
    fakes.budget,
  );

const writesAndCalls = (fakes: SagaFakes) => ({
  writes: fakes.repository.writes.length,
  calls: fakes.serviceCalls(),
});

describe('priceCart', () => {
  const prices = new Map([
    ['prod_001', 9990],
    ['prod_002', 14_990],
  ]);

  it('prices every item at the catalog’s unit price and totals them in minor units', () => {
    const cart = sampleCart();
    for (const item of cart.items) delete item.priceSeenCents;
    const priced = priceCart(cart, prices);
    expect(priced).toMatchObject({
      order: {
        totalCents: 34_970,
        items: [
          { productId: 'prod_001', quantity: 2, priceCents: 9990 },
          { productId: 'prod_002', quantity: 1, priceCents: 14_990 },
        ],
      },
    });
  });

  it('lists each item whose price the customer saw is not the catalog’s, cheaper or dearer', () => {
    const cart = sampleCart();
    const [first, second] = cart.items;
    if (!first || !second) throw new Error('the sample cart has two items');
    first.priceSeenCents = 1;
    second.priceSeenCents = 20_000;
    expect(priceCart(cart, prices)).toEqual({
      changed: [
        { productId: 'prod_001', priceSentCents: 1, currentPriceCents: 9990 },
        { productId: 'prod_002', priceSentCents: 20_000, currentPriceCents: 14_990 },
      ],
    });
  });

  it('refuses to guess a price the catalog did not give', () => {
    expect(() => priceCart(sampleCart(), new Map([['prod_001', 9990]]))).toThrow(
      PricingUnavailableError,
    );
  });
});

describe('callerPricing (PRICING=caller)', () => {
  it('takes the prices the caller sent', async () => {
    expect(await callerPricing.quote(sampleCart())).toEqual(
      new Map([
        ['prod_001', 9990],
        ['prod_002', 14_990],
      ]),
    );
  });

  it('refuses an item without a price, naming it', async () => {
    const cart = sampleCart();
    delete cart.items[1]?.priceSeenCents;
    const error = await callerPricing.quote(cart).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([
      { path: 'items.1.price', message: 'required: this shop prices its own carts' },
    ]);
  });

  it('refuses one product at two prices', async () => {
    const cart = sampleCart();
    cart.items.push({ productId: 'prod_001', quantity: 1, priceSeenCents: 1 });
    await expect(callerPricing.quote(cart)).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('processCheckout prices the cart first', () => {
  it('records and charges the catalog’s prices, not the ones sent', async () => {
    const fakes = createSagaFakes();
    fakes.catalog.prices.set('prod_001', 10_000);
    const cart = sampleCart();
    for (const item of cart.items) delete item.priceSeenCents;

    const outcome = await post(fakes, cart);

    expect(outcome).toMatchObject({ kind: 'completed' });
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      totalCents: 34_990,
      items: [{ priceCents: 10_000 }, { priceCents: 14_990 }],
    });
    expect(fakes.log.find((c) => c.name === 'payment.charge')?.input).toMatchObject({
      amountCents: 34_990,
    });
  });

  it('answers price_changed (409) and writes and calls nothing when a price the customer saw changed', async () => {
    const fakes = createSagaFakes();
    fakes.catalog.prices.set('prod_002', 15_990);

    const outcome = await post(fakes);

    expect(outcome).toEqual({
      kind: 'price_changed',
      currency: 'BRL',
      items: [{ productId: 'prod_002', priceSentCents: 14_990, currentPriceCents: 15_990 }],
    });
    expect(writesAndCalls(fakes)).toEqual({ writes: 0, calls: [] });
    const answer = presentOutcome(outcome);
    expect(answer.statusCode).toBe(409);
    expect(JSON.parse(answer.body).items).toEqual([
      { product_id: 'prod_002', price_sent: 149.9, current_price: 159.9 },
    ]);
  });

  it('answers unknown_product (422) naming it, writing and calling nothing', async () => {
    const fakes = createSagaFakes();
    fakes.catalog.prices.delete('prod_002');

    const outcome = await post(fakes);

    expect(outcome).toEqual({ kind: 'unknown_product', productId: 'prod_002' });
    expect(writesAndCalls(fakes)).toEqual({ writes: 0, calls: [] });
    expect(presentOutcome(outcome).statusCode).toBe(422);
  });

  it('answers pricing_unavailable (503, Retry-After) when the catalog cannot answer', async () => {
    const fakes = createSagaFakes();
    fakes.catalog.failWith = new PricingUnavailableError('the catalog timed out');

    const outcome = await post(fakes);

    expect(outcome).toMatchObject({ kind: 'pricing_unavailable' });
    expect(writesAndCalls(fakes)).toEqual({ writes: 0, calls: [] });
    const answer = presentOutcome(outcome);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.['retry-after']).toBeDefined();
  });

  it('lets a key that already holds a checkout answer first when the catalog now refuses or fails', async () => {
    const fakes = createSagaFakes();
    const first = await post(fakes, sampleCart(), true);
    expect(first).toMatchObject({ kind: 'completed' });
    const stored = storedRow(fakes, ID).response;

    fakes.catalog.prices.set('prod_002', 15_990);
    const afterChange = await post(fakes, sampleCart(), true);
    fakes.catalog.failWith = new PricingUnavailableError('down');
    const duringOutage = await post(fakes, sampleCart(), true);

    expect(afterChange).toEqual({ kind: 'replay', stored });
    expect(duringOutage).toEqual({ kind: 'replay', stored });
    expect(fakes.log.filter((c) => c.name === 'payment.charge')).toHaveLength(1);
  });

  it('reads no key holder on the happy path: pricing adds no statement', async () => {
    const fakes = createSagaFakes();
    await post(fakes, sampleCart(), true);
    expect(fakes.log.filter((c) => c.name === 'repository.findKeyHolder')).toEqual([]);
  });
});
