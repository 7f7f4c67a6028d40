import * as z from 'zod/mini';
import type { ShippingAddress } from '#lib/checkout/checkout.ts';
import type { OrderService } from '#lib/checkout/ports.ts';
import { toWireAmount } from '#lib/money.ts';
import { checkoutEcho, type ServiceHttpClient } from './service-http-client.ts';

const orderId = z.string().check(z.minLength(1), z.maxLength(128));
const orderResponse = z.looseObject({ orderId });
const ordersResponse = z.looseObject({
  orders: z.array(z.looseObject({ orderId, status: z.enum(['created', 'cancelled']) })),
});

/** The order service: create the order of a paid, stocked checkout (the last step; no undo). */
export function createOrderClient(http: ServiceHttpClient): OrderService {
  return {
    async create(
      {
        checkoutId,
        customerEmail,
        shippingAddress,
        items,
        totalCents,
        currency,
        paymentId,
        paymentStatus,
      },
      options,
    ) {
      const { orderId } = await http.post(
        '/orders',
        {
          checkout_id: checkoutId,
          customer_email: customerEmail,
          shipping_address: inSchemaOrder(shippingAddress),
          items: items.map((item) => ({
            product_id: item.productId,
            quantity: item.quantity,
            price: toWireAmount(item.priceCents, currency),
          })),
          total_amount: toWireAmount(totalCents, currency),
          currency,
          payment_id: paymentId,
          ...(paymentStatus && { payment_status: paymentStatus }),
        },
        `${checkoutId}:order`,
        orderResponse,
        options?.signal,
        checkoutEcho(checkoutId),
      );
      return { orderId };
    },

    async findOrders(checkoutId, options) {
      const { orders } = await http.get(
        `/orders?checkout_id=${encodeURIComponent(checkoutId)}`,
        ordersResponse,
        options?.signal,
        checkoutEcho(checkoutId, 'orders'),
      );
      return orders.map((order) => ({ orderId: order.orderId, status: order.status }));
    },
  };
}

/**
 * The address with its fields in one fixed order. Read back from `jsonb` (sorted by key length)
 * it would otherwise differ byte for byte from the first request, and a provider that hashes
 * the raw body would refuse the resumed one as a different request under the same key.
 */
function inSchemaOrder(address: ShippingAddress): ShippingAddress {
  const { street, number, complement, city, state, zip_code } = address;
  return {
    street,
    number,
    ...(complement === undefined ? {} : { complement }),
    city,
    state,
    zip_code,
  };
}
