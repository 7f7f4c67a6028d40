import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';
import { startPrivatePostgres } from '../support/private-postgres.ts';
import { receivedRequests } from '../support/wiremock-journal.ts';
import { addStub } from '../support/wiremock-stubs.ts';

/*
 * A PostgreSQL crash (`pg_ctl stop -m immediate`: no checkpoint, the server loses what it had
 * not flushed) right after a recovery point was written. Every recovery point must be durable
 * before the next downstream call, or the checkout rolls back behind what the services did and
 * recovery undoes a checkout the customer was told had completed. The cluster is this file's
 * own, whatever TEST_DATABASE_URL says; its WAL writer waits its longest (10 s) between
 * background flushes, so a commit that does not flush itself is reliably lost in the crash.
 */
const cluster = await startPrivatePostgres({ settings: { wal_writer_delay: '10s' } });
process.env.DATABASE_URL = cluster.url;
process.env.CHECKOUT_LEASE_MS = '3000';
const migrator = createPostgresDatabase({ url: cluster.url, maxConnections: 1 });
await migrate(migrator).finally(() => migrator.close());

const { closeApp, getApp } = await import('#lib/app.ts');
const { workBudget } = await import('#lib/checkout/lease.ts');
const { newMarker, seedRequest, useLocalApi } = await import('../support/local-api.ts');

afterAll(async () => {
  await closeApp();
  await cluster.stop();
});
const api = useLocalApi();

/** Crashes the database and starts it again; the app's pool is dropped with its dead connections. */
async function crashAndRestart() {
  await cluster.crash();
  await closeApp();
  await cluster.start();
}

/** The whole stored row, as text, to tell whether anything in it changed. */
async function storedRow(id: string) {
  const { db } = await getApp();
  const [row] = await db.query<{ row: string }>(
    `select row_to_json(c)::text as row from checkouts c where id = :id::uuid`,
    { id },
  );
  return row?.row;
}

async function rowOf(marker: string) {
  const rows = await api.checkoutRows('customer_email like :m', { m: `%${marker}%` });
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

describe('a PostgreSQL crash', () => {
  it('right after a 200 completed: the checkout stays completed and recovery undoes nothing', async () => {
    const marker = newMarker();
    const res = await api.postCheckout(seedRequest(marker));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed' });
    const id = String(res.json.checkout_id);

    await crashAndRestart();

    expect(await rowOf(marker)).toMatchObject({
      id,
      status: 'completed',
      payment_id: res.json.payment_id,
      order_id: res.json.order_id,
      response_status: 200,
      response_body: res.text,
    });

    const app = await getApp();
    const { db } = app;
    await db.query(
      `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
      { id },
    );
    const before = await storedRow(id);
    await app.recoverAbandoned(workBudget(20_000), {
      batchSize: 100,
      maxAttempts: 5,
      maxAgeHours: 24,
      settleDelayMs: 0,
    });

    expect(await storedRow(id)).toBe(before);
    expect(await receivedRequests('payment', id, '/payments/process')).toHaveLength(1);
    expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toEqual([]);
    expect(await receivedRequests('inventory', id, '/inventory/release')).toEqual([]);
    expect(await receivedRequests('order', id, '/orders')).toHaveLength(1);
  });

  it('while the deduction is under way: the checkout keeps its charge (payment_processed)', async () => {
    const marker = newMarker();
    // Inventory keeps the deduction waiting, so the process is between the two steps.
    const unslow = await addStub('inventory', {
      priority: 1,
      request: {
        method: 'POST',
        urlPath: '/inventory/deduct',
        bodyPatterns: [{ contains: marker }],
      },
      response: { status: 500, fixedDelayMilliseconds: 5_000 },
    });
    // The checkout runs in a process of its own that dies with the database (a machine
    // crash), so nothing writes after the crash.
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/support/checkout-child.ts'],
      { env: { ...process.env, CHILD_BODY: JSON.stringify(seedRequest(marker)) }, stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 20_000;
      while ((await receivedRequests('inventory', marker, '/inventory/deduct')).length === 0) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error('the checkout never reached the deduction');
        await sleep(20);
      }
      await cluster.crash();
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null && child.kill('SIGKILL')) await exited;
      await unslow();
    }
    await closeApp();
    await cluster.start();

    const row = await rowOf(marker);
    expect(row).toMatchObject({ status: 'payment_processed', payment_id: `txn_${row.id}` });
  });
});
