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
  'inventory_deducted',
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
  created_at: z.iso.datetime({ offset: true }),
  updated_at: z.iso.datetime({ offset: true }),
});

export const healthResponseSchema = z.strictObject({
  status: z.enum(['ok', 'unavailable']),
  checks: z.strictObject({ database: z.enum(['ok', 'error']) }),
});
