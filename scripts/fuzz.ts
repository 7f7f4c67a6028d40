/**
 * `npm run fuzz [-- runs]` (or `npx tsx scripts/fuzz.ts [runs]`, default 20 000): fuzzes the
 * body of `POST /checkout/process` of a running API (`npm start`; `API_URL`, default
 * http://127.0.0.1:8005) with fast-check and prints a summary. Checks every answer against
 * the zod schema as the oracle: never a 5xx (502/503 only for a valid body), always a JSON
 * object, an invalid body refused with 400 (413 over 64 KiB, 415 when not JSON), and (through
 * the WireMock journal, and the database when `DATABASE_URL` is set) no downstream call and
 * no row for an invalid body. `FUZZ_SEED` replays a run.
 *
 * The generators and the oracle are exported: `test/integration/fuzz.test.ts` runs the same
 * fuzzer through the real handlers on every `npm test`.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { isLuhnValid } from '#lib/checkout/card.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';

/** Same length and alphabet as a marker, replaced by the case's own marker when sent. */
export const PLACEHOLDER = 'fzplaceholder00000';

/** A Luhn-valid card number used nowhere else, so an answer that echoes it is caught. */
export const FUZZ_CARD = '4556737586899855';

/** Each run's markers share a prefix: one journal or database query finds them all. */
export function newRunId(): string {
  return `fz${randomBytes(5).toString('hex')}`;
}

/** The marker of the `n`-th case of a run: `PLACEHOLDER`'s length, never a prefix of another. */
export function caseMarker(runId: string, n: number): string {
  return `${runId}${n.toString(36).padStart(6, '0')}`;
}

/** Every case marker of `runId` found in `text`. */
export function markersIn(text: string, runId: string): string[] {
  return text.match(new RegExp(`${runId}[0-9a-z]{6}`, 'g')) ?? [];
}

/** A piece of JSON text put into a body as is: number literals JSON.stringify cannot write. */
class RawJson {
  constructor(readonly text: string) {}
}

/** JSON text of a generated body, with `RawJson` pieces spliced in verbatim. */
function serialize(value: unknown): string {
  const raws: string[] = [];
  const text =
    JSON.stringify(value, (_key, v: unknown) =>
      v instanceof RawJson ? `\u0000raw${raws.push(v.text) - 1}\u0000` : v,
    ) ?? 'null';
  return text.replace(/"\\u0000raw(\d+)\\u0000"/g, (_, i: string) => raws[Number(i)] ?? '');
}

/** The valid body every mutation starts from; the placeholder marks email, street and items. */
export function seedBody(): Record<string, unknown> {
  return {
    payment_method: {
      type: 'credit_card',
      card_number: FUZZ_CARD,
      card_expiry: '12/30',
      card_cvv: '123',
    },
    customer_email: `fuzz+${PLACEHOLDER}@example.com`,
    shipping_address: {
      street: `Rua ${PLACEHOLDER}`,
      number: '123',
      complement: 'Apto 1',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: [
      { product_id: `prod_a_${PLACEHOLDER}`, quantity: 2, price: 99.9 },
      { product_id: `prod_b_${PLACEHOLDER}`, quantity: 1, price: 149.9 },
    ],
    currency: 'BRL',
  };
}

type Path = (string | number)[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) {
    return value.flatMap((v, i) => [[...prefix, i], ...pathsOf(v, [...prefix, i])]);
  }
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => [
      [...prefix, k],
      ...pathsOf(v, [...prefix, k]),
    ]);
  }
  return [];
}

const SEED_PATHS = pathsOf(seedBody());
/** Where an unknown field can be added: the body and each object in it. */
const OBJECT_PATHS: Path[] = [
  [],
  ...SEED_PATHS.filter((p) => {
    const node = nodeAt(seedBody(), p);
    return node !== undefined && !Array.isArray(node);
  }),
];

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

type Mutation =
  | { op: 'drop'; path: Path }
  | { op: 'replace'; path: Path; value: unknown }
  | { op: 'add'; path: Path; key: string; value: unknown }
  | { op: 'wrap'; path: Path; how: 'array' | 'object' | 'string' }
  | { op: 'repeat-items'; count: number };

const unknownKeys = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    '',
    ' ',
    'card_number',
    'items',
    'Customer_Email',
    'customer_email ',
    'idempotency_key',
    'status',
    'checkout_id',
    'total_amount',
  ),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('drop' as const), path: fc.constantFrom(...SEED_PATHS) }),
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('replace' as const),
      path: fc.constantFrom(...SEED_PATHS),
      value: fuzzValue,
    }),
  },
  fc.record({
    op: fc.constant('add' as const),
    path: fc.constantFrom(...OBJECT_PATHS),
    key: unknownKeys,
    value: fuzzValue,
  }),
  fc.record({
    op: fc.constant('wrap' as const),
    path: fc.constantFrom(...SEED_PATHS),
    how: fc.constantFrom('array' as const, 'object' as const, 'string' as const),
  }),
  fc.record({ op: fc.constant('repeat-items' as const), count: fc.integer({ min: 0, max: 120 }) }),
);

type Node = Record<string | number, unknown>;

/** The object or array at `path`, if there is one. */
function nodeAt(root: unknown, path: Path): Node | undefined {
  let node: unknown = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Node)[key];
  }
  return node !== null && typeof node === 'object' ? (node as Node) : undefined;
}

/** Sets an own, enumerable property, even one called `__proto__`. */
function define(target: object, key: string | number, value: unknown) {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function applyMutation(body: Record<string, unknown>, m: Mutation): Record<string, unknown> {
  if (m.op === 'repeat-items') {
    const first = Array.isArray(body.items) ? body.items[0] : undefined;
    if (first !== undefined) body.items = Array.from({ length: m.count }, () => first);
    return body;
  }
  if (m.op === 'add') {
    const target = nodeAt(body, m.path);
    if (target && !Array.isArray(target)) define(target, m.key, m.value);
    return body;
  }
  const parent = nodeAt(body, m.path.slice(0, -1));
  const key = m.path.at(-1);
  if (!parent || key === undefined || !Object.hasOwn(parent, key)) return body;
  if (m.op === 'drop') {
    if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
    else delete parent[key];
  } else if (m.op === 'replace') {
    define(parent, key, m.value);
  } else {
    const old = parent[key];
    const wrapped =
      m.how === 'array' ? [old] : m.how === 'object' ? { value: old } : serialize(old);
    define(parent, key, wrapped);
  }
  return body;
}

/** One generated request: its body (with `PLACEHOLDER`s) and content type. */
export interface FuzzCase {
  /** Which generator made it, for the summary. */
  generator: string;
  text: string;
  /** Bytes sent instead of `text`'s UTF-8 (possibly invalid UTF-8). */
  bytes?: Uint8Array;
  /** Single bytes overwritten in `text`'s UTF-8 after the marker is put in. */
  flips?: { at: number; byte: number }[];
  contentType: string;
}

/** JSON media types, as the API documents and the gateway and Middy both accept them. */
const jsonContentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  fc.constantFrom('application/json; charset=utf-8', 'application/vnd.checkout+json'),
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

/** Text for a free-form field: printable Unicode, or any code point at all. */
const freeText = (maxLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength }) },
    fc.string({ minLength: 1, maxLength }),
    fc.string({ unit: 'binary', minLength: 1, maxLength }),
  );

/** Keeps the case's marker in a field while the rest of it varies. */
const marked = (text: fc.Arbitrary<string>, max: number) =>
  text.map((t) => `${t.slice(0, max - PLACEHOLDER.length - 1)} ${PLACEHOLDER}`);

type Change = (body: Record<string, unknown>) => void;

/** Sets the field at `path` to a generated value. */
const setTo = (path: Path, value: fc.Arbitrary<unknown>): fc.Arbitrary<Change> =>
  value.map((v) => (body) => setPath(body, path, v));

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

function setPath(body: Record<string, unknown>, path: Path, value: unknown) {
  applyMutation(body, { op: 'replace', path, value });
}

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

const SEED_TEXT = serialize(seedBody());

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

/**
 * Bodies stay under 1 Mi characters: far past the API's 64 KiB limit, but clear of the local
 * gateway's 10 MB one. Its early 413 (`readBody` in dev/local/local-gateway.ts) abandons the
 * request stream, which destroys the socket while the client may reuse it: other requests of
 * the same client then fail with ECONNRESET.
 */
const MAX_TEXT_LENGTH = 2 ** 20;

/**
 * Every generator, weighted towards mutations of a valid body (the most likely to get past
 * validation). Bodies that would hit a WireMock fault trigger are never generated.
 */
export const anyFuzzCase: fc.Arbitrary<FuzzCase> = fc
  .oneof(
    { weight: 2, arbitrary: jsonValueCase },
    { weight: 4, arbitrary: mutationCase },
    { weight: 3, arbitrary: rawCase },
    { weight: 1, arbitrary: validVariationCase },
  )
  .filter((c) => c.text.length <= MAX_TEXT_LENGTH && !hasTrigger(c.text));

/** Every generator, without the inputs of the known bugs (`knownBug`). */
export const fuzzCase: fc.Arbitrary<FuzzCase> = anyFuzzCase.filter((c) => {
  const { serverText } = renderCase(c, PLACEHOLDER);
  return knownBug(serverText, c.contentType) === undefined;
});

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function someString(value: unknown, test: (s: string) => boolean): boolean {
  if (typeof value === 'string') return test(value);
  if (value && typeof value === 'object') {
    return Object.values(value).some((v) => someString(v, test));
  }
  return false;
}

/**
 * The known bug an input hits, if any (each has an `it.fails` test in
 * test/integration/fuzz.test.ts): a valid body holding a NUL character or a lone surrogate in
 * a string gets a 500, as PostgreSQL stores neither in `text` nor in `jsonb`.
 */
export function knownBug(serverText: string, contentType: string): string | undefined {
  if (!expectation(serverText, contentType).valid) return undefined;
  const body: unknown = JSON.parse(serverText);
  if (someString(body, (s) => s.includes('\u0000'))) return 'NUL character in a valid body → 500';
  if (someString(body, (s) => LONE_SURROGATE.test(s)))
    return 'lone surrogate in a valid body → 500';
  return undefined;
}

/** What is sent for a case with the marker put in, and the text the handler will see. */
export function renderCase(
  c: FuzzCase,
  marker: string,
): { body: string | Uint8Array; serverText: string; marked: boolean } {
  if (c.bytes) {
    return { body: c.bytes, serverText: Buffer.from(c.bytes).toString('utf8'), marked: false };
  }
  const text = c.text.replaceAll(PLACEHOLDER, marker);
  const bytes = Buffer.from(text, 'utf8');
  if (c.flips) {
    // A flip never lands in a marker: it could turn one case's marker into another's.
    const inMarker = new Uint8Array(bytes.length);
    for (let i = bytes.indexOf(marker); i >= 0; i = bytes.indexOf(marker, i + 1)) {
      inMarker.fill(1, i, i + marker.length);
    }
    for (const { at, byte } of c.flips) {
      const i = at % Math.max(1, bytes.length);
      if (!inMarker[i]) bytes[i] = byte;
    }
  }
  const serverText = bytes.toString('utf8');
  return {
    body: c.flips ? new Uint8Array(bytes) : text,
    serverText,
    marked: serverText.includes(marker),
  };
}

/** What the API must answer, decided by the zod schema the handler validates with. */
export type Expectation =
  | { valid: false; status: 400 | 413 | 415; why: string }
  | { valid: true; why: 'valid' };

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json(?:;.+)?$/;

export function expectation(serverText: string, contentType: string): Expectation {
  if (!JSON_MEDIA_TYPE.test(contentType)) return { valid: false, status: 415, why: 'media type' };
  if (Buffer.byteLength(serverText, 'utf8') > 64 * 1024) {
    return { valid: false, status: 413, why: 'too large' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(serverText);
  } catch {
    return { valid: false, status: 400, why: 'malformed JSON' };
  }
  try {
    parseCheckoutRequest(parsed); // every rule, the currency's decimals included
    return { valid: true, why: 'valid' };
  } catch {
    return { valid: false, status: 400, why: 'schema' };
  }
}

/** Answers a valid body may get: done, refused, or (a downstream fault) unavailable/incomplete. */
const VALID_ANSWERS = [200, 422, 502, 503];

/** Everything wrong with an answer, or nothing. */
export function problemsWith(expected: Expectation, status: number, text: string): string[] {
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    problems.push(`the answer is not a JSON object: ${text.slice(0, 200)}`);
  }
  if (expected.valid) {
    if (!VALID_ANSWERS.includes(status)) problems.push(`a valid body got ${status}`);
  } else if (status !== expected.status) {
    problems.push(`an invalid body (${expected.why}) got ${status}, not ${expected.status}`);
  }
  if (status >= 500 && !(expected.valid && (status === 502 || status === 503))) {
    problems.push(`a ${status}: ${text.slice(0, 200)}`);
  }
  if (text.includes(FUZZ_CARD)) problems.push('the answer contains the card number');
  if (/\n\s+at .+:\d+:\d+/.test(text)) problems.push('the answer contains a stack trace');
  return problems;
}

/** One fuzzed request and what came of it. */
export interface FuzzResult {
  generator: string;
  marker: string;
  marked: boolean;
  expected: Expectation;
  status: number;
  problems: string[];
  /** Set when the input hits a known bug (its problems are expected until it is fixed). */
  knownBug?: string;
  /** Set when a send got no answer (and was retried once). */
  networkError?: string;
}

/** Sends a body to `POST /checkout/process` and reads the answer. */
export type PostCheckout = (
  body: string | Uint8Array,
  contentType: string,
) => Promise<{ status: number; text: string }>;

/** A `PostCheckout` against the API at `baseUrl`. */
export function postTo(baseUrl: string): PostCheckout {
  return async (body, contentType) => {
    const res = await fetch(`${baseUrl}/checkout/process`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, text: await res.text() };
  };
}

/** An error and its causes, e.g. `fetch failed ← other side closed (UND_ERR_SOCKET)`. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const { message, code } = e as { message?: string; code?: string };
    parts.push(code ? `${message} (${code})` : String(message ?? e));
  }
  return parts.join(' ← ');
}

/** Sends one case and checks the answer. */
export async function sendCase(
  post: PostCheckout,
  c: FuzzCase,
  marker: string,
): Promise<FuzzResult> {
  const { body, serverText, marked } = renderCase(c, marker);
  const expected = expectation(serverText, c.contentType);
  let status = 0;
  let problems: string[] = [];
  let networkError: string | undefined;
  // A request that got no answer at all is sent once more: under load a pooled keep-alive
  // connection can be closed by the server just as it is reused. An input that really breaks
  // the connection breaks it again and is reported; the retry is counted in the summary.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const answer = await post(body, c.contentType);
      status = answer.status;
      problems = problemsWith(expected, status, answer.text);
      break;
    } catch (error) {
      networkError = describeError(error);
      problems = [`the request failed twice: ${networkError}`];
    }
  }
  const bug = knownBug(serverText, c.contentType);
  return {
    generator: c.generator,
    marker,
    marked,
    expected,
    status,
    problems,
    ...(bug ? { knownBug: bug } : {}),
    ...(networkError ? { networkError } : {}),
  };
}

/**
 * Side effects of invalid cases: markers of invalid bodies found in rows or downstream
 * requests (must be none), and marked valid, completed cases missing from either (must be none
 * too, or the check would prove nothing).
 */
export function sideEffectProblems(
  results: FuzzResult[],
  markersInRows: Set<string>,
  markersSentDownstream: Set<string>,
  options: { checkRows: boolean },
): string[] {
  const problems: string[] = [];
  for (const r of results) {
    if (!r.marked) continue;
    if (!r.expected.valid) {
      if (options.checkRows && markersInRows.has(r.marker)) {
        problems.push(`invalid case ${r.marker} (${r.expected.why}) wrote a row`);
      }
      if (markersSentDownstream.has(r.marker)) {
        problems.push(`invalid case ${r.marker} (${r.expected.why}) called a service`);
      }
    } else if (r.status === 200) {
      if (options.checkRows && !markersInRows.has(r.marker)) {
        problems.push(`completed case ${r.marker} has no row`);
      }
      if (!markersSentDownstream.has(r.marker)) {
        problems.push(`completed case ${r.marker} called no service`);
      }
    }
  }
  return problems;
}

/** Counts by generator and by answer, for the summary. */
export function summarize(results: FuzzResult[]) {
  const count = (key: (r: FuzzResult) => string) =>
    results.reduce<Record<string, number>>((acc, r) => {
      acc[key(r)] = (acc[key(r)] ?? 0) + 1;
      return acc;
    }, {});
  return {
    cases: results.length,
    byGenerator: count((r) => r.generator),
    byExpectation: count((r) => r.expected.why),
    byStatus: count((r) => String(r.status)),
    marked: results.filter((r) => r.marked).length,
    networkErrors: results.flatMap((r) => (r.networkError ? [r.networkError] : [])),
    failing: results.filter((r) => r.problems.length > 0).length,
  };
}

const SERVICE_URLS = {
  payment: process.env.PAYMENT_SERVICE_URL ?? 'http://127.0.0.1:8081',
  inventory: process.env.INVENTORY_SERVICE_URL ?? 'http://127.0.0.1:8082',
  order: process.env.ORDER_SERVICE_URL ?? 'http://127.0.0.1:8083',
};

/** Markers of `runId` in the bodies a WireMock received (its request journal). */
export async function markersInJournal(wiremockUrl: string, runId: string): Promise<string[]> {
  const res = await fetch(`${wiremockUrl}/__admin/requests/find`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'ANY', urlPattern: '.*', bodyPatterns: [{ contains: runId }] }),
  });
  if (!res.ok) throw new Error(`WireMock journal query at ${wiremockUrl} failed: ${res.status}`);
  const { requests } = (await res.json()) as { requests: { body: string }[] };
  return requests.flatMap((r) => markersIn(r.body, runId));
}

/** The SQL condition and parameter that find every row of a run. */
export const ROWS_OF_RUN =
  'customer_email like :m or shipping_address::text like :m or items::text like :m';

async function main() {
  const runs = Number(process.argv[2] ?? 20_000);
  const baseUrl = (process.env.API_URL ?? 'http://127.0.0.1:8005').replace(/\/$/, '');
  const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 8);
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ 0;
  if (!Number.isInteger(runs) || runs < 1) {
    console.error('usage: npx tsx scripts/fuzz.ts [runs]');
    process.exit(2);
  }
  const health = await fetch(`${baseUrl}/health`).catch(() => undefined);
  if (!health) {
    console.error(`No API at ${baseUrl}: start it with \`npm start\` (or set API_URL).`);
    process.exit(2);
  }

  const runId = newRunId();
  const cases = fc.sample(anyFuzzCase, { numRuns: runs, seed });
  const results: FuzzResult[] = [];
  const started = Date.now();
  const post = postTo(baseUrl);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const n = next++;
      results[n] = await sendCase(post, cases[n] as FuzzCase, caseMarker(runId, n));
      if ((n + 1) % 1000 === 0) process.stderr.write(`${n + 1}/${runs}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;

  const downstream = new Set<string>();
  for (const url of Object.values(SERVICE_URLS)) {
    for (const m of await markersInJournal(url, runId).catch((error: Error) => {
      console.error(`(skipping the journal check: ${error.message})`);
      return [];
    })) {
      downstream.add(m);
    }
  }
  const rows = new Set<string>();
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const { createPostgresDatabase } = await import('#lib/db/drivers/postgres.ts');
    const db = createPostgresDatabase({ url: databaseUrl, maxConnections: 1 });
    try {
      const found = await db.query(
        `select customer_email || shipping_address::text || items::text as t
         from checkouts where ${ROWS_OF_RUN}`,
        { m: `%${runId}%` },
      );
      for (const row of found) for (const m of markersIn(String(row.t), runId)) rows.add(m);
    } finally {
      await db.close();
    }
  }

  const knownBugs: Record<string, number> = {};
  for (const r of results) {
    if (r.knownBug && r.problems.length > 0)
      knownBugs[r.knownBug] = (knownBugs[r.knownBug] ?? 0) + 1;
  }
  const problems = [
    ...results
      .filter((r) => !r.knownBug)
      .flatMap((r) => r.problems.map((p) => `${r.marker} [${r.generator}] ${p}`)),
    ...sideEffectProblems(results, rows, downstream, { checkRows: Boolean(databaseUrl) }),
  ];
  console.log(
    JSON.stringify(
      {
        baseUrl,
        seed,
        runId,
        seconds,
        requestsPerSecond: Math.round(results.length / seconds),
        ...summarize(results),
        rowsChecked: Boolean(databaseUrl),
        knownBugs,
        problems: problems.length,
      },
      null,
      2,
    ),
  );
  for (const p of problems.slice(0, 50)) console.log(`  - ${p}`);
  if (problems.length > 0) {
    const first = results.find((r) => r.problems.length > 0 && !r.knownBug);
    if (first) {
      const c = cases[results.indexOf(first)] as FuzzCase;
      console.log('first failing case:', JSON.stringify({ ...c, bytes: c.bytes && [...c.bytes] }));
    }
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main();
}
