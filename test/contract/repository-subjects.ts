import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import type { Database } from '#lib/db/database.ts';
import { createPgliteDatabase } from '#lib/db/drivers/pglite.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { createRdsDataDatabase } from '#lib/db/drivers/rds-data.ts';
import { migrate } from '#lib/db/migrate.ts';
import { sdkOnly, setEnvironment } from '../support/data-api-double/environment.ts';
import { startDataApiDouble } from '../support/data-api-double/server.ts';
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
  return sqlTarget(
    server ? 'SQL on PostgreSQL (pg driver)' : 'SQL on embedded PGlite',
    server,
    server ? openServerSchema : openPglite,
  );
}

/** The SQL repository on the database `open` gives: opened once, emptied before every test. */
function sqlTarget(
  name: string,
  locksRows: boolean,
  open: () => Promise<{ db: Database; stop(): Promise<void> }>,
): ContractTarget {
  let opened: ReturnType<typeof open> | undefined;
  return {
    name,
    locksRows,
    async fresh() {
      opened ??= open();
      const { db } = await opened;
      await db.query('truncate checkouts');
      return sqlSubject(db, locksRows);
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

/**
 * The SQL repository through the `rds-data` driver, as the Lambdas run it: the real SDK client
 * the driver creates reaches the strict Data API double (test/support/data-api-double/),
 * backed by a PostgreSQL database of this file's own, migrated through the Data API too. Each
 * Data API transaction holds a connection of its own, so a second one can hold a row.
 */
export function rdsDataTarget(): ContractTarget {
  return sqlTarget('SQL through the rds-data driver on the Data API double', true, openDataApi);
}

async function openDataApi() {
  const double = await startDataApiDouble();
  const restore = setEnvironment(sdkOnly(double.environment()));
  const { clusterArn, secretArn, database } = double;
  const db = createRdsDataDatabase({ clusterArn, secretArn, database });
  const stop = async () => {
    await db.close();
    restore();
    await double.stop();
  };
  // A migration the double refuses must not leave its database behind.
  await migrate(db).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { db, stop };
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
           idempotency_expires_at = idempotency_expires_at - :ms::integer * interval '1 millisecond',
           next_check_at = next_check_at - :ms::integer * interval '1 millisecond'`,
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
