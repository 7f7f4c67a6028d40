import fc from 'fast-check';
import { isLuhnValid } from '#lib/checkout/card.ts';
import type { FuzzCase } from './fuzz-case.ts';
import { serialize } from './json-text.ts';
import { PLACEHOLDER } from './markers.ts';
import { applyMutation, mutation, type Path } from './mutations.ts';
import { SEED_TEXT, seedBody } from './seed-body.ts';

/** JSON media types, in any case and with or without parameters, as RFC 9110 allows. */
const jsonContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'application/json; charset=utf-8',
    'application/vnd.checkout+json',
    'Application/JSON',
    'application/json;',
  ),
);

/** A Luhn-valid card number of 12–19 digits, with the prefixes of several brands. */
const cardNumber = fc
  .record({
    prefix: fc.constantFrom('4', '51', '55', '2221', '2720', '34', '37', '6011', '65', '9'),
    length: fc.integer({ min: 12, max: 19 }),
    digits: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 19, maxLength: 19 }),
  })
  .map(({ prefix, length, digits }) => {
    const body = (prefix + digits.join('')).slice(0, length - 1);
    for (let check = 0; check <= 9; check++) {
      const candidate = `${body}${check}`;
      if (isLuhnValid(candidate)) return candidate;
    }
    return body;
  });

/**
 * Text for a free-form field: printable Unicode, any code point at all, or printable text with
 * a control character or a lone surrogate in it (NUL and lone surrogates once got past the
 * schema, and PostgreSQL stores neither).
 */
const freeText = (maxLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength }) },
    fc.string({ minLength: 1, maxLength }),
    fc.string({ unit: 'binary', minLength: 1, maxLength }),
    fc
      .record({
        text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: maxLength - 1 }),
        at: fc.nat(),
        odd: fc.constantFrom('\u0000', '\u001f', '\u007f', '\u0085', '\ud800', '\udfff'),
      })
      .map(({ text, at, odd }) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + odd + text.slice(i);
      }),
  );

/** Keeps the case's marker in a field while the rest of it varies. */
const marked = (text: fc.Arbitrary<string>, max: number) =>
  text.map((t) => `${t.slice(0, max - PLACEHOLDER.length - 1)} ${PLACEHOLDER}`);

type Change = (body: Record<string, unknown>) => void;

/** Sets the field at `path` to a generated value. */
const setTo = (path: Path, value: fc.Arbitrary<unknown>): fc.Arbitrary<Change> =>
  value.map((v) => (body) => applyMutation(body, { op: 'replace', path, value: v }));

/** One field of the body set to another value that field accepts (mostly). */
const validVariation: fc.Arbitrary<Change> = fc.oneof(
  setTo(['shipping_address', 'street'], marked(freeText(200), 200)),
  setTo(['shipping_address', 'number'], freeText(20)),
  setTo(['shipping_address', 'complement'], freeText(100)),
  setTo(['shipping_address', 'city'], freeText(100)),
  setTo(['shipping_address', 'state'], freeText(50)),
  setTo(['shipping_address', 'zip_code'], freeText(20)),
  setTo(
    ['customer_email'],
    fc.emailAddress().map((e) => e.replace(/@/, `+${PLACEHOLDER}@`)),
  ),
  setTo(
    ['items'],
    fc.array(
      fc.record({
        product_id: marked(freeText(64), 64),
        quantity: fc.integer({ min: 1, max: 999 }),
        price: fc.integer({ min: 1, max: 9_999_999 }).map((cents) => cents / 100),
      }),
      { minLength: 1, maxLength: 100, size: 'small' },
    ),
  ),
  setTo(['payment_method', 'card_number'], cardNumber),
  setTo(
    ['payment_method', 'card_expiry'],
    fc
      .record({ month: fc.integer({ min: 1, max: 12 }), year: fc.integer({ min: 27, max: 99 }) })
      .map(({ month, year }) => `${String(month).padStart(2, '0')}/${year}`),
  ),
  setTo(['payment_method', 'card_cvv'], fc.stringMatching(/^\d{3,4}$/)),
  setTo(['payment_method', 'type'], fc.constantFrom('credit_card', 'debit_card')),
  setTo(['currency'], fc.stringMatching(/^[A-Z]{3}$/)),
  fc.constantFrom<Path[]>(['currency'], ['shipping_address', 'complement']).map(
    (path): Change =>
      (body) =>
        applyMutation(body, { op: 'drop', path }),
  ),
);

/** (d) A valid body with 1–4 fields varied within their rules: exercises the whole saga. */
const validVariationCase = fc.record({
  generator: fc.constant('valid-variation'),
  text: fc.array(validVariation, { minLength: 1, maxLength: 4 }).map((changes) => {
    const body = seedBody();
    for (const change of changes) change(body);
    return serialize(body);
  }),
  contentType: jsonContentType,
});

/** (a) Arbitrary JSON values, and arbitrary JS values as JSON.stringify writes them. */
const jsonValueCase = fc.record({
  generator: fc.constant('json-value'),
  text: fc.oneof(
    fc.jsonValue().map((v) => serialize(v)),
    fc.anything().map((v) => serialize(v)),
    fc.json(),
  ),
  contentType: jsonContentType,
});

/** (b) 1–3 mutations of a valid, marked body. */
const mutationCase = fc.record({
  generator: fc.constant('mutation'),
  text: fc
    .array(mutation, { minLength: 1, maxLength: 3 })
    .map((ms) => serialize(ms.reduce(applyMutation, seedBody()))),
  contentType: jsonContentType,
});

/** Near-JSON a hand might write: each is an edit of the marked seed text. */
const nearJson = fc.constantFrom(
  SEED_TEXT.replace(/}$/, ',}'),
  SEED_TEXT.replace('{', '{ // comment\n'),
  SEED_TEXT.replaceAll('"', "'"),
  SEED_TEXT.replace('{', '{"customer_email":"first@example.com",'),
  SEED_TEXT.replace('{', '{"__proto__":{"polluted":"yes"},'),
  SEED_TEXT.replace('{', '{"constructor":{"prototype":{"polluted":"yes"}},'),
  `\ufeff${SEED_TEXT}`,
  ` \n\t${SEED_TEXT}\n `,
  `${SEED_TEXT}${SEED_TEXT}`,
  `[${SEED_TEXT}]`,
  SEED_TEXT.replace('99.9', 'NaN'),
  SEED_TEXT.replace('99.9', '9.99e1'),
  SEED_TEXT.replace('"quantity":2', '"quantity":2.0'),
  SEED_TEXT.replace('"quantity":2', '"quantity":"2"'),
  '',
  ' ',
  'null',
  '{}',
  '[]',
);

/** (c) Random text, random bytes, and corruptions of the marked seed text. */
const rawCase = fc.oneof(
  fc.record({
    generator: fc.constant('raw-text'),
    text: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'grapheme', maxLength: 100 }),
      nearJson,
      fc.nat({ max: SEED_TEXT.length }).map((i) => SEED_TEXT.slice(0, i)),
      fc
        .record({
          at: fc.nat({ max: SEED_TEXT.length }),
          cut: fc.integer({ min: 0, max: 8 }),
          insert: fc.string({ unit: 'binary', maxLength: 3 }),
        })
        .map(({ at, cut, insert }) => SEED_TEXT.slice(0, at) + insert + SEED_TEXT.slice(at + cut)),
    ),
    contentType: jsonContentType,
  }),
  fc.record({
    generator: fc.constant('raw-bytes'),
    text: fc.constant(''),
    bytes: fc.uint8Array({ maxLength: 300 }),
    contentType: jsonContentType,
  }),
  fc.record({
    generator: fc.constant('byte-flips'),
    text: fc.constant(SEED_TEXT),
    flips: fc.array(
      fc.record({ at: fc.nat({ max: SEED_TEXT.length }), byte: fc.integer({ min: 0, max: 255 }) }),
      { minLength: 1, maxLength: 3 },
    ),
    contentType: jsonContentType,
  }),
  fc.record({
    generator: fc.constant('not-json-media-type'),
    text: fc.constant(SEED_TEXT),
    contentType: fc.constantFrom(
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/xml',
      'json',
    ),
  }),
);

/** Values the downstream WireMocks react to with faults or delays: never sent by the fuzzer. */
const WIREMOCK_TRIGGERS = [
  'payment-error',
  'payment-timeout',
  'payment-reset',
  'order-error',
  'order-timeout',
  'order-reset',
  'refund-error',
  'prod_out_of_stock',
  'prod_inventory_error',
  'prod_inventory_timeout',
  'prod_inventory_reset',
  'prod_release_fails',
  '00000-000',
  '4000000000000002',
];

const hasTrigger = (text: string) => WIREMOCK_TRIGGERS.some((t) => text.includes(t));

/**
 * Every generator, weighted towards mutations of a valid body (the most likely to get past
 * validation). Bodies that would hit a WireMock fault trigger are never generated.
 */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .oneof(
    { weight: 2, arbitrary: jsonValueCase },
    { weight: 4, arbitrary: mutationCase },
    { weight: 3, arbitrary: rawCase },
    { weight: 1, arbitrary: validVariationCase },
  )
  .filter((c) => !hasTrigger(c.text));
