import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { lambdaNode } from '#dev/local/lambda-node.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { buildFunction } from '../../scripts/build.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

/**
 * Builds every function exactly as the CDK stack does (`buildFunction`: ESM, minified, the
 * `createRequire` banner, the same externals) into a folder outside the repository, where no
 * node_modules can be found, as on Lambda. Then, in a fresh Node process per function and Node
 * version, imports each bundle and calls its handler on the sample events of
 * `functions/<name>/events/`, against a real PostgreSQL server and the run's WireMocks. This is
 * what catches ESM/`require` breakage and stray package imports that `cdk synth` never sees.
 */

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNNER = path.join(import.meta.dirname, 'invoke-bundle.mjs');

const LAMBDA_MAJOR = 'v22';

/** The Node binaries to run the bundles on: Lambda's major and this machine's own Node. */
function nodeBinaries(): { bin: string; version: string }[] {
  const byVersion = new Map<string, string>();
  for (const bin of [lambdaNode(), process.execPath]) {
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (version && !byVersion.has(version)) byVersion.set(version, realpathSync(bin));
  }
  return [...byVersion].map(([version, bin]) => ({ version, bin }));
}

/** Every function of infra/bundling.ts, and any other folder of functions/ with sample events. */
function functionsWithEvents(): string[] {
  const folders = readdirSync(path.join(ROOT, 'functions'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(ROOT, 'functions', d.name, 'events')))
    .map((d) => d.name);
  return [...new Set<string>([...FUNCTIONS, ...folders])];
}

const eventsOf = (name: string) =>
  readdirSync(path.join(ROOT, 'functions', name, 'events'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => path.join(ROOT, 'functions', name, 'events', f));

interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}
interface Invocation {
  event: string | null;
  phase: 'import' | 'invoke';
  value?: unknown;
  error?: { name?: string; message?: string; stack?: string };
}

/**
 * What each known sample event must answer. An event not listed here must still not throw,
 * and an API Gateway event must get a status below 500.
 */
const EXPECTED: Record<string, (value: unknown) => void> = {
  'health/get-health.json': (value) => {
    const { statusCode, body } = value as HttpResult;
    expect(statusCode).toBe(200);
    expect(JSON.parse(body)).toEqual({ status: 'ok', checks: { database: 'ok' } });
  },
  'checkout/process-seed.json': (value) => {
    const { statusCode, body } = value as HttpResult;
    expect(statusCode).toBe(200);
    expect(JSON.parse(body)).toMatchObject({
      status: 'completed',
      total_amount: '349.70',
      currency: 'BRL',
      error: null,
    });
  },
  'checkout/read-checkout.json': (value) => {
    expect((value as HttpResult).statusCode).toBe(404);
  },
  'checkout/refused-out-of-stock.json': (value) => {
    const { statusCode, body } = value as HttpResult;
    expect(statusCode).toBe(422);
    expect(JSON.parse(body)).toMatchObject({ error: 'inventory_failed', reason: 'out_of_stock' });
  },
  'checkout/rejected-expired-card.json': (value) => {
    const { statusCode, body } = value as HttpResult;
    expect(statusCode).toBe(400);
    expect(JSON.parse(body)).toMatchObject({ error: 'validation_error' });
  },
  'migrate/create.json': (value) => {
    expect(value).toMatchObject({ PhysicalResourceId: expect.any(String) });
  },
  // Signed with lib/config.ts's local secret, at a fixed past time: a static event cannot carry
  // a signature within 300 s of now, so it shows the refusal, the signature code and the metric
  // having run in the bundle (test/integration/payment-webhook-http.test.ts signs fresh ones).
  'webhooks/payment-paid-expired-signature.json': (value) => {
    const { statusCode, body } = value as HttpResult;
    expect(statusCode).toBe(401);
    expect(JSON.parse(body)).toEqual({
      error: 'invalid_signature',
      message: expect.any(String),
    });
  },
};

function checkInvocation(name: string, invocation: Invocation) {
  const label = `${name}/${path.basename(invocation.event ?? 'import')}`;
  expect(invocation.error, `${label} threw: ${invocation.error?.stack}`).toBeUndefined();
  const expected = EXPECTED[label];
  if (expected) return expected(invocation.value);
  const event = JSON.parse(readFileSync(invocation.event as string, 'utf8')) as object;
  if ('httpMethod' in event) expect((invocation.value as HttpResult).statusCode).toBeLessThan(500);
}

/**
 * Static `import … from "pkg"` statements left in a bundle. On Lambda nothing but Node's
 * built-ins can be imported, so any package named here fails the cold start. Only statements
 * (after `;`, `}` or a line break) count: the AWS SDK's error messages quote `import "…"`.
 */
function staticPackageImports(code: string): string[] {
  const statement = /(?:^|[;}\n])\s*import\s*(?:[\w$*{}\s,]+?\s*from\s*)?["']([^"']+)["']/g;
  const found = new Set<string>();
  for (const match of code.matchAll(statement)) {
    const specifier = match[1] as string;
    if (!isBuiltin(specifier)) found.add(specifier);
  }
  return [...found];
}

const NODES = nodeBinaries();
const NAMES = functionsWithEvents();
const outdir = mkdtempSync(path.join(tmpdir(), 'checkout-bundles-'));
const bundles = new Map<string, string>();
let databaseUrl = '';
let stopDatabase: () => Promise<void> = async () => {};

/**
 * A real PostgreSQL wire-protocol server, migrated, in a schema of this run's own when it is
 * TEST_DATABASE_URL's: the recovery function must see only the checkouts these bundles made.
 */
async function startDatabase(): Promise<void> {
  const shared = await startSharedDatabase({ ownSchema: true });
  databaseUrl = shared.url;
  stopDatabase = () => shared.stop();
}

/** Runs one bundle on its events in a fresh process, with only the environment Lambda gives. */
async function invokeBundle(bin: string, name: string) {
  const wiremock = inject('wiremock');
  const { stdout, stderr } = await execFileAsync(
    bin,
    [RUNNER, bundles.get(name) as string, name, ...eventsOf(name)],
    {
      cwd: outdir,
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        TZ: 'UTC',
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: name,
        LAMBDA_TASK_ROOT: outdir,
        // As on Lambda with active tracing: EMF metrics really run, and the trace header is
        // passed on to the services.
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
        _X_AMZN_TRACE_ID:
          'Root=1-6743a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1',
        // What CDK sets for a NodejsFunction built with source maps.
        NODE_OPTIONS: '--enable-source-maps',
        DATABASE_URL: databaseUrl,
        PAYMENT_SERVICE_URL: wiremock.payment,
        INVENTORY_SERVICE_URL: wiremock.inventory,
        ORDER_SERVICE_URL: wiremock.order,
        PAYMENT_TIMEOUT_MS: '3000',
        INVENTORY_TIMEOUT_MS: '3000',
        ORDER_TIMEOUT_MS: '3000',
        HTTP_MAX_RETRIES: '1',
        LOG_LEVEL: 'WARN',
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
    },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('SMOKE_RESULT '));
  if (!line) throw new Error(`no result from ${name} on ${bin}:\n${stdout}\n${stderr}`);
  const { node, results } = JSON.parse(line.slice('SMOKE_RESULT '.length)) as {
    node: string;
    results: Invocation[];
  };
  return { node, results, stderr };
}

beforeAll(async () => {
  const build = async (name: string) => {
    bundles.set(name, path.resolve(await buildFunction(name as FunctionName, outdir)));
  };
  await Promise.all([...NAMES.map(build), startDatabase()]);
}, 60_000);

afterAll(async () => {
  await stopDatabase();
  rmSync(outdir, { recursive: true, force: true });
});

describe('bundles built as CDK builds them', () => {
  it('runs on Lambda’s Node major and on this machine’s Node', () => {
    console.log(`bundles run on: ${NODES.map((n) => `${n.version} (${n.bin})`).join(', ')}`);
    expect(NODES.map((n) => n.version.split('.')[0])).toContain(LAMBDA_MAJOR);
  });

  it('has sample events for every function of infra/bundling.ts', () => {
    for (const name of FUNCTIONS) expect(eventsOf(name).length, name).toBeGreaterThan(0);
  });

  it.each(NAMES)('%s imports nothing but Node built-ins, and reports its size', (name) => {
    const file = bundles.get(name) as string;
    const code = readFileSync(file, 'utf8');
    console.log(`${name}: ${(Buffer.byteLength(code) / 1024).toFixed(1)} KiB (${file})`);
    expect(staticPackageImports(code)).toEqual([]);
  });

  describe.each(NODES)('on Node $version', ({ bin, version }) => {
    it.each(NAMES)('%s loads in a fresh process and answers its sample events', async (name) => {
      const { node, results, stderr } = await invokeBundle(bin, name);
      if (stderr.trim()) console.log(`${name} on ${node} wrote to stderr:\n${stderr.trim()}`);
      expect(node).toBe(version);
      expect(stderr).not.toContain('Dynamic require of');
      for (const invocation of results) checkInvocation(name, invocation);
      expect(results.map((r) => r.event)).toEqual(eventsOf(name));
    });
  });
});
