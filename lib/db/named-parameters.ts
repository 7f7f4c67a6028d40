import type { SqlParams, SqlValue } from './database.ts';

/** `:name` but not the `::type` cast operator. */
const NAMED = /(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * What each statement's text becomes, computed once per text: the statements are the code's
 * own constants, and rewriting them on every call cost more than anything else in the data
 * layer. Bounded, in case some code builds its SQL: a full cache starts over.
 */
function memoized<T>(compute: (sql: string) => T): (sql: string) => T {
  const cache = new Map<string, T>();
  return (sql) => {
    let value = cache.get(sql);
    if (value === undefined) {
      value = compute(sql);
      if (cache.size >= 512) cache.clear();
      cache.set(sql, value);
    }
    return value;
  };
}

/** The positional text of a statement and the names its `$1, $2…` stand for, in order. */
const positionalPlan = memoized((sql) => {
  const names: string[] = [];
  const text = sql.replace(NAMED, (_match, name: string) => {
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, names };
});

/**
 * Rewrites `:name` placeholders to the positional `$1, $2…` of the PostgreSQL wire protocol,
 * reusing one position per name. Shared by the `postgres` and `pglite` drivers.
 */
export function toPositional(
  sql: string,
  params: SqlParams = {},
): { text: string; values: SqlValue[] } {
  const { text, names } = positionalPlan(sql);
  const values = names.map((name) => {
    if (!(name in params)) throw new Error(`missing SQL parameter :${name}`);
    return params[name] ?? null;
  });
  return { text, values };
}

/** `:name` optionally followed by a `::type` cast, e.g. `:total::numeric`. */
const NAMED_WITH_CAST = new RegExp(`${NAMED.source}(?:::([A-Za-z_][A-Za-z0-9_]*))?`, 'g');

/**
 * The parameters a statement uses, in order of first use, each with the SQL type it is cast to
 * right after its placeholder (lower-cased), if any: `:id::uuid` → `id` → `uuid`. The Data API
 * binds parameters by name and needs a type hint where the cast says what a string really is.
 * The map is shared between calls with the same text: read it, never change it.
 */
export const parameterCasts: (sql: string) => ReadonlyMap<string, string | undefined> = memoized(
  (sql) => {
    const casts = new Map<string, string | undefined>();
    for (const [, name = '', cast] of sql.matchAll(NAMED_WITH_CAST)) {
      // A name used twice keeps the first cast written for it, wherever that appears.
      if (!casts.get(name)) casts.set(name, cast?.toLowerCase());
    }
    return casts;
  },
);
