import fc from 'fast-check';
import { RawJson } from './json-text.ts';
import { FUZZ_CARD } from './seed-body.ts';

/** Numbers at the edges of the rules: signs, zero, the caps, sub-cent amounts, extreme doubles. */
const specialNumbers = fc.constantFrom(
  0,
  -0,
  1,
  -1,
  2,
  999,
  1000,
  0.01,
  0.1,
  0.005,
  19.999,
  99.9,
  99_999.99,
  100_000,
  1e308,
  -1e308,
  5e-324,
  2 ** 53,
  2 ** 53 + 2,
  1.5,
  Number.MAX_VALUE,
);

/** Number spellings (and non-numbers) only raw JSON text can hold. */
const numberLiterals = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '-0',
    '-0.0',
    '1E2',
    '1e-400',
    '0.1e1',
    '99.90',
    '1.0',
    '2.00000000000000001',
    '0.30000000000000004',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '01',
    '.5',
    '5.',
    '+1',
    '1_000',
  )
  .map((text) => new RawJson(text));

/** Strings that break parsers, databases or templates, and near-misses of each field's format. */
const specialStrings = fc.constantFrom(
  '',
  ' ',
  '\t\n',
  'NaN',
  'Infinity',
  '-0',
  '1e308',
  '0x10',
  'null',
  'true',
  'undefined',
  '[]',
  '{}',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\u200b',
  '\u202eRTL',
  '\ufeffBOM',
  '💳💳',
  'Ünïcødé São Paulo',
  'ﷺ',
  "' OR 1=1 --",
  "'); drop table checkouts; --",
  '<script>alert(1)</script>',
  '%00',
  '../../etc/passwd',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, not a template
  '${jndi:ldap://x/a}',
  "{{jsonPath request.body '$'}}",
  '\\',
  '"',
  'customer@example.com',
  'a@b.co',
  'a@b',
  'a@@b.com',
  '12/30',
  '01/99',
  '00/30',
  '13/30',
  '12/2030',
  FUZZ_CARD,
  '4556 7375 8689 9855',
  '4111111111111111',
  '123',
  '1234',
  '12345',
  'credit_card',
  'debit_card',
  'CREDIT_CARD',
  'BRL',
  'USD',
  'brl',
  'BRLX',
);

/** Long strings around the length caps and past the 64 KiB body limit. */
const hugeStrings = fc
  .record({
    length: fc.integer({ min: 20, max: 70_000 }),
    unit: fc.constantFrom('x', 'é', '😀', ' ', '9'),
  })
  .map(({ length, unit }) => unit.repeat(length));

/** Deeply nested arrays or objects, as raw text (JSON.stringify itself would overflow). */
const deepNesting = fc
  .record({ depth: fc.integer({ min: 1, max: 32_000 }), kind: fc.constantFrom('array', 'object') })
  .map(({ depth, kind }) =>
    kind === 'array'
      ? new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`)
      : new RawJson(`${'{"a":'.repeat(Math.ceil(depth / 3))}1${'}'.repeat(Math.ceil(depth / 3))}`),
  );

/** Values that fit some field, so a replacement is sometimes valid by accident. */
const plausibleValues = fc.oneof(
  fc.integer({ min: 1, max: 999 }),
  fc.integer({ min: 1, max: 9_999_999 }).map((cents) => cents / 100),
  fc.emailAddress().filter((e) => e.length < 60),
  fc.string({ minLength: 1, maxLength: 30 }),
);

/**
 * What a field may be replaced with: any JSON, edge-case numbers and number spellings, strings
 * of any code points (NUL and lone surrogates included), huge strings and deep nesting.
 */
export const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }),
  specialNumbers,
  numberLiterals,
  specialStrings,
  plausibleValues,
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
  fc.integer(),
  hugeStrings,
  deepNesting,
);
