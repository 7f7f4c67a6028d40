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
