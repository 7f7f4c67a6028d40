import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from './database.ts';

/** Whether the database answers `select 1` within `timeoutMs`. Never throws. */
export async function checkDatabase(db: Database, timeoutMs = 2_000): Promise<boolean> {
  const controller = new AbortController();
  try {
    return await Promise.race([
      db.query('select 1 as ok').then(() => true),
      sleep(timeoutMs, false, { signal: controller.signal }),
    ]);
  } catch {
    return false;
  } finally {
    controller.abort();
  }
}
