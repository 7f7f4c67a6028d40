/**
 * `npm run soak`: 1 000 checkouts at 20 connections against `npm start` on a real PostgreSQL,
 * then one recovery pass, and a check that everything is accounted for:
 *   every request got an answer, rows = checkouts answered, no row left unfinished.
 * The mix: mostly the seed example, some refusals (insufficient funds, out of stock), some
 * order outages (503: outcome unknown, settled by recovery) and some payment resets (503) that the
 * recovery pass must settle once the payment service is healthy again.
 *
 *   SOAK_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)
 *   SOAK_REQUESTS (1000), SOAK_CONNECTIONS (20)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, startWireMocks } from '#dev/local/wiremock-process.ts';
import { seedRequest } from './seed-request.ts';

const DATABASE_URL = process.env.SOAK_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 1000);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 20);
const LEASE_MS = 3_000;
const SETTLE_DELAY_MS = 2_000;
const run = randomUUID().slice(0, 8);

type Kind = 'seed' | 'insufficient_funds' | 'out_of_stock' | 'order_down' | 'payment_reset';
const MIX: Kind[] = [
  ...Array<Kind>(14).fill('seed'),
  'insufficient_funds',
  'out_of_stock',
  'order_down',
  'payment_reset',
  'seed',
  'seed',
];

function body(kind: Kind, n: number) {
  const email: Record<Kind, string> = {
    seed: `soak+${run}-${n}@example.com`,
    insufficient_funds: `soak+${run}-${n}@example.com`,
    out_of_stock: `soak+${run}-${n}@example.com`,
    order_down: `order-error+soak${run}-${n}@example.com`,
    payment_reset: `soak-reset+${run}-${n}@example.com`,
  };
  const request = seedRequest();
  request.customer_email = email[kind];
  request.shipping_address.street = `Rua Soak ${run}`;
  request.shipping_address.number = String(n);
  if (kind === 'insufficient_funds')
    request.items.push({ product_id: 'prod_tv', quantity: 1, price: 2500 });
  if (kind === 'out_of_stock')
    request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 10 });
  return request;
}

async function waitForHealth(url: string, child: ChildProcess) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('npm start exited');
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error('npm start did not become healthy');
}

async function main() {
  console.log(
    `soak ${run}: ${REQUESTS} checkouts, ${CONNECTIONS} connections, database ${DATABASE_URL.replace(/\/\/[^@]*@/, '//')}`,
  );
  const wiremocks = await startWireMocks({ payment: 0, inventory: 0, order: 0 });
  const resetStub = await fetch(`${wiremocks.urls.payment}/__admin/mappings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      priority: 1,
      request: {
        method: 'POST',
        urlPath: '/payments/process',
        bodyPatterns: [{ contains: `soak-reset+${run}` }],
      },
      response: { fault: 'CONNECTION_RESET_BY_PEER' },
    }),
  }).then((r) => r.json() as Promise<{ id: string }>);

  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL,
    PAYMENT_SERVICE_URL: wiremocks.urls.payment,
    INVENTORY_SERVICE_URL: wiremocks.urls.inventory,
    ORDER_SERVICE_URL: wiremocks.urls.order,
    APP_PORT: String(port),
    PAYMENT_TIMEOUT_MS: '2000',
    INVENTORY_TIMEOUT_MS: '2000',
    ORDER_TIMEOUT_MS: '2000',
    HTTP_RETRY_BASE_MS: '20',
    CHECKOUT_LEASE_MS: String(LEASE_MS),
    // WireMock never acts late: the least the configuration accepts (the per-try timeout).
    RECOVERY_SETTLE_DELAY_MS: String(SETTLE_DELAY_MS),
    RECOVERY_INTERVAL_MS: String(3_600_000),
    LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const server = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, server);

    const statuses = new Map<number, number>();
    const answered = new Set<string>();
    let next = 0;
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let n = next++; n < REQUESTS; n = next++) {
          const kind = MIX[n % MIX.length] as Kind;
          try {
            const res = await fetch(`${url}/checkout/process`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'idempotency-key': `soak-${run}-${n}`,
              },
              body: JSON.stringify(body(kind, n)),
            });
            const json = (await res.json()) as { checkout_id?: string };
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (json.checkout_id) answered.add(json.checkout_id);
          } catch {
            errors++;
          }
          if (n % 100 === 99) process.stdout.write(`\r  ${n + 1}/${REQUESTS}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write('\n');

    // One recovery pass, as the schedule would run it, once the payment service is healthy
    // again and the leases of the unknown outcomes (the lease and its 2 s of grace) have
    // expired at least the settle delay ago.
    await fetch(`${wiremocks.urls.payment}/__admin/mappings/${resetStub.id}`, { method: 'DELETE' });
    await sleep(LEASE_MS + 2_000 + SETTLE_DELAY_MS + 500);
    Object.assign(process.env, env);
    const { getApp, closeApp } = await import('#lib/app.ts');
    const { workBudget } = await import('#lib/checkout/lease.ts');
    const app = await getApp();
    const { db } = app;
    const recovery = await app.recoverAbandoned(workBudget(60_000), {
      ...app.config.recovery,
      batchSize: 10_000,
    });

    const rows = await db.query<{ status: string; n: string }>(
      `select status, count(*)::text as n from checkouts
       where shipping_address->>'street' = :street group by status order by status`,
      { street: `Rua Soak ${run}` },
    );
    await closeApp();
    const rowCount = rows.reduce((sum, r) => sum + Number(r.n), 0);
    const unfinished = rows.filter(
      (r) => !['completed', 'failed', 'requires_attention'].includes(r.status),
    );
    const responses = [...statuses.values()].reduce((a, b) => a + b, 0);

    console.log(`\nrequests            ${REQUESTS}`);
    console.log(`responses           ${responses} (transport errors: ${errors})`);
    console.log(
      `by status           ${[...statuses]
        .sort()
        .map(([s, n]) => `${s}: ${n}`)
        .join(', ')}`,
    );
    console.log(
      `duration            ${seconds.toFixed(1)} s (${(REQUESTS / seconds).toFixed(0)} checkouts/s)`,
    );
    console.log(`checkout ids        ${answered.size}`);
    console.log(
      `rows                ${rowCount}  (${rows.map((r) => `${r.status}: ${r.n}`).join(', ')})`,
    );
    console.log(
      `recovery pass       claimed ${recovery.claimed}: ${JSON.stringify(recovery.outcomes)}`,
    );
    const ok =
      responses === REQUESTS &&
      errors === 0 &&
      rowCount === answered.size &&
      unfinished.length === 0;
    console.log(
      ok
        ? '\nOK: every response accounted for, rows = responses, nothing left unfinished'
        : '\nFAILED',
    );
    process.exitCode = ok ? 0 : 1;
  } finally {
    server.kill('SIGINT');
    await new Promise((resolve) => server.once('exit', resolve));
    await wiremocks.stop();
  }
}

await main();
