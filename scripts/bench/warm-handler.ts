/**
 * The warm checkout handler's CPU and memory per invocation, in-process: the Lambda handler
 * alone, without the local gateway. `measureWarmHandler` builds the checkout bundle as deployed
 * (scripts/build.ts), then runs it in a child process on the given Node (warm-handler-child.ts)
 * with the environment Lambda gives the function, and calls `handler` with API Gateway REST
 * proxy events for `POST /checkout/process`, one at a time, as a Lambda instance does. It does
 * so twice: on the Data API driver that Lambda runs (against the repo's strict Data API double)
 * and on `pg` against the given PostgreSQL server.
 *
 *   npx tsx scripts/bench/warm-handler.ts   # 300 warm-up + 2 000 invocations, Node 22 and 20
 *
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test): the PostgreSQL server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { toApiGatewayEvent } from '#dev/local/api-gateway-event.ts';
import { lambdaNode } from '#dev/local/lambda-node.ts';
import type { Database } from '#lib/db/database.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';
import { migrate } from '#lib/db/migrate.ts';
import { toPositional } from '#lib/db/named-parameters.ts';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#lib/observability/constants.ts';
import {
  type DataApiDouble,
  startDataApiDouble,
} from '../../test/support/data-api-double/server.ts';
import { buildFunction } from '../build.ts';
import { seedRequest } from '../seed-request.ts';
import { startBenchWireMocks } from './bench-stack.ts';
import { cpuShare, lambdaCosts, MEMORY_SIZES_MB } from './lambda-cost.ts';
import type { ChildConfig, ChildReport } from './warm-handler-child.ts';

export interface WarmHandlerResult {
  /** e.g. 'v22.23.3' */
  node: string;
  /** What the handler's data layer talked to. */
  database: string;
  /** Measured, after warm-up. */
  invocations: number;
  /** Process user + system CPU / invocations (the handler alone, in-process). */
  cpuMsPerInvocation: number;
  wallMsP50: number;
  wallMsP99: number;
  /** RSS after the run. */
  rssMiB: number;
  /** maxRSS of the whole run, start-up included. */
  peakRssMiB: number;
  heapUsedMiB: number;
  /** What else the run saw, per invocation (warm-up included): for the CLI and the notes. */
  detail?: {
    /** The kernel's part of `cpuMsPerInvocation`. */
    systemCpuMs: number;
    /** The function's stdout (JSON log lines and EMF metrics), as Lambda would ship it. */
    stdoutBytes: number;
    stdoutLines: number;
  };
}

export interface WarmHandlerOptions {
  /** Path of the Node binary to run the child on. */
  node: string;
  urls: { payment: string; inventory: string; order: string };
  /** A PostgreSQL server's URL (migrated here if it is not yet). */
  databaseUrl: string;
  invocations: number;
  warmup: number;
  /** Overrides of the function's environment, to see what a setting costs (e.g. LOG_LEVEL). */
  env?: Record<string, string>;
}

/** infra/checkout-stack.ts: the checkout function's memorySize and CHECKOUT_TIMEOUT. */
const MEMORY_MB = 512;
const TIMEOUT_MS = 25_000;
const FUNCTION_NAME = 'checkout-dev-CheckoutFunction';
/** The trace header's `Sampled` flag, as X-Ray's default rule sets it: 5 % of requests. */
const SAMPLE_EVERY = 20;

/** One entry per database variant: the Data API double first, then `pg`. */
export async function measureWarmHandler(
  options: WarmHandlerOptions,
): Promise<WarmHandlerResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'warm-handler-'));
  try {
    const bundle = path.resolve(await buildFunction('checkout', dir));
    const child = path.join(dir, 'warm-handler-child.mjs');
    await build({
      entryPoints: [path.join(import.meta.dirname, 'warm-handler-child.ts')],
      outfile: child,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    const run = (database: string, env: Record<string, string>) =>
      runChild(database, options, { child, bundle, env });

    const results: WarmHandlerResult[] = [];
    const double = await startDataApiDouble();
    try {
      await migrateDouble(double);
      results.push(await run('Data API (local double)', double.environment()));
    } finally {
      await double.stop();
    }

    const db = createPostgresDatabase({ url: options.databaseUrl, maxConnections: 1 });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
    results.push(await run('PostgreSQL (pg)', { DATABASE_URL: options.databaseUrl }));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The schema, applied straight on the double's own database (past the Data API, so this
 * process loads no AWS SDK). The database is new and this run's alone: nothing to race.
 */
function migrateDouble(double: DataApiDouble): Promise<string[]> {
  const direct: Database = {
    query: (sql, params) => {
      const { text, values } = toPositional(sql, params);
      return double.query(text, values);
    },
    transaction: (work) => work(direct),
    close: async () => {},
  };
  return migrate(direct);
}

/**
 * What Lambda sets for the checkout function (its documented runtime variables, with
 * nodejs22.x and arm64's values), what infra/constructs/checkout-function.ts and
 * infra/checkout-stack.ts add (production: an idempotency key is required), and the services.
 * Nothing else from this process leaks in: no POWERTOOLS_DEV, no POWERTOOLS_METRICS_DISABLED,
 * so metrics are emitted as on Lambda.
 */
function lambdaEnvironment(
  urls: WarmHandlerOptions['urls'],
  taskRoot: string,
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    _HANDLER: 'index.handler',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: FUNCTION_NAME,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_MB),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${FUNCTION_NAME}`,
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/25/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
    _AWS_XRAY_DAEMON_PORT: '2000',
    // infra/constructs/checkout-function.ts
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    LOG_LEVEL: 'INFO',
    // infra/checkout-stack.ts
    PAYMENT_SERVICE_URL: urls.payment,
    INVENTORY_SERVICE_URL: urls.inventory,
    ORDER_SERVICE_URL: urls.order,
    PAYMENT_TIMEOUT_MS: '10000',
    INVENTORY_TIMEOUT_MS: '5000',
    ORDER_TIMEOUT_MS: '5000',
    HTTP_MAX_RETRIES: '2',
    REQUIRE_IDEMPOTENCY_KEY: 'true',
    CHECKOUT_LEASE_MS: '60000',
    RECOVERY_SETTLE_DELAY_MS: '60000',
  };
}

/**
 * The event API Gateway sends for the seed request, built as the local gateway builds it; the
 * child gives each invocation its own request id, trace header and Idempotency-Key.
 */
function eventTemplate(): string {
  const body = JSON.stringify(seedRequest());
  const event = toApiGatewayEvent(
    {
      method: 'POST',
      path: '/checkout/process',
      query: new URLSearchParams(),
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        Host: 'abcdef1234.execute-api.us-east-1.amazonaws.com',
        'Idempotency-Key': 'set-per-invocation',
        'User-Agent': 'shop-backend/1.0',
        'X-Amzn-Trace-Id': 'set-per-invocation',
        'X-Forwarded-For': '203.0.113.10',
        'X-Forwarded-Port': '443',
        'X-Forwarded-Proto': 'https',
        // The stack requires an API key by default (infra/app.ts `requireApiKey`).
        'x-api-key': 'bench-api-key-0123456789abcdef',
      },
      body,
      sourceIp: '203.0.113.10',
    },
    '/checkout/process',
    null,
  );
  return JSON.stringify(event);
}

async function runChild(
  database: string,
  options: WarmHandlerOptions,
  run: { child: string; bundle: string; env: Record<string, string> },
): Promise<WarmHandlerResult> {
  const config: ChildConfig = {
    bundle: run.bundle,
    event: eventTemplate(),
    warmup: options.warmup,
    invocations: options.invocations,
    functionName: FUNCTION_NAME,
    memoryMb: MEMORY_MB,
    timeoutMs: TIMEOUT_MS,
    sampleEvery: SAMPLE_EVERY,
  };
  const env = {
    ...lambdaEnvironment(options.urls, path.dirname(run.bundle)),
    ...run.env,
    ...options.env,
  };
  const proc = spawn(options.node, [run.child, JSON.stringify(config)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let stdoutBytes = 0;
  let stdoutLines = 0;
  proc.stdout?.on('data', (chunk: Buffer) => {
    stdoutBytes += chunk.length;
    for (const byte of chunk) if (byte === 10) stdoutLines++;
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8_000);
  });
  let reported = '';
  proc.stdio[3]?.on('data', (chunk: Buffer) => {
    reported += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('close', resolve);
  });
  if (code !== 0 || !reported.trim()) {
    throw new Error(`the warm handler run (${database}) failed (exit ${code}):\n${stderr}`);
  }
  const report = JSON.parse(reported) as ChildReport;
  const all = options.warmup + options.invocations;
  return {
    node: report.node,
    database,
    invocations: report.invocations,
    cpuMsPerInvocation: (report.cpuUserMs + report.cpuSystemMs) / report.invocations,
    wallMsP50: report.wallMsP50,
    wallMsP99: report.wallMsP99,
    rssMiB: report.rssMiB,
    peakRssMiB: report.peakRssMiB,
    heapUsedMiB: report.heapUsedMiB,
    detail: {
      systemCpuMs: report.cpuSystemMs / report.invocations,
      stdoutBytes: stdoutBytes / all,
      stdoutLines: stdoutLines / all,
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const wiremocks = await startBenchWireMocks();
  const results: WarmHandlerResult[] = [];
  try {
    for (const node of [lambdaNode(), process.execPath]) {
      results.push(
        ...(await measureWarmHandler({
          node,
          urls: wiremocks.urls,
          databaseUrl,
          invocations: 2_000,
          warmup: 300,
        })),
      );
    }
  } finally {
    await wiremocks.stop();
  }
  const n = (value: number, digits = 2) => value.toFixed(digits);
  const row = (cells: string[], widths: number[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ');
  const widths = [9, 24, 13, 17, 20, 16];
  console.log(
    row(
      [
        'node',
        'database',
        'CPU ms (sys)',
        'wall p50/p99 ms',
        'RSS/peak/heap MiB',
        'stdout B (lines)',
      ],
      widths,
    ),
  );
  for (const r of results) {
    const d = r.detail;
    const cells = [
      r.node,
      r.database,
      `${n(r.cpuMsPerInvocation)} (${n(d?.systemCpuMs ?? 0)})`,
      `${n(r.wallMsP50)} / ${n(r.wallMsP99)}`,
      `${n(r.rssMiB, 0)} / ${n(r.peakRssMiB, 0)} / ${n(r.heapUsedMiB, 0)}`,
      `${n(d?.stdoutBytes ?? 0, 0)} (${n(d?.stdoutLines ?? 0, 1)})`,
    ];
    console.log(row(cells, widths));
  }
  // What Lambda runs: Node 22 on the Data API.
  const lambda = results.find((r) => r.node.startsWith('v22') && r.database.startsWith('Data API'));
  if (lambda) {
    const measuredWait = Math.max(0, lambda.wallMsP50 - lambda.cpuMsPerInvocation);
    for (const [label, wait] of [
      [`the wait measured here (p50 wall − CPU = ${n(measuredWait, 1)} ms)`, measuredWait],
      ['100 ms on the database and the services (assumed, not measured)', 100],
    ] as const) {
      const costs = lambdaCosts(lambda, wait);
      console.log(`\n${lambda.node}, ${lambda.database}, waiting ${label}:`);
      console.log('memory MB  CPU share  est. duration ms  $ per million checkouts');
      for (const o of costs.options) {
        const mark = o.memoryMb === costs.recommendedMb ? '  <- recommended' : '';
        console.log(
          `${String(o.memoryMb).padStart(9)}  ${n(cpuShare(o.memoryMb), 3).padStart(9)}  ${n(o.estimatedDurationMs, 1).padStart(16)}  ${n(o.costPerMillionUsd, 3).padStart(23)}${mark}`,
        );
      }
      console.log(`recommended: ${costs.reason}`);
    }
    console.log(`(sizes: ${MEMORY_SIZES_MB.join(', ')} MB; arm64, us-east-1, first price tier)`);
  }
}
