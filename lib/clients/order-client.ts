import * as z from 'zod/mini';
import type { OrderService } from '../checkout/ports.ts';
import { toWireAmount } from '../money.ts';
import type { ServiceHttpClient } from './service-http-client.ts';

const orderResponse = z.looseObject({
  orderId: z.string().check(z.minLength(1), z.maxLength(128)),
});

/** The order service: create the order of a paid, stocked checkout (the last step; no undo). */
export function createOrderClient(http: ServiceHttpClient): OrderService {
  return {
    async create(
      { checkoutId, customerEmail, shippingAddress, items, totalCents, currency, paymentId },
      options,
    ) {
      const { orderId } = await http.post(
        '/orders',
        {
          checkout_id: checkoutId,
          customer_email: customerEmail,
          shipping_address: shippingAddress,
          items: items.map((item) => ({
            product_id: item.productId,
            quantity: item.quantity,
            price: toWireAmount(item.priceCents),
          })),
          total_amount: toWireAmount(totalCents),
          currency,
          payment_id: paymentId,
        },
        `${checkoutId}:order`,
        orderResponse,
        options?.signal,
      );
      return { orderId };
    },
  };
}
