import type { SqlParams, SqlValue } from './database.ts';

/** `:name` but not the `::type` cast operator. */
const NAMED = /(?<!:):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Rewrites `:name` placeholders to the positional `$1, $2…` of the PostgreSQL wire protocol,
 * reusing one position per name. Shared by the `postgres` and `pglite` drivers.
 */
export function toPositional(
  sql: string,
  params: SqlParams = {},
): { text: string; values: SqlValue[] } {
  const positions = new Map<string, number>();
  const values: SqlValue[] = [];
  const text = sql.replace(NAMED, (_match, name: string) => {
    let position = positions.get(name);
    if (position === undefined) {
      if (!(name in params)) throw new Error(`missing SQL parameter :${name}`);
      values.push(params[name] ?? null);
      position = values.length;
      positions.set(name, position);
    }
    return `$${position}`;
  });
  return { text, values };
}

/** `:name` optionally followed by a `::type` cast, e.g. `:total::numeric`. */
const NAMED_WITH_CAST = new RegExp(`${NAMED.source}(?:::([A-Za-z_][A-Za-z0-9_]*))?`, 'g');

/**
 * The parameters a statement uses, in order of first use, each with the SQL type it is cast to
 * right after its placeholder (lower-cased), if any: `:id::uuid` → `id` → `uuid`. The Data API
 * binds parameters by name and needs a type hint where the cast says what a string really is.
 */
export function parameterCasts(sql: string): Map<string, string | undefined> {
  const casts = new Map<string, string | undefined>();
  for (const [, name = '', cast] of sql.matchAll(NAMED_WITH_CAST)) {
    // A name used twice keeps the first cast written for it, wherever that appears.
    if (!casts.get(name)) casts.set(name, cast?.toLowerCase());
  }
  return casts;
}
