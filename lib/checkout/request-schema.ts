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

/**
 * The messages: each field says what it expects in a shop developer's words, the same whatever
 * is wrong with the value (its type, shape, length or range), and `required` when it is
 * missing. The JSON Schema validator, which answers a bad body first, gives the same ones: its
 * messages are read from these schemas when it is generated (`dev/schemas`). zod/mini has no
 * messages of its own ("Invalid input"), so every schema and check here carries one.
 */
const expected = (message: string) => ({
  error: (issue: z.core.$ZodRawIssue) => (issue.input === undefined ? 'required' : message),
});

/** A check's message; `abort` stops the checks after it, so a value gets one message only. */
const must = (message: string) => ({ error: message, abort: true });

/**
 * A length check's message. zod runs length checks on any value with a length, even one of the
 * wrong type, which would say the same thing twice (`[]` as a street, `""` as the items).
 */
const mustText = (message: string) => ({
  ...must(message),
  when: (payload: z.core.ParsePayload) => typeof payload.value === 'string',
});
const mustList = (message: string) => ({
  ...must(message),
  when: (payload: z.core.ParsePayload) => Array.isArray(payload.value),
});

/** Control characters (NUL included, which PostgreSQL cannot store) have no place in an address. */
const CONTROL_CHARACTERS = /\p{Cc}/u;

/** Trimmed, 1–`max` characters, well-formed Unicode (no lone surrogates) and no control characters. */
const text = (field: string, max: number) => {
  const message = `${field} must be text of 1 to ${max} characters, not blank`;
  return z.string(expected(message)).check(
    z.trim(),
    z.minLength(1, mustText(message)),
    z.maxLength(max, mustText(message)),
    z.refine(
      (s) => s.isWellFormed() && !CONTROL_CHARACTERS.test(s),
      `${field} must be printable text, without control characters`,
    ),
  );
};

/**
 * A whole number from `min` to `max`, one message for every way it can be wrong. `z.int` comes
 * first and aborts, so a string or a fraction is not also told it is out of range.
 */
const wholeNumber = (field: string, min: number, max: number) => {
  const message = `${field} must be a whole number from ${min} to ${max}`;
  return z
    .int({ ...expected(message), abort: true })
    .check(z.minimum(min, must(message)), z.maximum(max, must(message)));
};

/** Parcelamento: 1–12 installments, interest-free for the customer (BRL only: checked later). */
const installments = z.optional(wholeNumber('installments', 1, 12));

/** The payment methods, told apart by `type`: the raw card's two, the token, Pix and boleto. */
const RAW_CARD_TYPES = ['credit_card', 'debit_card'] as const;
const PAYMENT_TYPES = [...RAW_CARD_TYPES, 'card_token', 'pix', 'boleto'];
const PAYMENT_TYPE = `type must be one of ${PAYMENT_TYPES.join(', ')}`;
const PAYMENT_METHOD = `payment_method must be an object whose type is one of ${PAYMENT_TYPES.join(', ')}`;
const CARD_NUMBER = 'card_number must be 12 to 19 digits';
const CARD_EXPIRY = 'card_expiry must be MM/YY, e.g. 12/30';
const CARD_CVV = 'card_cvv must be 3 or 4 digits';
const TOKEN = 'token must be the 1 to 255 character token the payment service made (no spaces)';

/**
 * The seed's raw card. It puts the whole deployment in PCI DSS scope, so `ACCEPT_RAW_CARDS`
 * can refuse it; `card_token` is the recommended form.
 */
export const rawCardSchema = z.strictObject(
  {
    type: z.enum(RAW_CARD_TYPES, expected(PAYMENT_TYPE)),
    card_number: z
      .string(expected(CARD_NUMBER))
      .check(
        z.regex(/^\d{12,19}$/, must(CARD_NUMBER)),
        z.refine(isLuhnValid, 'card_number is not a valid card number (Luhn check failed)'),
      ),
    card_expiry: z.string(expected(CARD_EXPIRY)).check(
      z.regex(/^(0[1-9]|1[0-2])\/\d{2}$/, must(CARD_EXPIRY)),
      z.refine((v) => isExpiryCurrent(v, new Date()), 'the card has expired'),
    ),
    card_cvv: z.string(expected(CARD_CVV)).check(z.regex(/^\d{3,4}$/, must(CARD_CVV))),
    installments,
  },
  expected(PAYMENT_METHOD),
);

/** A token made by the payment service's client-side SDK: the card never passes through us. */
export const cardTokenSchema = z.strictObject(
  {
    type: z.literal('card_token', expected(PAYMENT_TYPE)),
    token: z.string(expected(TOKEN)).check(z.regex(/^[\x21-\x7e]{1,255}$/, must(TOKEN))),
    installments,
  },
  expected(PAYMENT_METHOD),
);

/**
 * A Pix (design §4a): a QR code the customer pays in their bank app before it expires, in
 * `expires_in_minutes` (`PIX_EXPIRY_MINUTES` when left out). BRL only, with the payer's
 * CPF/CNPJ: checked by `parseCheckoutRequest`, across fields.
 */
export const pixSchema = z.strictObject(
  {
    type: z.literal('pix', expected(PAYMENT_TYPE)),
    expires_in_minutes: z.optional(wholeNumber('expires_in_minutes', 5, 1440)),
  },
  expected(PAYMENT_METHOD),
);

/**
 * A boleto (design §4a): paid by its due date, `due_in_days` calendar days away (moved to the
 * next business day; `BOLETO_DUE_DAYS` when left out). BRL only; it is registered in the
 * payer's name, CPF/CNPJ and neighbourhood, which `parseCheckoutRequest` requires.
 */
export const boletoSchema = z.strictObject(
  {
    type: z.literal('boleto', expected(PAYMENT_TYPE)),
    due_in_days: z.optional(wholeNumber('due_in_days', 1, 30)),
  },
  expected(PAYMENT_METHOD),
);

/**
 * How the customer pays, told apart by `type`, each member its own strict object: nothing here
 * branches on a member's fields (a Pix takes no `installments`: an unknown field).
 */
export const paymentMethodSchema = z.discriminatedUnion(
  'type',
  [rawCardSchema, cardTokenSchema, pixSchema, boletoSchema],
  {
    // An unknown or missing `type` is reported at `type`; anything but an object, at the field.
    error: (issue) => {
      if (issue.input === undefined) return 'required';
      if (issue.code !== 'invalid_union') {
        return PAYMENT_METHOD;
      }
      return (issue.input as { type?: unknown }).type === undefined ? 'required' : PAYMENT_TYPE;
    },
  },
);

/** A Pix or a boleto: paid later by the customer, in BRL, with nothing secret in it. */
export function isAsyncPayment(
  method: z.infer<typeof paymentMethodSchema>,
): method is z.infer<typeof pixSchema> | z.infer<typeof boletoSchema> {
  return method.type === 'pix' || method.type === 'boleto';
}

export const shippingAddressSchema = z.strictObject(
  {
    street: text('street', 200),
    number: text('number', 20),
    complement: z.optional(text('complement', 100)),
    // The bairro: a boleto is registered with it (required there, by parseCheckoutRequest).
    neighborhood: z.optional(text('neighborhood', 100)),
    city: text('city', 100),
    state: text('state', 50),
    zip_code: text('zip_code', 20),
  },
  expected(
    'shipping_address must be an object with street, number, city, state and zip_code (complement and neighborhood optional)',
  ),
);

const PRICE = `price must be a number above 0 and at most ${MAX_PRICE}, in the currency's major unit (e.g. 99.90)`;

export const checkoutItemSchema = z.strictObject(
  {
    product_id: text('product_id', 64),
    quantity: wholeNumber('quantity', 1, 999),
    // The price the customer saw (design §2): optional, since the amount charged is the
    // catalog's; when sent, it must be the catalog's (else 409 price_changed). Decimals depend on
    // the currency: checked where the price becomes minor units (parseCheckoutRequest), not with
    // `multipleOf`, which floats cannot test exactly.
    price: z.optional(
      z.number(expected(PRICE)).check(z.positive(must(PRICE)), z.maximum(MAX_PRICE, must(PRICE))),
    ),
  },
  expected('an item must be an object with product_id and quantity (price optional)'),
);

const EMAIL =
  'customer_email must be an email address such as customer@example.com, at most 254 characters';
const DOCUMENT =
  'customer_document must be a CPF (11 digits) or a CNPJ (14 characters), punctuation allowed, at most 32 characters';
const ITEMS = 'items must be a list of 1 to 100 items';
const CURRENCY = 'currency must be a 3-letter ISO 4217 code such as BRL';

/** Why a well-formed code is refused, naming it (and what replaced it, if ISO withdrew it). */
function unusableCurrency(code: string): string {
  const replacement = replacementOf(code);
  return replacement
    ? `currency ${code} has been withdrawn from ISO 4217 (replaced by ${replacement})`
    : `currency ${code} is not an ISO 4217 currency code in use`;
}

/** The body of `POST /checkout/process`, compatible with the FastAPI seed. Written once, here. */
export const checkoutRequestSchema = z.strictObject(
  {
    payment_method: paymentMethodSchema,
    customer_email: z
      .email({ ...expected(EMAIL), abort: true })
      .check(z.maxLength(254, mustText(EMAIL))),
    // The payer's name: a boleto is registered in it (required there, at most 120 characters:
    // parseCheckoutRequest). 200 is what every method has accepted since it was added; it goes
    // to the payment service only, never stored.
    customer_name: z.optional(text('customer_name', 200)),
    // CPF or CNPJ, punctuation allowed; its check digits are verified by parseCheckoutRequest,
    // which also keeps it out of every message (it is personal data).
    customer_document: z.optional(
      z.string(expected(DOCUMENT)).check(z.maxLength(32, mustText(DOCUMENT))),
    ),
    shipping_address: shippingAddressSchema,
    items: z
      .array(checkoutItemSchema, expected(ITEMS))
      .check(z.minLength(1, mustList(ITEMS)), z.maxLength(100, mustList(ITEMS))),
    currency: z._default(
      z
        .string(expected(CURRENCY))
        .check(
          z.regex(/^[A-Z]{3}$/, must(CURRENCY)),
          z.refine(isKnownCurrency, { error: (issue) => unusableCurrency(String(issue.input)) }),
        ),
      'BRL',
    ),
  },
  {
    error: () =>
      'the body must be a JSON object with payment_method, customer_email, shipping_address and items',
  },
);

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
