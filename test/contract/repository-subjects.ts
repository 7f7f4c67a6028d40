import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import type { Database } from '#lib/db/database.ts';
import { createPgliteDatabase } from '#lib/db/drivers/pglite.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';
import { FakeCheckoutRepository } from '../support/fake-checkout-repository.ts';
import { startSharedDatabase } from '../support/shared-database.ts';
import type { ContractTarget, RepositoryUnderTest } from './checkout-repository.contract.ts';

/** The fake on a clock of its own, which only `elapse` moves. A fresh one for every test. */
export function fakeTarget(): ContractTarget {
  return {
    name: 'the fake (test/support/fake-checkout-repository.ts)',
    locksRows: false,
    async fresh() {
      let now = Date.parse('2026-11-24T12:00:00.000Z');
      const repository = new FakeCheckoutRepository([], { now: () => new Date(now) });
      const stored = (id: string) => repository.checkouts.get(id);
      return {
        repository,
        now: async () => new Date(now),
        async elapse(ms) {
          now += ms;
        },
        async spoilAmount(id) {
          const row = stored(id);
          if (row) row.unreadable = true;
        },
        storedStatus: async (id) => stored(id)?.checkout.status,
        async forgetHistory(id) {
          const row = stored(id);
          if (row) Object.assign(row, { history: [], worker: null });
        },
      };
    },
    close: async () => {},
  };
}

/**
 * The SQL repository on the database this run is configured for: the PostgreSQL server named
 * by TEST_DATABASE_URL, in a schema of this file's own (the recovery function of other test
 * files must not claim these checkouts, nor these tests theirs), else an embedded PGlite in
 * memory. One database for the file, emptied before every test.
 */
export function databaseTarget(): ContractTarget {
  const server = Boolean(process.env.TEST_DATABASE_URL);
  let opened: Promise<{ db: Database; stop(): Promise<void> }> | undefined;
  return {
    name: server ? 'SQL on PostgreSQL (pg driver)' : 'SQL on embedded PGlite',
    locksRows: server,
    async fresh() {
      opened ??= server ? openServerSchema() : openPglite();
      const { db } = await opened;
      await db.query('truncate checkouts');
      return sqlSubject(db, server);
    },
    async close() {
      await (await opened)?.stop();
    },
  };
}

async function openPglite() {
  const db = await createPgliteDatabase('memory://');
  await migrate(db);
  return { db, stop: () => db.close() };
}

async function openServerSchema() {
  const shared = await startSharedDatabase({ ownSchema: true });
  const db = createPostgresDatabase({ url: shared.url, maxConnections: 4 });
  return {
    db,
    async stop() {
      await db.close();
      await shared.stop();
    },
  };
}

function sqlSubject(db: Database, locksRows: boolean): RepositoryUnderTest {
  const subject: RepositoryUnderTest = {
    repository: createCheckoutRepository(db),
    async now() {
      const [row] = await db.query<{ now: string }>(`select to_json(now())#>>'{}' as now`);
      return new Date(row?.now ?? Number.NaN);
    },
    async elapse(ms) {
      // Every time the repository compares with now(), moved back: now() moves on instead.
      await db.query(
        `update checkouts set
           locked_until = locked_until - :ms::integer * interval '1 millisecond',
           idempotency_expires_at = idempotency_expires_at - :ms::integer * interval '1 millisecond'`,
        { ms },
      );
    },
    async spoilAmount(id) {
      await db.query(
        'update checkouts set total_amount = total_amount + 0.5 where id = :id::uuid',
        {
          id,
        },
      );
    },
    async storedStatus(id) {
      const [row] = await db.query<{ status: string }>(
        'select status from checkouts where id = :id::uuid',
        { id },
      );
      return row?.status;
    },
    async forgetHistory(id) {
      await db.query(
        `update checkouts set history = '[]'::jsonb, worker = null where id = :id::uuid`,
        { id },
      );
    },
  };
  if (locksRows) subject.holdRow = (id, work) => holdingRow(db, id, work);
  return subject;
}

/** Runs `work` while a transaction on another connection holds the row `for update`. */
async function holdingRow<T>(db: Database, id: string, work: () => Promise<T>): Promise<T> {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let locked = () => {};
  const isLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const holder = db.transaction(async (tx) => {
    await tx.query('select id from checkouts where id = :id::uuid for update', { id });
    locked();
    await released;
  });
  await Promise.race([isLocked, holder]);
  try {
    return await work();
  } finally {
    release();
    await holder;
  }
}
