import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, type RunningWireMocks, startWireMocks } from '#dev/local/wiremock-process.ts';

/**
 * Static stubs (no matching on bodies) so WireMock spends as little CPU as it can: on this
 * 2-core machine it shares the cores with the server, PostgreSQL and the load generator. Only
 * the payment answers are templated, because they must echo their request (the checkout id,
 * amount and currency, a refund's transaction id) or the client cannot tell them from an answer
 * meant for another request. A declined card and an undeliverable address give a refused and a
 * failed checkout.
 */
const ECHO = `"checkout_id":"{{jsonPath request.body '$.checkout_id'}}","amount":{{jsonPath request.body '$.amount'}},"currency":"{{jsonPath request.body '$.currency'}}"`;
const STUBS: Record<keyof RunningWireMocks['urls'], Record<string, unknown>[]> = {
  payment: [
    templated('/payments/process', 200, `{"status":"success","transactionId":"txn_bench",${ECHO}}`),
    templated(
      '/payments/process',
      422,
      `{"status":"failed","error":"card_declined",${ECHO}}`,
      '4000000000000002',
      1,
    ),
    templated(
      '/payments/authorize',
      200,
      `{"status":"authorized","transactionId":"txn_bench",${ECHO}}`,
    ),
    templated(
      '/payments/authorize',
      422,
      `{"status":"failed","error":"card_declined",${ECHO}}`,
      '4000000000000002',
      1,
    ),
    onTransaction('refund', `"status":"refunded",${ECHO}`),
    onTransaction('capture', `"status":"captured",${ECHO}`),
    onTransaction(
      'void',
      `"status":"voided","checkout_id":"{{jsonPath request.body '$.checkout_id'}}"`,
    ),
  ],
  inventory: [
    // The catalog (the inventory service's URL by default): the seed's products at its prices,
    // which is every cart the benchmark sends.
    stub('/catalog/quote', 200, {
      currency: 'BRL',
      items: [
        { product_id: 'prod_001', unit_price: 99.9 },
        { product_id: 'prod_002', unit_price: 149.9 },
      ],
    }),
    stub('/inventory/deduct', 200, { success: true }),
    stub('/inventory/release', 200, { success: true }),
  ],
  order: [
    stub('/orders', 201, { orderId: 'ord_bench', status: 'created' }),
    stub('/orders', 422, { error: 'invalid_address' }, '00000-000', 1),
  ],
};

/** A refund, capture or void of a transaction: its answer echoes the path's transaction id. */
function onTransaction(action: string, fields: string) {
  return {
    request: { method: 'POST', urlPathPattern: `/payments/[^/]+/${action}` },
    response: {
      ...json(200, {}),
      body: `{"transactionId":"{{request.pathSegments.[1]}}",${fields}}`,
      transformers: ['response-template'],
    },
  };
}

function json(status: number, body: unknown) {
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}

function stub(urlPath: string, status: number, body: unknown, contains?: string, priority = 5) {
  return {
    priority,
    request: { method: 'POST', urlPath, ...(contains ? { bodyPatterns: [{ contains }] } : {}) },
    response: json(status, body),
  };
}

function templated(urlPath: string, status: number, body: string, contains?: string, priority = 5) {
  const plain = stub(urlPath, status, {}, contains, priority);
  return { ...plain, response: { ...plain.response, body, transformers: ['response-template'] } };
}

/** Three WireMocks with the benchmark's stubs; `setDelay` adds a fixed delay to every answer. */
export async function startBenchWireMocks() {
  const root = mkdtempSync(path.join(tmpdir(), 'bench-wiremock-'));
  const wiremocks = await startWireMocks({ payment: 0, inventory: 0, order: 0 }, (service) => {
    const dir = path.join(root, service);
    mkdirSync(path.join(dir, 'mappings'), { recursive: true });
    return dir;
  });
  for (const [service, stubs] of Object.entries(STUBS)) {
    const base = wiremocks.urls[service as keyof typeof STUBS];
    for (const mapping of stubs) {
      const res = await fetch(`${base}/__admin/mappings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(mapping),
      });
      if (!res.ok) throw new Error(`stub rejected by ${service}: ${await res.text()}`);
    }
  }
  return {
    ...wiremocks,
    async setDelay(ms: number) {
      for (const base of Object.values(wiremocks.urls)) {
        await fetch(`${base}/__admin/settings`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ fixedDelay: ms }),
        });
      }
    },
  };
}

export interface RunningServer {
  url: string;
  pid: number;
  /** Peak resident memory of the server process so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  stop(): Promise<void>;
}

/**
 * `npm start`'s server (scripts/start.ts) in its own Node process, against the given services
 * and database; resolves once /health answers. `script` serves another handler the same way
 * (the reference checkout, reference-server.ts), with the same environment.
 */
export async function startServer(
  env: Record<string, string>,
  script = 'scripts/start.ts',
): Promise<RunningServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      APP_PORT: String(port),
      LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
      RECOVERY_INTERVAL_MS: String(3_600_000),
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error('the server exited while starting');
    if (i > 600) throw new Error('the server did not start');
    const healthy = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    await sleep(100);
  }
  const pid = child.pid as number;
  return {
    url,
    pid,
    peakRssMiB() {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
      return kib / 1024;
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
