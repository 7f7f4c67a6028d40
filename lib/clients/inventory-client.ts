import * as z from 'zod/mini';
import type { LineItem } from '#lib/checkout/checkout.ts';
import type { CallOptions, InventoryService } from '#lib/checkout/ports.ts';
import { checkoutEcho, type ServiceHttpClient } from './service-http-client.ts';

const inventoryResponse = z.looseObject({ success: z.literal(true) });
const deductionsResponse = z.looseObject({
  deductions: z.array(z.looseObject({ status: z.enum(['deducted', 'released']) })),
});

const wireItems = (items: LineItem[]) =>
  items.map(({ productId, quantity }) => ({ product_id: productId, quantity }));

/**
 * The step's `Idempotency-Key`: `<id>:deduct`, or `<id>:deduct_late` for the stock deducted
 * again (and released again) for a Pix or boleto paid after it expired: the first key would only
 * replay the first deduction's answer, from before its release.
 */
const keyOf = (checkoutId: string, step: 'deduct' | 'release', options?: CallOptions) =>
  `${checkoutId}:${step}${options?.round ? `_${options.round}` : ''}`;

/** The inventory service: deduct stock for a checkout, release it again. */
export function createInventoryClient(http: ServiceHttpClient): InventoryService {
  return {
    async deduct({ checkoutId, items }, options) {
      await http.post(
        '/inventory/deduct',
        { checkout_id: checkoutId, items: wireItems(items) },
        keyOf(checkoutId, 'deduct', options),
        inventoryResponse,
        options?.signal,
        checkoutEcho(checkoutId),
      );
    },

    /** Undoes `deduct`. */
    async release({ checkoutId, items }, options) {
      await http.post(
        '/inventory/release',
        { checkout_id: checkoutId, items: wireItems(items) },
        keyOf(checkoutId, 'release', options),
        inventoryResponse,
        options?.signal,
        checkoutEcho(checkoutId),
        // A copy of this checkout's own deduct answer would read as the release's.
        'fresh',
      );
    },

    async findDeductions(checkoutId, options) {
      const { deductions } = await http.get(
        `/inventory/deductions?checkout_id=${encodeURIComponent(checkoutId)}`,
        deductionsResponse,
        options?.signal,
        checkoutEcho(checkoutId, 'deductions'),
      );
      return deductions.map(({ status }) => ({ status }));
    },
  };
}
