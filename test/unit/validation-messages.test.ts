import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkoutEventSchema } from '#dev/schemas/checkout-event-validator-source.ts';
import { fullBodies, schemaPaths } from '#dev/schemas/field-messages.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { toErrorResponse } from '#lib/http/error-response.ts';
import checkoutEventValidator from '#lib/http/generated/checkout-event-validator.js';

/**
 * Issue 25, point 5: a bad checkout body gets details a shop developer can act on, each saying
 * what the field expects, never a regular expression or "one of the allowed values"; and the
 * same details whichever validator answers: `@middy/validator` (Ajv over the JSON Schema
 * generated from the zod schema), which runs first, or zod in `parseCheckoutRequest`, which
 * catches what JSON Schema cannot say. Both are tried here on any value at any field.
 */

const validateEvent = checkoutEventValidator as unknown as ((event: unknown) => boolean) & {
  errors?: unknown[] | null;
};

/** The details zod gives, or `undefined` if it takes the body. */
function zodDetails(body: unknown): ErrorDetail[] | undefined {
  try {
    parseCheckoutRequest(body);
    return undefined;
  } catch (error) {
    if (error instanceof ValidationError) return error.details;
    throw error;
  }
}

/** The details the Middy validator's 400 carries, or `undefined` if the JSON Schema passes. */
function middyDetails(body: unknown): ErrorDetail[] | undefined {
  if (validateEvent({ body })) return undefined;
  const error = new Error('Event object failed validation', {
    cause: { package: '@middy/validator', data: validateEvent.errors },
  });
  return JSON.parse(toErrorResponse(error).response.body).details;
}

const sorted = (details: ErrorDetail[] | undefined) =>
  details?.map((d) => `${d.path}: ${d.message}`).sort();

/**
 * What a message must not look like: Ajv's and zod's own words (a regex, a JSON type, "allowed
 * values", "Invalid input"), none of which tells a shop what to send.
 */
const UNREADABLE =
  /Invalid input|must match|allowed values|equal to|must NOT have|must be (string|number|integer|object|array|boolean|null|[<>=])|tag "|oneOf|[\\^$]/;

/** A message says what its field expects, naming it, or is one of the two fixed words. */
function expectReadable({ path, message }: ErrorDetail) {
  expect(message, path).not.toMatch(UNREADABLE);
  if (message === 'required' || message === 'unknown field') return;
  const field = path.split('.').at(-1) ?? '';
  const named = /^\d+$/.test(field) ? 'an item' : field === '(body)' ? 'the body' : field;
  expect(message.includes(named) || message === 'the card has expired', `${path}: ${message}`).toBe(
    true,
  );
}

/** Every field of the body, as a path with `*` for an array index. */
const FIELDS = schemaPaths(
  (checkoutEventSchema().properties as { body: Parameters<typeof schemaPaths>[0] }).body,
);

/** `body` with `value` at `path` (`*`: the first item), or `undefined` if it has no such place. */
function withValue(body: Record<string, unknown>, path: string[], value: unknown) {
  let parent = body as Record<string, unknown>;
  for (const [index, segment] of path.entries()) {
    const key = segment === '*' ? '0' : segment;
    if (typeof parent !== 'object' || parent === null || !(key in parent)) return undefined;
    if (index === path.length - 1) parent[key] = value;
    else parent = parent[key] as Record<string, unknown>;
  }
  return body;
}

describe('the full bodies the messages are read with', () => {
  it.each(fullBodies())('are accepted by both validators (%#)', (body) => {
    expect(middyDetails(body)).toBeUndefined();
    expect(zodDetails(body)).toBeUndefined();
  });
});

describe('what a bad checkout body is told', () => {
  // biome-ignore format: one case a line reads as a table
  const cases: [string, string[], unknown, ErrorDetail][] = [
    ['card_expiry not MM/YY', ['payment_method', 'card_expiry'], '13/30', { path: 'payment_method.card_expiry', message: 'card_expiry must be MM/YY, e.g. 12/30' }],
    ['card_expiry with a 4-digit year', ['payment_method', 'card_expiry'], '12/2030', { path: 'payment_method.card_expiry', message: 'card_expiry must be MM/YY, e.g. 12/30' }],
    ['a lower-case currency', ['currency'], 'brl', { path: 'currency', message: 'currency must be a 3-letter ISO 4217 code such as BRL' }],
    ['a currency symbol', ['currency'], 'R$', { path: 'currency', message: 'currency must be a 3-letter ISO 4217 code such as BRL' }],
    ['an unknown payment type', ['payment_method', 'type'], 'paypal', { path: 'payment_method.type', message: 'type must be one of credit_card, debit_card, card_token, pix, boleto' }],
    ['a payment type that is not a string', ['payment_method', 'type'], 7, { path: 'payment_method.type', message: 'type must be one of credit_card, debit_card, card_token, pix, boleto' }],
    ['an email without a domain', ['customer_email'], 'customer@', { path: 'customer_email', message: 'customer_email must be an email address such as customer@example.com, at most 254 characters' }],
    ['an email of 255 characters', ['customer_email'], `${'a'.repeat(243)}@example.com`, { path: 'customer_email', message: 'customer_email must be an email address such as customer@example.com, at most 254 characters' }],
    ['a quantity of 1.5', ['items', '*', 'quantity'], 1.5, { path: 'items.0.quantity', message: 'quantity must be a whole number from 1 to 999' }],
    ['a quantity sent as a string', ['items', '*', 'quantity'], '2', { path: 'items.0.quantity', message: 'quantity must be a whole number from 1 to 999' }],
    ['13 installments', ['payment_method', 'installments'], 13, { path: 'payment_method.installments', message: 'installments must be a whole number from 1 to 12' }],
    ['a street of 201 characters', ['shipping_address', 'street'], 'a'.repeat(201), { path: 'shipping_address.street', message: 'street must be text of 1 to 200 characters, not blank' }],
    ['an empty zip code', ['shipping_address', 'zip_code'], '', { path: 'shipping_address.zip_code', message: 'zip_code must be text of 1 to 20 characters, not blank' }],
    ['a product id of 65 characters', ['items', '*', 'product_id'], 'p'.repeat(65), { path: 'items.0.product_id', message: 'product_id must be text of 1 to 64 characters, not blank' }],
    ['a customer document of 33 characters', ['customer_document'], '1'.repeat(33), { path: 'customer_document', message: 'customer_document must be a CPF (11 digits) or a CNPJ (14 characters), punctuation allowed, at most 32 characters' }],
    ['no items', ['items'], [], { path: 'items', message: 'items must be a list of 1 to 100 items' }],
    ['a payment method that is a string', ['payment_method'], 'card', { path: 'payment_method', message: 'payment_method must be an object whose type is one of credit_card, debit_card, card_token, pix, boleto' }],
    ['a missing payment type', ['payment_method', 'type'], undefined, { path: 'payment_method.type', message: 'required' }],
  ];

  it.each(cases)(
    '%s: the same detail from the Middy validator and from zod',
    (_, path, value, detail) => {
      const [raw] = fullBodies();
      const body = withValue(raw as Record<string, unknown>, path, value);
      expect(middyDetails(body)).toEqual([detail]);
      expect(zodDetails(body)).toEqual([detail]);
    },
  );

  // biome-ignore format: one case a line reads as a table
  const asyncCases: [string, number, string[], unknown, ErrorDetail][] = [
    ['a Pix expiring in 4 minutes', 2, ['payment_method', 'expires_in_minutes'], 4, { path: 'payment_method.expires_in_minutes', message: 'expires_in_minutes must be a whole number from 5 to 1440' }],
    ['a Pix expiring in 1441 minutes', 2, ['payment_method', 'expires_in_minutes'], 1441, { path: 'payment_method.expires_in_minutes', message: 'expires_in_minutes must be a whole number from 5 to 1440' }],
    ['a Pix expiring in "30" minutes', 2, ['payment_method', 'expires_in_minutes'], '30', { path: 'payment_method.expires_in_minutes', message: 'expires_in_minutes must be a whole number from 5 to 1440' }],
    ['a Pix with installments', 2, ['payment_method'], { type: 'pix', installments: 3 }, { path: 'payment_method.installments', message: 'unknown field' }],
    ['a boleto due in 0 days', 3, ['payment_method', 'due_in_days'], 0, { path: 'payment_method.due_in_days', message: 'due_in_days must be a whole number from 1 to 30' }],
    ['a boleto due in 1.5 days', 3, ['payment_method', 'due_in_days'], 1.5, { path: 'payment_method.due_in_days', message: 'due_in_days must be a whole number from 1 to 30' }],
    ['a blank neighborhood', 3, ['shipping_address', 'neighborhood'], ' ', { path: 'shipping_address.neighborhood', message: 'neighborhood must be text of 1 to 100 characters, not blank' }],
    ['a neighborhood of 101 characters', 3, ['shipping_address', 'neighborhood'], 'b'.repeat(101), { path: 'shipping_address.neighborhood', message: 'neighborhood must be text of 1 to 100 characters, not blank' }],
    ['an empty customer name', 3, ['customer_name'], '', { path: 'customer_name', message: 'customer_name must be text of 1 to 200 characters, not blank' }],
  ];

  it.each(asyncCases)(
    '%s: the same detail from the Middy validator and from zod',
    (_, which, path, value, detail) => {
      const body = withValue(fullBodies()[which] as Record<string, unknown>, path, value);
      // A blank text passes JSON Schema's minLength: only zod trims it.
      if (value !== ' ') expect(middyDetails(body)).toEqual([detail]);
      expect(zodDetails(body)).toEqual([detail]);
    },
  );

  it('an unknown type names the types there are, in both validators, and nothing else', () => {
    const [raw] = fullBodies();
    const body = withValue(raw as Record<string, unknown>, ['payment_method', 'type'], 'paypal');
    // Without the discriminator Ajv also listed every field of every member ("must match
    // exactly one schema in oneOf", `token` required, `card_number` unknown, …).
    expect(middyDetails(body)).toHaveLength(1);
  });

  it('a body that is not an object', () => {
    for (const body of ['text', 42, [], null]) {
      const detail = {
        path: '(body)',
        message:
          'the body must be a JSON object with payment_method, customer_email, shipping_address and items',
      };
      expect(middyDetails(body), JSON.stringify(body)).toEqual([detail]);
      expect(zodDetails(body), JSON.stringify(body)).toEqual([detail]);
    }
  });
});

describe('any value at any field', () => {
  const anyValue = fc.oneof(
    fc.jsonValue(),
    fc.string(),
    fc.constantFrom(
      '',
      ' ',
      'a'.repeat(300),
      '12/30',
      'BRL',
      'credit_card',
      'card_token',
      'pix',
      'boleto',
      0,
      -1,
      1e9,
    ),
  );
  const anyPlace = fc.tuple(fc.constantFrom(...fullBodies().keys()), fc.constantFrom(...FIELDS));

  it('gets readable messages naming what the field expects, from both validators', () => {
    fc.assert(
      fc.property(anyPlace, anyValue, ([which, path], value) => {
        const body = withValue(fullBodies()[which] as Record<string, unknown>, path, value);
        if (body === undefined) return;
        for (const detail of [...(middyDetails(body) ?? []), ...(zodDetails(body) ?? [])]) {
          expectReadable(detail);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('gets the same details from both validators whenever both refuse it', () => {
    fc.assert(
      fc.property(anyPlace, anyValue, ([which, path], value) => {
        const body = withValue(fullBodies()[which] as Record<string, unknown>, path, value);
        if (body === undefined) return;
        const middy = middyDetails(body);
        const zod = zodDetails(body);
        if (middy && zod) expect(sorted(middy)).toEqual(sorted(zod));
        // What the JSON Schema refuses, zod refuses too (it says more, never less).
        if (middy) expect(zod, JSON.stringify(middy)).toBeDefined();
      }),
      { numRuns: 2_000 },
    );
  });
});
