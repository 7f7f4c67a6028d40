import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';
import { startPrivatePostgres } from '../support/private-postgres.ts';

export type DatabaseMode = 'pglite' | 'postgres';

/** The run's database, migrated; `crash`/`start` only for a private PostgreSQL cluster. */
export interface ChaosDatabase {
  mode: DatabaseMode;
  url: string;
  /** `pg_ctl stop -m immediate`, then `start()` brings it back. */
  crash?: () => Promise<void>;
  start?: () => Promise<void>;
  stop(): Promise<void>;
}

/**
 * `pglite`: an in-memory PGlite served over the PostgreSQL wire protocol on a free port, so the
 * harness and the child processes it kills share it (no crash: it lives in this process).
 * `postgres`: a private cluster of the machine's PostgreSQL binaries, which can be crashed.
 */
export async function openChaosDatabase(mode: DatabaseMode): Promise<ChaosDatabase> {
  const database = mode === 'pglite' ? await openPglite() : await openPostgres();
  const migrator = createPostgresDatabase({ url: database.url, maxConnections: 1 });
  try {
    await migrate(migrator);
  } finally {
    await migrator.close();
  }
  return database;
}

async function openPglite(): Promise<ChaosDatabase> {
  const db = await PGlite.create('memory://');
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  return {
    mode: 'pglite',
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

async function openPostgres(): Promise<ChaosDatabase> {
  // The WAL writer waits its longest between background flushes, so a commit that does not
  // flush itself is reliably lost in a crash.
  const cluster = await startPrivatePostgres({ settings: { wal_writer_delay: '10s' } });
  return {
    mode: 'postgres',
    url: cluster.url,
    crash: () => cluster.crash(),
    start: () => cluster.start(),
    stop: () => cluster.stop(),
  };
}
