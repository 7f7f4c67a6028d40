import pg from 'pg';
import type { Database, Queryable, Row, SqlParams } from '#lib/db/database.ts';
import { toPositional } from '#lib/db/named-parameters.ts';
import { mapPostgresError } from '#lib/db/postgres-errors.ts';

export interface PostgresOptions {
  url: string;
  /** Pool size: 1–2 on Lambda (one request at a time), more for the local server. */
  maxConnections?: number;
  connectTimeoutMs?: number;
}

/**
 * Accepts the seed's SQLAlchemy URL (`postgresql+asyncpg://…`) as well as plain `postgres://`.
 */
export function normalizePostgresUrl(url: string): string {
  return url.replace(/^postgres(?:ql)?\+[a-z0-9]+:\/\//i, 'postgresql://');
}

/** The `postgres` driver: a `pg` pool against a PostgreSQL server. */
export function createPostgresDatabase(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: normalizePostgresUrl(options.url),
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 3_000,
    query_timeout: 15_000,
    keepAlive: true,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});

  const run = async <T extends Row>(
    client: pg.Pool | pg.PoolClient,
    sql: string,
    params?: SqlParams,
  ): Promise<T[]> => {
    const { text, values } = toPositional(sql, params);
    try {
      const result = await client.query<T>(text, values);
      return result.rows;
    } catch (error) {
      throw mapPostgresError(error);
    }
  };

  return {
    query: (sql, params) => run(pool, sql, params),
    async transaction(work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw mapPostgresError(error);
      }
      const tx: Queryable = { query: (sql, params) => run(client, sql, params) };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw mapPostgresError(error);
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}
