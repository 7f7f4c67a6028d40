import * as z from 'zod/mini';
import {
  type Cart,
  type PricingService,
  PricingUnavailableError,
  UnknownProductError,
} from '#lib/checkout/pricing.ts';
import { MAX_PRICE } from '#lib/checkout/request-schema.ts';
import { ServiceCallError, ServiceRefusedError } from '#lib/checkout/service-errors.ts';
import { type MinorUnits, toMinorUnits } from '#lib/money.ts';
import type { ServiceHttpClient } from './service-http-client.ts';

const quoteResponse = z.looseObject({
  currency: z.string(),
  items: z.array(z.looseObject({ product_id: z.string(), unit_price: z.number() })),
});

/** The catalog's refusal (a 404 or a 422 only) names the product it does not know. */
const unknownProduct = z.object({
  status: z.union([z.literal(404), z.literal(422)]),
  body: z.looseObject({ error: z.literal('unknown_product'), product_id: z.string() }),
});

/**
 * The catalog service (`POST /catalog/quote`): the unit price of every product of a cart, in
 * its currency. A read: no key, retried freely. Anything short of a whole, fitting answer is
 * `PricingUnavailableError`, never a guess: a price in another currency, a product left out,
 * a price the currency cannot hold, or a refusal that names no product of the cart.
 */
export function createCatalogClient(http: ServiceHttpClient): PricingService {
  return {
    source: 'catalog',
    async quote(cart, options) {
      let answer: z.infer<typeof quoteResponse>;
      try {
        answer = await http.ask(
          '/catalog/quote',
          {
            currency: cart.currency,
            items: cart.items.map(({ productId, quantity }) => ({
              product_id: productId,
              quantity,
            })),
          },
          quoteResponse,
          options?.signal,
        );
      } catch (error) {
        if (!(error instanceof ServiceCallError)) throw error;
        const named = unknownProductOf(error, cart);
        if (named) throw new UnknownProductError(named);
        throw new PricingUnavailableError(`the catalog could not price the cart: ${error.reason}`);
      }
      return unitPrices(answer, cart);
    },
  };
}

/** The product of the cart a refusal says the catalog does not know, if it names one. */
function unknownProductOf(error: ServiceCallError, cart: Cart): string | undefined {
  if (!(error instanceof ServiceRefusedError)) return undefined;
  const said = unknownProduct.safeParse(error.cause);
  if (!said.success) return undefined;
  const named = said.data.body.product_id;
  return cart.items.some((item) => item.productId === named) ? named : undefined;
}

/** The answer's prices in minor units, checked like a request's: the cart's currency, > 0. */
function unitPrices(answer: z.infer<typeof quoteResponse>, cart: Cart): Map<string, MinorUnits> {
  if (answer.currency !== cart.currency) {
    throw new PricingUnavailableError(`the catalog priced in ${answer.currency}`);
  }
  const prices = new Map<string, MinorUnits>();
  for (const { product_id, unit_price } of answer.items) {
    const minor =
      unit_price > 0 && unit_price <= MAX_PRICE && toMinorUnits(unit_price, cart.currency);
    if (!minor)
      throw new PricingUnavailableError(`the catalog's price of ${product_id} is invalid`);
    // One product at two prices is no answer: which one would be charged is a guess.
    const earlier = prices.get(product_id);
    if (earlier !== undefined && earlier !== minor) {
      throw new PricingUnavailableError(`the catalog priced ${product_id} twice, differently`);
    }
    prices.set(product_id, minor);
  }
  const missing = cart.items.find((item) => !prices.has(item.productId));
  if (missing) throw new PricingUnavailableError(`the catalog left out ${missing.productId}`);
  return prices;
}
