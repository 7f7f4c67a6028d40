import type { Database } from '#lib/db/database.ts';
import { createPgliteDatabase } from '#lib/db/drivers/pglite.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';
import { migrations } from '#lib/db/migrations/index.ts';

/** A database as a release left it, and how to throw it away. */
export interface OlderDatabase {
  db: Database;
  /** Applies the migrations it has not had yet; returns their versions. */
  upgrade(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * A database migrated up to, not including, `version`: as the release before it left it, so a
 * test can write the rows that release wrote and check what the migration makes of them. On
 * the PostgreSQL server named by TEST_DATABASE_URL, in a schema of its own (dropped by `stop`);
 * else an embedded PGlite in memory.
 */
export async function databaseBefore(version: string): Promise<OlderDatabase> {
  const index = migrations.findIndex((m) => m.version === version);
  if (index < 0) throw new Error(`no migration ${version}`);
  const { db, drop } = await emptyDatabase();
  await migrate(db, migrations.slice(0, index));
  return {
    db,
    upgrade: () => migrate(db),
    async stop() {
      await db.close();
      await drop();
    },
  };
}

async function emptyDatabase(): Promise<{ db: Database; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return { db: await createPgliteDatabase('memory://'), drop: async () => {} };
  const schema = `before_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = createPostgresDatabase({ url: serverUrl, maxConnections: 1 });
  await admin.query(`create schema ${schema}`);
  const url = new URL(serverUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    db: createPostgresDatabase({ url: url.toString(), maxConnections: 2 }),
    async drop() {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.close();
    },
  };
}
