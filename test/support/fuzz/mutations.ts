import fc from 'fast-check';
import { serialize } from './json-text.ts';
import { seedBody } from './seed-body.ts';
import { fuzzValue } from './values.ts';

/** Where a value sits in a body: keys and array indexes from the root. */
export type Path = (string | number)[];

type Node = Record<string | number, unknown>;

/** A change to a body: a field dropped, replaced or added, wrapped, or the items repeated. */
export type Mutation =
  | { op: 'drop'; path: Path }
  | { op: 'replace'; path: Path; value: unknown }
  | { op: 'add'; path: Path; key: string; value: unknown }
  | { op: 'wrap'; path: Path; how: 'array' | 'object' | 'string' }
  | { op: 'repeat-items'; count: number };

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

/** Applies `m` to `body` in place (a path that is not there leaves it as it was). */
export function applyMutation(body: Record<string, unknown>, m: Mutation): Record<string, unknown> {
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

const SEED_PATHS = pathsOf(seedBody());
/** Where an unknown field can be added: the body and each object in it. */
const OBJECT_PATHS: Path[] = [
  [],
  ...SEED_PATHS.filter((p) => {
    const node = nodeAt(seedBody(), p);
    return node !== undefined && !Array.isArray(node);
  }),
];

/** Fields the schema does not know: prototype keys, near-misses of real ones, answer fields. */
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

/** One mutation of the seed body, mostly a field replaced with a fuzzed value. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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
