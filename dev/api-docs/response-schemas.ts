import { z } from 'zod';

/**
 * The shapes of the API's answers, written once in zod: the OpenAPI document is generated
 * from them and the integration tests parse real answers with them.
 */
const amount = z
  .string()
  .regex(/^\d+(\.\d{2,3})?$/)
  // Without an example, Swagger UI makes one up from the pattern: 80 digits.
  .meta({
    description: "decimal string with the currency's decimals: 150 JPY, 349.70 BRL, 1.234 KWD",
    example: '349.70',
  });
const currency = z.string().length(3).meta({ example: 'BRL' });
const checkoutStatus = z.enum([
  'pending',
  'payment_processed',
  'payment_authorized',
  'inventory_deducted',
  'order_created',
  'completed',
  'compensating',
  'failed',
  'requires_attention',
]);

export const completedResponseSchema = z.strictObject({
  checkout_id: z.uuid(),
  status: z.literal('completed'),
  total_amount: amount,
  currency,
  payment_id: z.string(),
  order_id: z.string(),
  error: z.null(),
});

export const failedResponseSchema = z.strictObject({
  checkout_id: z.uuid(),
  status: z.literal('failed'),
  error: z.enum([
    'payment_failed',
    'inventory_failed',
    'order_failed',
    'payment_unavailable',
    'inventory_unavailable',
    'order_unavailable',
  ]),
  reason: z.string(),
  message: z.string(),
});

/** A person must finish it: nothing says it was undone, and money may be held. */
export const requiresAttentionResponseSchema = z.strictObject({
  checkout_id: z.uuid(),
  status: z.literal('requires_attention'),
  error: z.literal('checkout_requires_attention'),
  message: z.string(),
});

export const incompleteResponseSchema = z.strictObject({
  checkout_id: z.uuid(),
  status: checkoutStatus,
  error: z.literal('checkout_incomplete'),
  message: z.string(),
});

export const inProgressResponseSchema = z.strictObject({
  error: z.literal('checkout_in_progress'),
  checkout_id: z.uuid(),
  message: z.string(),
});

/**
 * A unit price as the pricing answers give it: a JSON number with the currency's decimals. At
 * least 0.001, the smallest price of any currency (3 decimals at most): `positive()` would say
 * so with OpenAPI 3.0's boolean `exclusiveMinimum`, which validators of JSON Schema draft 6
 * and later refuse.
 */
const unitPrice = z.number().min(0.001).meta({
  description: "a unit price in the currency's major unit, with its decimals: 109.9 BRL, 50 JPY",
  example: 109.9,
});

/** A price the customer saw is not the catalog's: nothing was recorded or charged. */
export const priceChangedResponseSchema = z.strictObject({
  error: z.literal('price_changed'),
  message: z.string(),
  items: z
    .array(
      z.strictObject({ product_id: z.string(), price_sent: unitPrice, current_price: unitPrice }),
    )
    .min(1),
});

/** The catalog does not know a product of the cart: nothing was recorded or charged. */
export const unknownProductResponseSchema = z.strictObject({
  error: z.literal('unknown_product'),
  product_id: z.string(),
  message: z.string(),
});

/** The catalog could not price the cart: nothing was recorded or charged. */
export const pricingUnavailableResponseSchema = z.strictObject({
  error: z.literal('pricing_unavailable'),
  message: z.string(),
});

/**
 * The database did not answer before anything was recorded. Its own shape beside `Error`, so a
 * 503 is exactly one of its shapes (`oneOf`).
 */
export const serviceUnavailableResponseSchema = z.strictObject({
  error: z.literal('service_unavailable'),
  message: z.string(),
});

export const errorResponseSchema = z.strictObject({
  error: z.string(),
  message: z.string(),
  details: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
});

export const checkoutViewSchema = z.strictObject({
  checkout_id: z.uuid(),
  status: checkoutStatus,
  total_amount: amount,
  currency,
  payment_id: z.string().nullable(),
  order_id: z.string().nullable(),
  error: z.string().nullable(),
  reason: z.string().nullable(),
  installments: z
    .strictObject({
      count: z.int().min(1).max(12).meta({ description: 'how many installments', example: 3 }),
      amounts: z
        .array(amount)
        .min(1)
        .meta({
          description:
            'each installment, the first carrying the cents that do not divide evenly; they add up to total_amount (interest-free)',
          example: ['116.58', '116.56', '116.56'],
        }),
    })
    .meta({ description: 'the installment plan (parcelamento) the card was authorized with' }),
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
});

export const healthResponseSchema = z.strictObject({
  status: z.enum(['ok', 'unavailable']),
  checks: z.strictObject({ database: z.enum(['ok', 'error']) }),
});
