import type { PGlite } from '@electric-sql/pglite';
import type { Database, Row, SqlParams } from '#lib/db/database.ts';
import { toPositional } from '#lib/db/named-parameters.ts';
import { mapPostgresError } from '#lib/db/postgres-errors.ts';

type Client = Pick<PGlite, 'query'>;

/**
 * The `pglite` driver: embedded PostgreSQL compiled to WASM, in-process. `memory://` for tests,
 * a folder (`.data/pglite`) for `npm start`. One connection: PGlite queues callers itself.
 */
export async function createPgliteDatabase(dataDir: string): Promise<Database> {
  // Imported here, not at the top: bundlers fold this module into the Lambda bundles, where
  // PGlite is external and absent, so a top-level import would break them at load.
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dataDir);

  const run = async <T extends Row>(client: Client, sql: string, params?: SqlParams) => {
    const { text, values } = toPositional(sql, params);
    try {
      const result = await client.query<T>(text, values);
      return result.rows;
    } catch (error) {
      throw mapPostgresError(error);
    }
  };

  return {
    query: (sql, params) => run(db, sql, params),
    async transaction(work) {
      try {
        return await db.transaction((tx) => work({ query: (sql, params) => run(tx, sql, params) }));
      } catch (error) {
        throw mapPostgresError(error);
      }
    },
    close: () => db.close(),
  };
}
