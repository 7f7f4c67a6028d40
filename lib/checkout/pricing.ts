import { ValidationError } from '#lib/errors.ts';
import { type MinorUnits, orderTotal } from '#lib/money.ts';
import type { CheckoutOrder, LineItem, PricingSource } from './checkout.ts';
import { installmentPlan } from './installments.ts';
import type { CallOptions } from './ports.ts';

/**
 * Prices come from the shop's catalog, never from the caller (design §2): the amount charged
 * is the catalog's. An item's `price`, when sent, is only "the price the customer saw", checked
 * against the catalog's so that a customer is never charged more (or less) than they were shown
 * without being told.
 */

/** An item of the cart as the customer asked for it: the price they saw, when sent. */
export interface CartItem {
  productId: string;
  quantity: number;
  priceSeenCents?: MinorUnits;
}

/**
 * The checkout as requested, before it is priced: the order without its prices and total, and
 * with the number of installments asked for (the plan needs the total).
 */
export interface Cart
  extends Omit<CheckoutOrder, 'items' | 'totalCents' | 'installments' | 'asyncPayment'> {
  items: CartItem[];
  installments: number;
  /** A Pix's or boleto's asked-for lifetime; its dates are fixed when the checkout is recorded. */
  asyncTerms: AsyncTerms | null;
}

/** What a Pix or boleto request asks for: how long it may be paid (defaults from settings). */
export type AsyncTerms =
  | { method: 'pix'; expiresInMinutes?: number }
  | { method: 'boleto'; dueInDays?: number };

/** Unit prices by product id, in minor units of the cart's currency. */
export type UnitPrices = ReadonlyMap<string, MinorUnits>;

/**
 * The pricing port: the unit price of every product of the cart, in its currency. Throws
 * `UnknownProductError` for a product the catalog does not know, `PricingUnavailableError`
 * when no trustworthy answer came (nothing may be charged on a guess).
 */
export interface PricingService {
  /** Which source this is, kept on each checkout it prices. */
  readonly source: PricingSource;
  quote(cart: Cart, options?: CallOptions): Promise<UnitPrices>;
}

/** The catalog does not know a product of the cart: nothing was written or called. */
export class UnknownProductError extends Error {
  override readonly name = 'UnknownProductError';
  constructor(readonly productId: string) {
    super(`The catalog does not know product ${productId}`);
  }
}

/** The catalog could not price the cart (down, slow, or an answer that does not fit it). */
export class PricingUnavailableError extends Error {
  override readonly name = 'PricingUnavailableError';
}

/** An item whose price the customer saw is not the catalog's current one. */
export interface PriceChange {
  productId: string;
  priceSentCents: MinorUnits;
  currentPriceCents: MinorUnits;
}

/**
 * The order to record and charge: every item at the catalog's unit price, and the total those
 * prices make. Items whose price the customer saw differ from the catalog's are returned
 * instead, so the shop can show the new prices before anything happens.
 */
export function priceCart(
  cart: Cart,
  prices: UnitPrices,
): { order: CheckoutOrder } | { changed: PriceChange[] } {
  const changed: PriceChange[] = [];
  const items: LineItem[] = cart.items.map(({ productId, quantity, priceSeenCents }) => {
    const current = prices.get(productId);
    if (current === undefined) throw new PricingUnavailableError(`no price for ${productId}`);
    if (priceSeenCents !== undefined && priceSeenCents !== current) {
      changed.push({ productId, priceSentCents: priceSeenCents, currentPriceCents: current });
    }
    return { productId, quantity, priceCents: current };
  });
  if (changed.length > 0) return { changed };
  // A Pix's or boleto's dates are fixed where the checkout is recorded, from its terms.
  const { items: _asked, installments, asyncTerms: _terms, ...rest } = cart;
  const totalCents = orderTotal(items);
  return {
    order: {
      ...rest,
      items,
      totalCents,
      installments: installmentPlan(totalCents, installments),
      asyncPayment: null,
    },
  };
}

/**
 * `PRICING=caller`: the shop's backend priced the cart itself and sends every price; they are
 * charged as sent. Only for a caller that computes prices on its own server (never a browser
 * or an app that a customer controls), since whoever sends the request sets the amount.
 */
export const callerPricing: PricingService = {
  source: 'caller',
  async quote(cart) {
    const missing = cart.items.flatMap((item, index) =>
      item.priceSeenCents === undefined
        ? [{ path: `items.${index}.price`, message: 'required: this shop prices its own carts' }]
        : [],
    );
    const prices = new Map<string, MinorUnits>();
    const twice = cart.items.flatMap(({ productId, priceSeenCents = 0 }, index) => {
      const earlier = prices.get(productId);
      prices.set(productId, priceSeenCents);
      return earlier === undefined || earlier === priceSeenCents
        ? []
        : [{ path: `items.${index}.price`, message: `${productId} is priced twice, differently` }];
    });
    const problems = [...missing, ...twice];
    if (problems.length > 0) throw new ValidationError('The checkout request is invalid', problems);
    return prices;
  },
};
