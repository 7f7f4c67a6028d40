import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';

export interface SharedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL URL that several processes can share (a test and the child processes it runs),
 * migrated. Without TEST_DATABASE_URL: an in-memory PGlite served over the PostgreSQL wire
 * protocol on a free port (pglite-socket multiplexes the connections onto the one PGlite; each
 * child's `pg` pool keeps its connection open, so several are allowed). With it: that server,
 * and with `ownSchema` a schema of this run's own (through `search_path` in the URL), so that
 * e.g. the recovery function sees only this run's checkouts; it is dropped by `stop()`.
 */
export async function startSharedDatabase(
  options: { ownSchema?: boolean } = {},
): Promise<SharedDatabase> {
  const shared = await open(options);
  const migrator = createPostgresDatabase({ url: shared.url, maxConnections: 1 });
  try {
    await migrate(migrator);
  } finally {
    await migrator.close();
  }
  return shared;
}

async function open({ ownSchema = false }: { ownSchema?: boolean }): Promise<SharedDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl && !ownSchema) return { url: serverUrl, stop: async () => {} };
  if (serverUrl) {
    const schema = `test_${process.pid}_${Date.now()}`;
    const admin = createPostgresDatabase({ url: serverUrl, maxConnections: 1 });
    await admin.query(`create schema ${schema}`);
    const url = new URL(serverUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      url: url.toString(),
      async stop() {
        await admin.query(`drop schema ${schema} cascade`);
        await admin.close();
      },
    };
  }
  const db = await PGlite.create('memory://');
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
