import pg from 'pg';
import type { ThroughputResult } from './throughput.ts';

/**
 * How many times PostgreSQL has flushed its WAL to disk (`pg_stat_wal.wal_sync`, server-wide,
 * PostgreSQL 14+); undefined where the view cannot be read. Every commit of a checkout waits for
 * a flush, but commits that arrive while one is under way are flushed together by the next
 * (group commit): under concurrency, fewer flushes than commits.
 */
async function walFlushes(databaseUrl: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      'select wal_sync::float8 as n from pg_stat_wal',
    );
    return rows[0]?.n;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

/** `run`'s result, with the WAL flushes per completed checkout during it (server-wide). */
export async function withWalFlushes(
  databaseUrl: string,
  run: () => Promise<ThroughputResult>,
): Promise<ThroughputResult & { walFlushesPerCheckout?: number }> {
  const before = await walFlushes(databaseUrl);
  const result = await run();
  const after = await walFlushes(databaseUrl);
  if (before === undefined || after === undefined || !result.completed) return result;
  return { ...result, walFlushesPerCheckout: (after - before) / result.completed };
}
