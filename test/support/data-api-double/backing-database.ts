import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPrivatePostgres } from '../private-postgres.ts';

/** A PostgreSQL database of the double's own, on a real server. */
export interface BackingDatabase {
  /** Connection settings for `pg` (the database, on its server). */
  config: pg.ClientConfig;
  /**
   * Drops the database, then `roles` (roles belong to the whole server, so a test's own would
   * outlive its database), and stops the server if the double started one.
   */
  drop(roles?: string[]): Promise<void>;
}

/**
 * The machine's PostgreSQL server: TEST_DATABASE_URL's when it is set, else the usual
 * 127.0.0.1:5432 one (CI starts it only for the suite's second pass).
 */
function machineServer(): pg.ClientConfig {
  const url = new URL(process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  url.pathname = '/postgres';
  url.search = '';
  return { connectionString: url.toString(), connectionTimeoutMillis: 2_000 };
}

/**
 * Creates a database for one double on the machine's PostgreSQL server, or, where that server
 * is not running, on a private cluster started with the machine's PostgreSQL binaries (a few
 * seconds more). Its name is unique to the process and the call, so test files never share one.
 */
export async function createBackingDatabase(): Promise<BackingDatabase> {
  const name = `data_api_double_${process.pid}_${randomBytes(4).toString('hex')}`;
  const server = machineServer();
  if (await accepts(server)) return createOn(server, name, async () => {});
  const cluster = await startPrivatePostgres();
  const url = new URL(cluster.url);
  url.pathname = '/postgres';
  return createOn({ connectionString: url.toString() }, name, () => cluster.stop());
}

async function accepts(server: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client(server);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function createOn(
  server: pg.ClientConfig,
  name: string,
  stopServer: () => Promise<void>,
): Promise<BackingDatabase> {
  const runAdmin = async (sql: string) => {
    const admin = new pg.Client(server);
    await admin.connect();
    try {
      await admin.query(sql);
    } finally {
      await admin.end();
    }
  };
  await runAdmin(`create database ${name}`);
  const url = new URL(String(server.connectionString));
  url.pathname = `/${name}`;
  return {
    config: { connectionString: url.toString() },
    async drop(roles = []) {
      try {
        await runAdmin(`drop database if exists ${name} with (force)`);
        for (const role of roles) await runAdmin(`drop role if exists ${role}`);
      } finally {
        await stopServer();
      }
    },
  };
}
