/**
 * The data layer's one small, driver-neutral interface. SQL is written once with named
 * parameters (`:name`); each driver translates them. Values are plain strings, numbers,
 * booleans or null: cast in SQL (`:items::jsonb`, `:total::numeric`) so every driver,
 * including the Data API, sends the same text.
 */
export type SqlValue = string | number | boolean | null;
export type SqlParams = Record<string, SqlValue | undefined>;
export type Row = Record<string, unknown>;

export interface Queryable {
  query<T extends Row = Row>(sql: string, params?: SqlParams): Promise<T[]>;
}

export interface Database extends Queryable {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
