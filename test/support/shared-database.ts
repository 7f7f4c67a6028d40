import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPostgresDatabase } from '../../lib/db/drivers/postgres.ts';
import { migrate } from '../../lib/db/migrate.ts';

/**
 * A PostgreSQL URL that several processes can share (a test and the child processes it runs):
 * TEST_DATABASE_URL when set, otherwise an in-memory PGlite served over the PostgreSQL wire
 * protocol on a free port. Migrated either way. Call `stop()` when done.
 */
export async function startSharedDatabase(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL) {
    return { url: process.env.TEST_DATABASE_URL, stop: async () => {} };
  }
  const db = await PGlite.create('memory://');
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const migrator = createPostgresDatabase({ url, maxConnections: 1 });
  await migrate(migrator);
  await migrator.close();
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
