import type { ValidateFunction } from 'ajv';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { priceCart } from '#lib/checkout/pricing.ts';
import { MAX_PRICE } from '#lib/checkout/request-schema.ts';
import { type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { toErrorResponse } from '#lib/http/error-response.ts';
import checkoutEventValidator from '#lib/http/generated/checkout-event-validator.js';
import { type CheckoutBody, validCheckoutBody, withLuhnDigit } from './checkout-body.ts';

/** Today, for the expiry rule: `12/25` has expired, `11/26` is this month. */
const TODAY = new Date('2026-11-24T12:00:00Z');

/** The validator the checkout function hands to `@middy/validator`, precompiled from zod. */
function compileEventSchema(): ValidateFunction {
  return checkoutEventValidator as unknown as ValidateFunction;
}

let validateEvent: ValidateFunction;

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(TODAY);
  validateEvent = compileEventSchema();
});

afterAll(() => {
  vi.useRealTimers();
});

function bodyWith(change: (body: CheckoutBody) => void): CheckoutBody {
  const body = validCheckoutBody();
  change(body);
  return body;
}

/** The details `parseCheckoutRequest` rejects the body with, or `undefined` if it accepts it. */
function zodRejection(body: unknown): ErrorDetail[] | undefined {
  try {
    parseCheckoutRequest(body);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error.details;
    throw error;
  }
}

/** The details the Middy validator's answer would carry, or `undefined` if the schema passes. */
function jsonSchemaRejection(body: unknown): ErrorDetail[] | undefined {
  if (validateEvent({ body })) return undefined;
  const error = new Error('Event object failed validation', {
    cause: { package: '@middy/validator', data: validateEvent.errors },
  });
  const { response } = toErrorResponse(error);
  expect(response.statusCode).toBe(400);
  return JSON.parse(response.body).details;
}

const paths = (details: ErrorDetail[] | undefined) => details?.map((d) => d.path);
const sortedDetails = (details: ErrorDetail[] | undefined) =>
  details?.map((d) => `${d.path}: ${d.message}`).sort();

/** Ajv's and zod's own words, which tell a shop nothing about what to send. */
const UNREADABLE =
  /Invalid input|must match|allowed values|equal to|must NOT have|must be (string|number|integer|object|array|[<>=])|oneOf|[\\^$]/;

interface RejectedCase {
  rule: string;
  path: string;
  change: (body: CheckoutBody) => void;
  /** Whether JSON Schema can express the rule; if not, only zod catches it. */
  structural: boolean;
}

const pm = (field: string, value: unknown) => (b: CheckoutBody) => {
  b.payment_method[field] = value;
};
const address = (field: string, value: unknown) => (b: CheckoutBody) => {
  b.shipping_address[field] = value;
};
const item = (field: string, value: unknown) => (b: CheckoutBody) => {
  (b.items[0] as Record<string, unknown>)[field] = value;
};
const top = (field: string, value: unknown) => (b: CheckoutBody) => {
  b[field] = value;
};
/**
 * The payment method becomes `method`, with what a Pix or boleto needs besides: a CPF, and for
 * a boleto the payer's name and neighbourhood (a case then takes one away).
 */
const asyncMethod = (method: Record<string, unknown>) => (b: CheckoutBody) => {
  b.payment_method = method;
  b.customer_document = '529.982.247-25';
  b.customer_name = 'Ana Souza';
  b.shipping_address.neighborhood = 'Jardim Paulista';
};
/** Every item at one price in a currency: the decimals a price may have depend on it. */
const priced = (currency: string, price: number) => (b: CheckoutBody) => {
  b.currency = currency;
  for (const line of b.items) (line as Record<string, unknown>).price = price;
};

// biome-ignore format: one case a line reads as a table
const rejectedCases: RejectedCase[] = [
  // card number: digits only, 12–19 long, Luhn-valid
  { rule: 'a card number with dashes', path: 'payment_method.card_number', change: pm('card_number', '4111-1111-1111-1111'), structural: true },
  { rule: 'a card number with spaces', path: 'payment_method.card_number', change: pm('card_number', '4111 1111 1111 1111'), structural: true },
  { rule: 'a card number of 11 digits', path: 'payment_method.card_number', change: pm('card_number', withLuhnDigit('4111111111')), structural: true },
  { rule: 'a card number of 20 digits', path: 'payment_method.card_number', change: pm('card_number', withLuhnDigit('4'.padEnd(19, '1'))), structural: true },
  { rule: 'a card number sent as a JSON number', path: 'payment_method.card_number', change: pm('card_number', 4111111111111111), structural: true },
  { rule: 'a card number failing the Luhn check', path: 'payment_method.card_number', change: pm('card_number', '4111111111111112'), structural: false },
  // expiry: MM/YY, not in the past
  { rule: 'the seed README’s expired card 12/25', path: 'payment_method.card_expiry', change: pm('card_expiry', '12/25'), structural: false },
  { rule: 'a card that expired last month', path: 'payment_method.card_expiry', change: pm('card_expiry', '10/26'), structural: false },
  { rule: 'month 13', path: 'payment_method.card_expiry', change: pm('card_expiry', '13/30'), structural: true },
  { rule: 'month 00', path: 'payment_method.card_expiry', change: pm('card_expiry', '00/30'), structural: true },
  { rule: 'a one-digit month', path: 'payment_method.card_expiry', change: pm('card_expiry', '1/30'), structural: true },
  { rule: 'a four-digit year', path: 'payment_method.card_expiry', change: pm('card_expiry', '12/2030'), structural: true },
  // CVV: 3–4 digits
  { rule: 'a CVV of 2 digits', path: 'payment_method.card_cvv', change: pm('card_cvv', '12'), structural: true },
  { rule: 'a CVV of 5 digits', path: 'payment_method.card_cvv', change: pm('card_cvv', '12345'), structural: true },
  { rule: 'a CVV with a letter', path: 'payment_method.card_cvv', change: pm('card_cvv', '12a'), structural: true },
  { rule: 'an unknown payment type', path: 'payment_method.type', change: pm('type', 'paypal'), structural: true },
  // Pix and boleto: their lifetimes, and nothing of a card
  { rule: 'a Pix expiring in 4 minutes', path: 'payment_method.expires_in_minutes', change: asyncMethod({ type: 'pix', expires_in_minutes: 4 }), structural: true },
  { rule: 'a Pix expiring in 1441 minutes', path: 'payment_method.expires_in_minutes', change: asyncMethod({ type: 'pix', expires_in_minutes: 1441 }), structural: true },
  { rule: 'a Pix with installments', path: 'payment_method.installments', change: asyncMethod({ type: 'pix', installments: 2 }), structural: true },
  { rule: 'a Pix with a due date', path: 'payment_method.due_in_days', change: asyncMethod({ type: 'pix', due_in_days: 3 }), structural: true },
  { rule: 'a boleto due in 31 days', path: 'payment_method.due_in_days', change: asyncMethod({ type: 'boleto', due_in_days: 31 }), structural: true },
  { rule: 'a boleto due in "3" days', path: 'payment_method.due_in_days', change: asyncMethod({ type: 'boleto', due_in_days: '3' }), structural: true },
  { rule: 'a Pix in USD', path: 'payment_method.type', change: (b) => { asyncMethod({ type: 'pix' })(b); b.currency = 'USD'; }, structural: false },
  { rule: 'a Pix without a CPF/CNPJ', path: 'customer_document', change: (b) => { asyncMethod({ type: 'pix' })(b); delete b.customer_document; }, structural: false },
  { rule: 'a boleto without a name', path: 'customer_name', change: (b) => { asyncMethod({ type: 'boleto' })(b); delete b.customer_name; }, structural: false },
  { rule: 'a boleto without a neighborhood', path: 'shipping_address.neighborhood', change: (b) => { asyncMethod({ type: 'boleto' })(b); delete b.shipping_address.neighborhood; }, structural: false },
  { rule: 'a boleto with a name of 121 characters', path: 'customer_name', change: (b) => { asyncMethod({ type: 'boleto' })(b); b.customer_name = 'A'.repeat(121); }, structural: false },
  // a real email
  { rule: 'an email without @', path: 'customer_email', change: top('customer_email', 'not-an-email'), structural: true },
  { rule: 'an email without a domain', path: 'customer_email', change: top('customer_email', 'customer@'), structural: true },
  { rule: 'an email without a top-level domain', path: 'customer_email', change: top('customer_email', 'customer@example'), structural: true },
  { rule: 'an email longer than 254 characters', path: 'customer_email', change: top('customer_email', `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`), structural: true },
  // items: 1–100
  { rule: 'no items', path: 'items', change: top('items', []), structural: true },
  { rule: '101 items', path: 'items', change: (b) => { b.items = Array.from({ length: 101 }, (_, i) => ({ product_id: `p${i}`, quantity: 1, price: 1 })); }, structural: true },
  { rule: 'items that are not an array', path: 'items', change: top('items', { product_id: 'prod_001' }), structural: true },
  // quantity: an integer 1–999
  { rule: 'quantity 0', path: 'items.0.quantity', change: item('quantity', 0), structural: true },
  { rule: 'quantity 1000', path: 'items.0.quantity', change: item('quantity', 1000), structural: true },
  { rule: 'quantity 1.5', path: 'items.0.quantity', change: item('quantity', 1.5), structural: true },
  { rule: 'a negative quantity', path: 'items.0.quantity', change: item('quantity', -1), structural: true },
  { rule: 'a quantity sent as a string', path: 'items.0.quantity', change: item('quantity', '2'), structural: true },
  // price: > 0, at most as many decimals as the currency's minor unit, at most 10 000 000
  { rule: 'price 0', path: 'items.0.price', change: item('price', 0), structural: true },
  { rule: 'a negative price', path: 'items.0.price', change: item('price', -1), structural: true },
  { rule: 'price -0.01', path: 'items.0.price', change: item('price', -0.01), structural: true },
  { rule: 'price 19.999 (3 decimals)', path: 'items.0.price', change: item('price', 19.999), structural: false },
  { rule: 'price 0.001 (3 decimals)', path: 'items.0.price', change: item('price', 0.001), structural: false },
  { rule: 'a JPY price with decimals (150.5)', path: 'items.0.price', change: priced('JPY', 150.5), structural: false },
  { rule: 'a KRW price with decimals (0.1)', path: 'items.0.price', change: priced('KRW', 0.1), structural: false },
  { rule: 'a KWD price with 4 decimals (1.2345)', path: 'items.0.price', change: priced('KWD', 1.2345), structural: false },
  { rule: 'a USD price with 3 decimals (1.234)', path: 'items.0.price', change: priced('USD', 1.234), structural: false },
  { rule: 'price 10000001', path: 'items.0.price', change: item('price', MAX_PRICE + 1), structural: true },
  { rule: 'price 10000000.001', path: 'items.0.price', change: priced('KWD', 10_000_000.001), structural: true },
  { rule: 'a price sent as a string', path: 'items.0.price', change: item('price', '99.90'), structural: true },
  // string length caps, and no blank strings
  { rule: 'a street of 201 characters', path: 'shipping_address.street', change: address('street', 'a'.repeat(201)), structural: true },
  { rule: 'an empty street', path: 'shipping_address.street', change: address('street', ''), structural: true },
  { rule: 'a street of blanks only', path: 'shipping_address.street', change: address('street', '   '), structural: false },
  { rule: 'a house number of 21 characters', path: 'shipping_address.number', change: address('number', '1'.repeat(21)), structural: true },
  { rule: 'a complement of 101 characters', path: 'shipping_address.complement', change: address('complement', 'a'.repeat(101)), structural: true },
  { rule: 'an empty complement', path: 'shipping_address.complement', change: address('complement', ''), structural: true },
  { rule: 'a neighborhood of 101 characters', path: 'shipping_address.neighborhood', change: address('neighborhood', 'a'.repeat(101)), structural: true },
  { rule: 'a customer name of 201 characters', path: 'customer_name', change: top('customer_name', 'a'.repeat(201)), structural: true },
  { rule: 'a city of 101 characters', path: 'shipping_address.city', change: address('city', 'a'.repeat(101)), structural: true },
  { rule: 'a state of 51 characters', path: 'shipping_address.state', change: address('state', 'a'.repeat(51)), structural: true },
  { rule: 'a zip code of 21 characters', path: 'shipping_address.zip_code', change: address('zip_code', '1'.repeat(21)), structural: true },
  { rule: 'a product id of 65 characters', path: 'items.0.product_id', change: item('product_id', 'p'.repeat(65)), structural: true },
  { rule: 'an empty product id', path: 'items.0.product_id', change: item('product_id', ''), structural: true },
  // required fields
  { rule: 'a missing email', path: 'customer_email', change: (b) => { delete b.customer_email; }, structural: true },
  { rule: 'a missing payment method', path: 'payment_method', change: (b) => { delete (b as Record<string, unknown>).payment_method; }, structural: true },
  { rule: 'a missing CVV', path: 'payment_method.card_cvv', change: (b) => { delete b.payment_method.card_cvv; }, structural: true },
  { rule: 'a missing city', path: 'shipping_address.city', change: (b) => { delete b.shipping_address.city; }, structural: true },
  // currency: an ISO 4217 code in use
  { rule: 'an unknown currency ZZZ', path: 'currency', change: top('currency', 'ZZZ'), structural: false },
  { rule: 'ISO’s no-currency code XXX', path: 'currency', change: top('currency', 'XXX'), structural: false },
  { rule: 'the unit of account XDR', path: 'currency', change: top('currency', 'XDR'), structural: false },
  { rule: 'the 4-decimal unit of account CLF', path: 'currency', change: top('currency', 'CLF'), structural: false },
  { rule: 'the withdrawn kuna HRK', path: 'currency', change: top('currency', 'HRK'), structural: false },
  { rule: 'the withdrawn old leone SLL', path: 'currency', change: top('currency', 'SLL'), structural: false },
  { rule: 'the withdrawn Zimbabwe dollar ZWL', path: 'currency', change: top('currency', 'ZWL'), structural: false },
  { rule: 'a lower-case currency', path: 'currency', change: top('currency', 'brl'), structural: true },
  { rule: 'a two-letter currency', path: 'currency', change: top('currency', 'BR'), structural: true },
  { rule: 'a four-letter currency', path: 'currency', change: top('currency', 'BRLL'), structural: true },
  { rule: 'a currency symbol', path: 'currency', change: top('currency', 'R$'), structural: true },
  { rule: 'a null currency', path: 'currency', change: top('currency', null), structural: true },
];

// biome-ignore format: one case a line reads as a table
const unknownFieldCases = [
  { where: 'at the top level', path: 'coupon', change: top('coupon', 'FREE') },
  { where: 'in payment_method', path: 'payment_method.holder_name', change: pm('holder_name', 'Ana') },
  { where: 'in shipping_address', path: 'shipping_address.country', change: address('country', 'BR') },
  { where: 'in an item', path: 'items.0.discount', change: item('discount', 10) },
];

/** What a shop is told of a field, the same by both validators (issue 25: no regex, no "allowed values"). */
// biome-ignore format: one case a line reads as a table
const namedMessages: [string, string, (b: CheckoutBody) => void, string][] = [
  ['card_expiry', 'payment_method.card_expiry', pm('card_expiry', '1/30'), 'card_expiry must be MM/YY, e.g. 12/30'],
  ['currency', 'currency', top('currency', 'brl'), 'currency must be a 3-letter ISO 4217 code such as BRL'],
  ['type', 'payment_method.type', pm('type', 'paypal'), 'type must be one of credit_card, debit_card, card_token, pix, boleto'],
  ['customer_email', 'customer_email', top('customer_email', 'customer@example'), 'customer_email must be an email address such as customer@example.com, at most 254 characters'],
  ['quantity', 'items.0.quantity', item('quantity', 1.5), 'quantity must be a whole number from 1 to 999'],
  ['street', 'shipping_address.street', address('street', 'a'.repeat(201)), 'street must be text of 1 to 200 characters, not blank'],
  ['a missing city', 'shipping_address.city', (b) => { delete b.shipping_address.city; }, 'required'],
];

describe('parseCheckoutRequest', () => {
  it.each(rejectedCases)('rejects $rule with a detail at $path', ({ change, path }) => {
    const details = zodRejection(bodyWith(change));
    expect(details, 'the body was accepted').toBeDefined();
    expect(paths(details)).toContain(path);
  });

  it.each(unknownFieldCases)(
    'rejects an unknown field $where, naming it in the path',
    ({ change, path }) => {
      const details = zodRejection(bodyWith(change));
      expect(details).toContainEqual({ path, message: 'unknown field' });
    },
  );

  it('rejects price 0.00000000001, which has more than 2 decimals and would cost 0 cents', () => {
    const body = bodyWith(item('price', 1e-11));
    expect(paths(zodRejection(body))).toContain('items.0.price');
  });

  it.each([
    ['JPY', 150.5, 'price must be a whole amount in JPY (no decimals)'],
    ['KWD', 1.2345, 'price must have at most 3 decimals in KWD'],
    ['BRL', 19.999, 'price must have at most 2 decimals in BRL'],
  ])('says how many decimals a %s price may have', (currency, price, message) => {
    expect(zodRejection(bodyWith(priced(currency, price)))).toContainEqual({
      path: 'items.0.price',
      message,
    });
  });

  it('names every price with too many decimals, not only the first', () => {
    const body = bodyWith((b) => {
      b.currency = 'JPY';
      b.items = [
        { product_id: 'a', quantity: 1, price: 1.5 },
        { product_id: 'b', quantity: 1, price: 2 },
        { product_id: 'c', quantity: 1, price: 3.5 },
      ];
    });
    expect(paths(zodRejection(body))).toEqual(['items.0.price', 'items.2.price']);
  });

  it('names currency, and the code, when the code is not a currency in use', () => {
    expect(zodRejection(bodyWith(top('currency', 'ZZZ')))).toEqual([
      { path: 'currency', message: 'currency ZZZ is not an ISO 4217 currency code in use' },
    ]);
  });

  it.each([
    ['HRK', 'EUR'],
    ['SLL', 'SLE'],
    ['ZWL', 'ZWG'],
    ['BGN', 'EUR'],
    ['CUC', 'CUP'],
    ['ANG', 'XCG'],
  ])('refuses the withdrawn currency %s, naming it and its replacement %s', (code, replacement) => {
    expect(zodRejection(bodyWith(top('currency', code)))).toEqual([
      {
        path: 'currency',
        message: `currency ${code} has been withdrawn from ISO 4217 (replaced by ${replacement})`,
      },
    ]);
  });

  it.each(rejectedCases)('says in words what is expected of $rule', ({ change }) => {
    for (const { path, message } of zodRejection(bodyWith(change)) ?? []) {
      expect(message, path).not.toMatch(UNREADABLE);
    }
  });

  it.each(namedMessages)(
    'names what %s expects, in both validators',
    (_, path, change, message) => {
      const body = bodyWith(change);
      expect(zodRejection(body)).toEqual([{ path, message }]);
      expect(jsonSchemaRejection(body)).toEqual([{ path, message }]);
    },
  );

  it('throws a ValidationError with code validation_error and status 400', () => {
    const act = () => parseCheckoutRequest(bodyWith(pm('card_cvv', '1')));
    expect(act).toThrow(ValidationError);
    expect(act).toThrow(expect.objectContaining({ code: 'validation_error', statusCode: 400 }));
  });

  it('rejects a body that is not an object', () => {
    expect(paths(zodRejection('hello'))).toEqual(['(body)']);
    expect(zodRejection(null)).toBeDefined();
    expect(zodRejection([])).toBeDefined();
  });
});

describe('the generated JSON Schema, compiled as the Middy validator does', () => {
  it('accepts the valid seed body', () => {
    expect(jsonSchemaRejection(validCheckoutBody())).toBeUndefined();
  });

  it.each(rejectedCases.filter((c) => c.structural))(
    'rejects $rule with a detail at $path',
    ({ change, path }) => {
      const details = jsonSchemaRejection(bodyWith(change));
      expect(details, 'the body passed the JSON Schema').toBeDefined();
      expect(paths(details)).toContain(path);
    },
  );

  it.each(rejectedCases.filter((c) => !c.structural))(
    'lets $rule through for zod to reject',
    ({ change }) => {
      const body = bodyWith(change);
      expect(jsonSchemaRejection(body)).toBeUndefined();
      expect(zodRejection(body)).toBeDefined();
    },
  );

  it.each(unknownFieldCases)(
    'rejects an unknown field $where, naming it in the path',
    ({ change, path }) => {
      expect(paths(jsonSchemaRejection(bodyWith(change)))).toContain(path);
    },
  );

  it.each(rejectedCases.filter((c) => c.structural))(
    'says of $rule exactly what zod says (the validator answers first)',
    ({ change }) => {
      const body = bodyWith(change);
      expect(sortedDetails(jsonSchemaRejection(body))).toEqual(sortedDetails(zodRejection(body)));
    },
  );

  it('does not fill in the currency default, leaving that to zod', () => {
    const event = { body: validCheckoutBody() };
    expect(validateEvent(event)).toBe(true);
    expect(event.body).not.toHaveProperty('currency');
  });
});

interface AcceptedCase {
  rule: string;
  change: (body: CheckoutBody) => void;
}

// biome-ignore format: one case a line reads as a table
const acceptedCases: AcceptedCase[] = [
  { rule: 'price 19.99', change: item('price', 19.99) },
  { rule: 'price 0.1', change: item('price', 0.1) },
  { rule: 'price 0.01', change: item('price', 0.01) },
  { rule: 'price 99999.99', change: item('price', 99_999.99) },
  { rule: 'price 10000000, the cap', change: item('price', MAX_PRICE) },
  { rule: 'a JPY price 150', change: priced('JPY', 150) },
  { rule: 'a KRW price 1', change: priced('KRW', 1) },
  { rule: 'a KWD price 1.234', change: priced('KWD', 1.234) },
  { rule: 'a BHD price 0.001', change: priced('BHD', 0.001) },
  { rule: 'a KWD price 9999999.999', change: priced('KWD', 9_999_999.999) },
  { rule: 'a EUR price 19.99', change: priced('EUR', 19.99) },
  { rule: 'quantity 1', change: item('quantity', 1) },
  { rule: 'quantity 999', change: item('quantity', 999) },
  { rule: 'a single item', change: (b) => { b.items = b.items.slice(0, 1); } },
  { rule: '100 items of 999 units at the price cap', change: (b) => { b.items = Array.from({ length: 100 }, (_, i) => ({ product_id: `p${i}`, quantity: 999, price: MAX_PRICE })); } },
  { rule: '100 items of 999 units at the price cap in KWD', change: (b) => { b.currency = 'KWD'; b.items = Array.from({ length: 100 }, (_, i) => ({ product_id: `p${i}`, quantity: 999, price: 9_999_999.999 })); } },
  { rule: 'a 12-digit card number', change: pm('card_number', withLuhnDigit('41111111111')) },
  { rule: 'a 19-digit card number', change: pm('card_number', withLuhnDigit('4'.padEnd(18, '1'))) },
  { rule: 'an amex card with a 4-digit CVV', change: (b) => { b.payment_method.card_number = '378282246310005'; b.payment_method.card_cvv = '1234'; } },
  { rule: 'a card expiring this month', change: pm('card_expiry', '11/26') },
  { rule: 'a debit card', change: pm('type', 'debit_card') },
  { rule: 'a complement', change: address('complement', 'Apto 42') },
  { rule: 'a neighborhood with a card', change: address('neighborhood', 'Jardim Paulista') },
  { rule: 'a customer name of 200 characters with a card', change: top('customer_name', 'a'.repeat(200)) },
  { rule: 'a Pix', change: asyncMethod({ type: 'pix' }) },
  { rule: 'a Pix expiring in 5 minutes', change: asyncMethod({ type: 'pix', expires_in_minutes: 5 }) },
  { rule: 'a Pix expiring in 1440 minutes', change: asyncMethod({ type: 'pix', expires_in_minutes: 1440 }) },
  { rule: 'a boleto', change: asyncMethod({ type: 'boleto' }) },
  { rule: 'a boleto due in 30 days', change: asyncMethod({ type: 'boleto', due_in_days: 30 }) },
  { rule: 'a boleto with a name of 120 characters', change: (b) => { asyncMethod({ type: 'boleto' })(b); b.customer_name = 'A'.repeat(120); } },
  { rule: 'a street of exactly 200 characters', change: address('street', 'a'.repeat(200)) },
  { rule: 'a currency USD', change: top('currency', 'USD') },
  { rule: 'an email with a tag and a country domain', change: top('customer_email', 'customer+tag@example.com.br') },
];

describe('a valid checkout body', () => {
  it.each(acceptedCases)('with $rule passes both the JSON Schema and zod', ({ change }) => {
    const body = bodyWith(change);
    expect(jsonSchemaRejection(body)).toBeUndefined();
    expect(zodRejection(body)).toBeUndefined();
  });

  it('keeps 19.99 as exactly 1999 cents', () => {
    const { cart } = parseCheckoutRequest(bodyWith(item('price', 19.99)));
    expect(cart.items[0]?.priceSeenCents).toBe(1999);
  });

  it('keeps prices in the minor units of the currency: yen, fils', () => {
    const first = (body: unknown) => parseCheckoutRequest(body).cart.items[0]?.priceSeenCents;
    expect(first(bodyWith(priced('JPY', 150)))).toBe(150);
    expect(first(bodyWith(priced('KWD', 1.234)))).toBe(1234);
  });

  it('totals 100 × 999 units at the price cap exactly, as a safe integer', () => {
    const body = bodyWith((b) => {
      b.currency = 'KWD';
      b.items = Array.from({ length: 100 }, (_, i) => ({
        product_id: `p${i}`,
        quantity: 999,
        price: 9_999_999.999,
      }));
    });
    const { cart } = parseCheckoutRequest(body);
    const priced = priceCart(cart, new Map(cart.items.map((i) => [i.productId, 9_999_999_999])));
    expect('order' in priced && priced.order.totalCents).toBe(100 * 999 * 9_999_999_999);
  });

  it('parses the seed body to its items and the prices the customer saw', () => {
    const { cart } = parseCheckoutRequest(validCheckoutBody());
    expect(cart.items).toEqual([
      { productId: 'prod_001', quantity: 2, priceSeenCents: 9990 },
      { productId: 'prod_002', quantity: 1, priceSeenCents: 14_990 },
    ]);
  });

  it('takes an item without a price: the catalog prices it', () => {
    const { cart } = parseCheckoutRequest(
      bodyWith((b) => {
        for (const i of b.items as Record<string, unknown>[]) delete i.price;
      }),
    );
    expect(cart.items).toEqual([
      { productId: 'prod_001', quantity: 2 },
      { productId: 'prod_002', quantity: 1 },
    ]);
  });

  it('defaults the currency to BRL', () => {
    expect(parseCheckoutRequest(validCheckoutBody()).cart.currency).toBe('BRL');
  });

  it('keeps a currency that was given', () => {
    expect(parseCheckoutRequest(bodyWith(top('currency', 'USD'))).cart.currency).toBe('USD');
  });

  it('treats the complement as optional', () => {
    const without = parseCheckoutRequest(validCheckoutBody()).cart;
    const withIt = parseCheckoutRequest(bodyWith(address('complement', 'Apto 42'))).cart;
    expect(without.shippingAddress).not.toHaveProperty('complement');
    expect(withIt.shippingAddress.complement).toBe('Apto 42');
  });

  it('trims the blanks around text fields', () => {
    const { cart: order } = parseCheckoutRequest(bodyWith(address('street', '  Rua das Flores  ')));
    expect(order.shippingAddress.street).toBe('Rua das Flores');
  });

  it('keeps only the card brand and last four digits in the order', () => {
    const { cart: order } = parseCheckoutRequest(validCheckoutBody());
    expect(order.card).toEqual({ brand: 'visa', last4: '1111' });
  });

  it('leaves the card number and CVV out of the order entirely', () => {
    const { cart: order } = parseCheckoutRequest(validCheckoutBody());
    const text = JSON.stringify(order);
    expect(text).not.toContain('4111111111111111');
    expect(text).not.toContain('987');
    expect(text).not.toMatch(/card_number|cardNumber|cvv/i);
  });

  it('hands the full card to the payment step only, through the separate card object', () => {
    const { secrets } = parseCheckoutRequest(validCheckoutBody());
    expect(secrets.instrument).toEqual({
      type: 'credit_card',
      cardNumber: '4111111111111111',
      cardExpiry: '12/30',
      cardCvv: '987',
    });
  });
});
