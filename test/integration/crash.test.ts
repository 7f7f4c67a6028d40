import { type ChildProcess, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSharedDatabase } from '../support/shared-database.ts';
import { header, type JournalRequest, receivedRequests } from '../support/wiremock-journal.ts';
import { actedBeforeFailing, untilWebhooksDone } from '../support/wiremock-lookups.ts';
import { addStub } from '../support/wiremock-stubs.ts';

/*
 * A crash between saga steps: the checkout runs in a child process that is killed (SIGKILL,
 * no cleanup) right after a downstream call went out. This process then finishes the job,
 * by the recovery function or by the client's retry with the same Idempotency-Key, against
 * the same database.
 */
const shared = await startSharedDatabase();
process.env.DATABASE_URL = shared.url;
process.env.CHECKOUT_LEASE_MS = '3000';

const { closeApp, getApp } = await import('#lib/app.ts');
const { workBudget } = await import('#lib/checkout/lease.ts');
const { newMarker, seedRequest, useLocalApi } = await import('../support/local-api.ts');

const api = useLocalApi();
beforeAll(() => getApp());
afterAll(async () => {
  await closeApp();
  await shared.stop();
});

/** Starts the checkout in a child process and kills it once `service` received `path`. */
async function runAndKill(
  body: unknown,
  marker: string,
  service: 'payment' | 'inventory',
  path: string,
  key?: string,
) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/checkout-child.ts'],
    {
      env: { ...process.env, CHILD_BODY: JSON.stringify(body), CHILD_KEY: key ?? '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  const deadline = Date.now() + 20_000;
  while ((await receivedRequests(service, marker, path)).length === 0) {
    if (child.exitCode !== null)
      throw new Error(`the child finished before the crash point: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the child never reached the crash point (${service} ${path})`);
    }
    await sleep(20);
  }
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect(output).toBe(''); // it never answered
}

async function rowOf(marker: string) {
  const rows = await api.checkoutRows('customer_email like :m', { m: `%${marker}%` });
  expect(rows).toHaveLength(1);
  return rows[0] as Record<string, unknown>;
}

async function expireLease(id: string) {
  const { db } = await getApp();
  await db.query(
    `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
    { id },
  );
}

const keysOf = (requests: JournalRequest[]) => [
  ...new Set(requests.map((r) => header(r, 'Idempotency-Key'))),
];

/** The default success of each slowed call: its webhook tells the lookup the call acted. */
const ACTED = {
  '/payments/process': 'payment/mappings/process-success.json',
  '/inventory/deduct': 'inventory/mappings/deduct-success.json',
} as const;

/**
 * Delays a service's answers for this marker, so the child is still waiting when it is killed;
 * the service acted on the request all the same (its lookup lists it, as a real one's would).
 */
const slowDown = (service: 'payment' | 'inventory', path: keyof typeof ACTED, marker: string) =>
  addStub(service, {
    priority: 1,
    request: { method: 'POST', urlPath: path, bodyPatterns: [{ contains: marker }] },
    response: { status: 500, fixedDelayMilliseconds: 1_500 },
    ...actedBeforeFailing(ACTED[path]),
  });

describe('a checkout whose process dies between steps', () => {
  it('killed right after the charge went out: recovery settles the charge and refunds it, once', async () => {
    const marker = newMarker();
    const unslow = await slowDown('payment', '/payments/process', marker);
    await runAndKill(seedRequest(marker), marker, 'payment', '/payments/process');
    await unslow();
    const row = await rowOf(marker);
    expect(row.status).toBe('pending');
    const id = String(row.id);
    await untilWebhooksDone('payment', id);

    await expireLease(id);
    await (await getApp()).recoverAbandoned(workBudget(20_000), {
      batchSize: 100,
      maxAttempts: 5,
      maxAgeHours: 24,
      settleDelayMs: 0,
    });

    const final = await rowOf(marker);
    expect(final).toMatchObject({ status: 'failed', reason: 'abandoned' });
    const charges = await receivedRequests('payment', id, '/payments/process');
    expect(keysOf(charges)).toEqual([`${id}:charge`]);
    expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toHaveLength(1);
    expect(await receivedRequests('inventory', id)).toEqual([]);
  });

  it('killed between the charge and the deduction: a same-key retry finishes the checkout, once', async () => {
    const marker = newMarker();
    const key = `crash-${marker}`;
    const body = seedRequest(marker);
    const unslow = await slowDown('inventory', '/inventory/deduct', marker);
    await runAndKill(body, marker, 'inventory', '/inventory/deduct', key);
    await unslow();
    const row = await rowOf(marker);
    expect(row.status).toBe('payment_processed');
    const id = String(row.id);

    const early = await api.postCheckout(body, { 'Idempotency-Key': key });
    expect(early.status).toBe(409);
    await expireLease(id);
    const retried = await api.postCheckout(body, { 'Idempotency-Key': key });

    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ checkout_id: id, status: 'completed' });
    expect(keysOf(await receivedRequests('payment', id, '/payments/process'))).toEqual([
      `${id}:charge`,
    ]);
    expect(await receivedRequests('payment', id, '/payments/process')).toHaveLength(1);
    expect(keysOf(await receivedRequests('inventory', id, '/inventory/deduct'))).toEqual([
      `${id}:deduct`,
    ]);
    expect(await receivedRequests('order', id, '/orders')).toHaveLength(1);
    expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toEqual([]);
  });

  it('killed between the charge and the deduction: recovery undoes both, once', async () => {
    const marker = newMarker();
    const unslow = await slowDown('inventory', '/inventory/deduct', marker);
    await runAndKill(seedRequest(marker), marker, 'inventory', '/inventory/deduct');
    await unslow();
    const id = String((await rowOf(marker)).id);
    await untilWebhooksDone('inventory', id);

    await expireLease(id);
    await (await getApp()).recoverAbandoned(workBudget(20_000), {
      batchSize: 100,
      maxAttempts: 5,
      maxAgeHours: 24,
      settleDelayMs: 0,
    });

    expect(await rowOf(marker)).toMatchObject({ status: 'failed', reason: 'abandoned' });
    expect(keysOf(await receivedRequests('inventory', id, '/inventory/deduct'))).toEqual([
      `${id}:deduct`,
    ]);
    expect(await receivedRequests('inventory', id, '/inventory/release')).toHaveLength(1);
    expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toHaveLength(1);
    expect(await receivedRequests('payment', id, '/payments/process')).toHaveLength(1);
  });
});
