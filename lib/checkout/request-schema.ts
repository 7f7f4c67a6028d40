import { z } from 'zod';
import { toMinorUnits } from '../money.ts';
import { isExpiryCurrent, isLuhnValid } from './card.ts';

/** Largest unit price accepted: keeps 100 items × 999 units inside `numeric(12,2)`. */
const MAX_PRICE = 99_999.99;

const text = (max: number) => z.string().trim().min(1).max(max);

export const paymentMethodSchema = z.strictObject({
  type: z.enum(['credit_card', 'debit_card']),
  card_number: z
    .string()
    .regex(/^\d{12,19}$/, 'card_number must be 12 to 19 digits')
    .refine(isLuhnValid, 'card_number is not a valid card number (Luhn check failed)'),
  card_expiry: z
    .string()
    .regex(/^(0[1-9]|1[0-2])\/\d{2}$/, 'card_expiry must be MM/YY')
    .refine((v) => isExpiryCurrent(v, new Date()), 'the card has expired'),
  card_cvv: z.string().regex(/^\d{3,4}$/, 'card_cvv must be 3 or 4 digits'),
});

export const shippingAddressSchema = z.strictObject({
  street: text(200),
  number: text(20),
  complement: text(100).optional(),
  city: text(100),
  state: text(50),
  zip_code: text(20),
});

export const checkoutItemSchema = z.strictObject({
  product_id: text(64),
  quantity: z.number().int().min(1).max(999),
  price: z
    .number()
    .positive()
    .max(MAX_PRICE)
    .refine((p) => toMinorUnits(p) !== undefined, 'price must have at most 2 decimals'),
});

/** The body of `POST /checkout/process`, compatible with the FastAPI seed. Written once, here. */
export const checkoutRequestSchema = z.strictObject({
  payment_method: paymentMethodSchema,
  customer_email: z.email().max(254),
  shipping_address: shippingAddressSchema,
  items: z.array(checkoutItemSchema).min(1).max(100),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as BRL')
    .default('BRL'),
});

export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;

/** A checkout id as issued by this service. */
export const checkoutIdSchema = z.uuid();

/** `Idempotency-Key`: 1–255 printable ASCII characters. */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e][\x20-\x7e]{0,254}$/, {
  message: 'Idempotency-Key must be 1 to 255 printable characters',
});
