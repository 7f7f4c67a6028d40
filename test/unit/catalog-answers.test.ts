import { describe, expect, it } from 'vitest';
import { PricingUnavailableError, UnknownProductError } from '#lib/checkout/pricing.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { presentOutcome } from '#lib/http/checkout-presenter.ts';
import { useCatalogDoubles } from '../support/catalog-double.ts';
import { createSagaFakes, sampleCart, sampleSecrets } from './fakes.ts';

/**
 * Issue 20, found by an adversarial review: what the catalog client takes from answers that do not fit the contract
 * (design §3 "Catalog").
 */

const catalogs = useCatalogDoubles();

/** The client against a catalog answering every quote so, one try of 500 ms. */
const catalogAnswering = async (status: number, body: unknown) =>
  (await catalogs.answering(status, body)).client;

describe('a catalog answer that prices one product twice, differently', () => {
  const twice = {
    currency: 'BRL',
    items: [
      { product_id: 'prod_001', unit_price: 99.9 },
      { product_id: 'prod_002', unit_price: 149.9 },
      { product_id: 'prod_001', unit_price: 0.01 },
    ],
  };

  it('is no trustworthy answer: pricing unavailable, never the last (cheaper) price', async () => {
    const client = await catalogAnswering(200, twice);
    await expect(client.quote(sampleCart())).rejects.toBeInstanceOf(PricingUnavailableError);
  });

  it('never charges the cheaper of two prices for a cart sent without prices', async () => {
    const fakes = createSagaFakes();
    fakes.deps.pricing = await catalogAnswering(200, twice);
    const cart = sampleCart();
    for (const item of cart.items) delete item.priceSeenCents;

    const outcome = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets() },
      fakes.budget,
    );

    const charges = fakes.log.filter((c) => c.name === 'payment.charge');
    expect({ kind: outcome.kind, charges: charges.map((c) => c.input) }).toEqual({
      kind: 'pricing_unavailable',
      charges: [],
    });
  });
});

describe('a refusal naming a product of the cart with a status other than 404/422', () => {
  it.each([400, 409, 410])(
    'a %i {"error":"unknown_product"} is pricing_unavailable (design §3), not 422 unknown_product',
    async (status) => {
      const client = await catalogAnswering(status, {
        error: 'unknown_product',
        product_id: 'prod_002',
      });
      const error = await client.quote(sampleCart()).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(UnknownProductError);
      expect(error).toBeInstanceOf(PricingUnavailableError);
    },
  );

  it('so the client is not told the catalog does not know the product', async () => {
    const fakes = createSagaFakes();
    fakes.deps.pricing = await catalogAnswering(400, {
      error: 'unknown_product',
      product_id: 'prod_002',
    });
    const outcome = await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );
    const answer = presentOutcome(outcome);
    expect({ status: answer.statusCode, body: JSON.parse(answer.body).error }).toEqual({
      status: 503,
      body: 'pricing_unavailable',
    });
  });
});
