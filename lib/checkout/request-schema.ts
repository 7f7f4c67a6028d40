// zod/mini: the same schemas as classic zod at a tenth of the bundle size (cold starts).
import * as z from 'zod/mini';
import { isKnownCurrency, replacementOf } from '#lib/money.ts';
import { isExpiryCurrent, isLuhnValid } from './card.ts';

/**
 * Largest unit price accepted, in the currency's major unit (any currency: 10 million leaves
 * room for VND or IDR prices). The largest total, 100 items × 999 units × 10 000 000 =
 * 999 000 000 000, fits `total_amount numeric(15,3)` (< 10^12); in minor units it is at most
 * 9.99 × 10^14 (3-decimal currencies), under Number.MAX_SAFE_INTEGER (9.007 × 10^15) and under
 * 15 significant digits, so the JSON number sent downstream is exactly the decimal.
 */
export const MAX_PRICE = 10_000_000;

/** Control characters (NUL included, which PostgreSQL cannot store) have no place in an address. */
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Trimmed, 1–`max` characters, well-formed Unicode (no lone surrogates) and no control characters. */
const text = (max: number) =>
  z.string().check(
    z.trim(),
    z.minLength(1),
    z.maxLength(max),
    z.refine((s) => s.isWellFormed() && !CONTROL_CHARACTERS.test(s), 'must be printable text'),
  );

/** Parcelamento: 1–12 installments, interest-free for the customer (BRL only: checked later). */
const installments = z.optional(
  z
    .int()
    .check(
      z.minimum(1, 'installments must be a whole number from 1 to 12'),
      z.maximum(12, 'installments must be a whole number from 1 to 12'),
    ),
);

/**
 * The seed's raw card. It puts the whole deployment in PCI DSS scope, so `ACCEPT_RAW_CARDS`
 * can refuse it; `card_token` is the recommended form.
 */
export const rawCardSchema = z.strictObject({
  type: z.enum(['credit_card', 'debit_card']),
  card_number: z
    .string()
    .check(
      z.regex(/^\d{12,19}$/, 'card_number must be 12 to 19 digits'),
      z.refine(isLuhnValid, 'card_number is not a valid card number (Luhn check failed)'),
    ),
  card_expiry: z.string().check(
    z.regex(/^(0[1-9]|1[0-2])\/\d{2}$/, 'card_expiry must be MM/YY'),
    z.refine((v) => isExpiryCurrent(v, new Date()), 'the card has expired'),
  ),
  card_cvv: z.string().check(z.regex(/^\d{3,4}$/, 'card_cvv must be 3 or 4 digits')),
  installments,
});

/** A token made by the payment service's client-side SDK: the card never passes through us. */
export const cardTokenSchema = z.strictObject({
  type: z.literal('card_token'),
  token: z
    .string()
    .check(
      z.regex(
        /^[\x21-\x7e]{1,255}$/,
        'token must be the 1 to 255 character token the payment service made (no spaces)',
      ),
    ),
  installments,
});

/**
 * How the customer pays, told apart by `type`. Pix and boleto join as further members, each its
 * own object: nothing here branches on a member's fields.
 */
export const paymentMethodSchema = z.discriminatedUnion('type', [rawCardSchema, cardTokenSchema]);

export const shippingAddressSchema = z.strictObject({
  street: text(200),
  number: text(20),
  complement: z.optional(text(100)),
  city: text(100),
  state: text(50),
  zip_code: text(20),
});

export const checkoutItemSchema = z.strictObject({
  product_id: text(64),
  quantity: z.int().check(z.minimum(1), z.maximum(999)),
  // The price the customer saw (design §2): optional, since the amount charged is the
  // catalog's; when sent, it must be the catalog's (else 409 price_changed). Decimals depend on
  // the currency: checked where the price becomes minor units (parseCheckoutRequest), not with
  // `multipleOf`, which floats cannot test exactly.
  price: z.optional(z.number().check(z.positive(), z.maximum(MAX_PRICE))),
});

/** Why a well-formed code is refused, naming it (and what replaced it, if ISO withdrew it). */
function unusableCurrency(code: string): string {
  const replacement = replacementOf(code);
  return replacement
    ? `currency ${code} has been withdrawn from ISO 4217 (replaced by ${replacement})`
    : `currency ${code} is not an ISO 4217 currency code in use`;
}

/** The body of `POST /checkout/process`, compatible with the FastAPI seed. Written once, here. */
export const checkoutRequestSchema = z.strictObject({
  payment_method: paymentMethodSchema,
  customer_email: z.email().check(z.maxLength(254)),
  customer_name: z.optional(text(200)),
  // CPF or CNPJ, punctuation allowed; its check digits are verified by parseCheckoutRequest,
  // which also keeps it out of every message (it is personal data).
  customer_document: z.optional(z.string().check(z.maxLength(32))),
  shipping_address: shippingAddressSchema,
  items: z.array(checkoutItemSchema).check(z.minLength(1), z.maxLength(100)),
  currency: z._default(
    z
      .string()
      .check(
        z.regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as BRL'),
        z.refine(isKnownCurrency, { error: (issue) => unusableCurrency(String(issue.input)) }),
      ),
    'BRL',
  ),
});

export type CheckoutRequest = z.infer<typeof checkoutRequestSchema>;

/** A checkout id as issued by this service. */
export const checkoutIdSchema = z.uuid();

/** `Idempotency-Key`: 1–255 printable ASCII characters. */
export const idempotencyKeySchema = z
  .string()
  .check(
    z.regex(
      /^[\x21-\x7e][\x20-\x7e]{0,254}$/,
      'Idempotency-Key must be 1 to 255 printable characters',
    ),
  );
