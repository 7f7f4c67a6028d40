import type { Misquote } from './fault-schedule.ts';
import { currencyDigits, fromMinor } from './ledger.ts';
import type { JsonObject } from './request-checks.ts';
import { type Answer, json } from './services.ts';

/**
 * The shop's catalog as the simulated inventory service holds it (`POST /catalog/quote`,
 * design §3): the unit price of each product in minor units of its currency, registered by
 * the scenario for each planned checkout, and changed by it between a request and a same-key
 * retry. Each product belongs to one checkout of the scenario (its `owner`, an email), so a
 * quote, which names no checkout, can still be told apart for the fault schedule and the trace.
 */
export class Catalog {
  private readonly products = new Map<
    string,
    { owner: string; currency: string; priceMinor: number }
  >();
  /** Products that belong to a checkout but that the catalog does not know. */
  private readonly strangers = new Map<string, string>();

  clear() {
    this.products.clear();
    this.strangers.clear();
  }

  /** The checkout `owner`'s products at these prices; `unknown` ones are attributed only. */
  register(
    owner: string,
    currency: string,
    prices: Readonly<Record<string, number>>,
    unknown: readonly string[] = [],
  ) {
    for (const [productId, priceMinor] of Object.entries(prices)) {
      this.products.set(productId, { owner, currency, priceMinor });
    }
    for (const productId of unknown) this.strangers.set(productId, owner);
  }

  /** A new unit price for a product the catalog knows (the shop changed it). */
  setPrice(productId: string, priceMinor: number) {
    const product = this.products.get(productId);
    if (!product) throw new Error(`the catalog does not know ${productId}`);
    product.priceMinor = priceMinor;
  }

  /** The unit price the catalog holds now, in minor units; undefined for a product it does not know. */
  priceOf(productId: string): number | undefined {
    return this.products.get(productId)?.priceMinor;
  }

  /** The checkout whose cart a quote asks about (by its first product the scenario registered). */
  ownerOf(body: JsonObject | undefined): string | undefined {
    for (const productId of productIds(body)) {
      const owner = this.products.get(productId)?.owner ?? this.strangers.get(productId);
      if (owner !== undefined) return owner;
    }
    return undefined;
  }

  /**
   * The catalog's answer: 200 with the unit price of every product of the cart in the currency
   * asked (echoed), or 404 `unknown_product` naming the first product it does not know (or
   * does not price in that currency), or 400 for a body that is no cart.
   */
  quote(body: JsonObject | undefined): Answer {
    const currency = body?.currency;
    const items = body?.items;
    if (typeof currency !== 'string' || !Array.isArray(items) || items.length === 0) {
      return json(400, { error: 'invalid_request', message: 'currency and items are required' });
    }
    const priced: { product_id: string; unit_price: number }[] = [];
    for (const item of items as JsonObject[]) {
      const productId = item?.product_id;
      const quantity = item?.quantity;
      if (typeof productId !== 'string' || !Number.isInteger(quantity) || Number(quantity) < 1) {
        return json(400, {
          error: 'invalid_request',
          message: 'each item needs product_id and quantity',
        });
      }
      const product = this.products.get(productId);
      if (!product || product.currency !== currency) {
        return json(404, {
          error: 'unknown_product',
          product_id: productId,
          message: `no price for ${productId} in ${currency}`,
        });
      }
      if (!priced.some((p) => p.product_id === productId)) {
        priced.push({ product_id: productId, unit_price: fromMinor(product.priceMinor, currency) });
      }
    }
    return json(200, { currency, items: priced });
  }
}

/**
 * A 200 quote made into one that does not fit its cart (a `misquote` fault). An answer that is
 * not a 200 quote is left as it is.
 */
export function misquote(answer: Answer, how: Misquote): Answer {
  if (answer.status !== 200) return answer;
  const quote = JSON.parse(answer.body) as {
    currency: string;
    items: { product_id: string; unit_price: number }[];
  };
  const [first] = quote.items;
  switch (how) {
    case 'other_currency':
      return json(200, { ...quote, currency: quote.currency === 'USD' ? 'EUR' : 'USD' });
    case 'item_left_out':
      return json(200, { ...quote, items: quote.items.slice(0, -1) });
    case 'zero_price':
    case 'negative_price':
    case 'too_precise': {
      if (!first) return answer;
      const finer = 10 ** -(currencyDigits(quote.currency) + 1);
      const price = {
        zero_price: 0,
        negative_price: -first.unit_price,
        too_precise: Number((first.unit_price + finer).toFixed(12)),
      }[how];
      return json(200, {
        ...quote,
        items: [{ ...first, unit_price: price }, ...quote.items.slice(1)],
      });
    }
    case 'unknown_elsewhere':
      return json(404, { error: 'unknown_product', product_id: 'prod_of_another_cart' });
  }
}

function productIds(body: JsonObject | undefined): string[] {
  const items = Array.isArray(body?.items) ? (body.items as JsonObject[]) : [];
  return items.flatMap((i) => (typeof i?.product_id === 'string' ? [i.product_id] : []));
}
