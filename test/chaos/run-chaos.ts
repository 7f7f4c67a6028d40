import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecoveryOptions } from '#lib/checkout/recovery.ts';
import { isAsyncSeed, planAsyncScenario } from './async-plan.ts';
import { type DatabaseMode, openChaosDatabase } from './chaos-database.ts';
import { ChildPool } from './child-pool.ts';
import type { Client, PaymentFlow } from './fault-schedule.ts';
import { OutputCapture } from './output-capture.ts';
import {
  emptyStats,
  type Harness,
  runScenario,
  type ScenarioResult,
  type ScenarioStats,
} from './scenario.ts';
import { planScenario } from './scenario-plan.ts';
import { startSimulator } from './simulator.ts';
import { installTwoAddressLookup, TWO_ADDRESS_HOST } from './two-address-host.ts';
import { CHAOS_WEBHOOK_SECRET } from './webhooks.ts';

export interface ChaosOptions {
  runs: number;
  /** Scenario i runs from seed `seed + i`: `--seed <that> --runs 1` replays it. */
  seed: number;
  /** Instead of `seed`, `seed + 1`, ...: these seeds (`runs` of them), e.g. failing ones to replay. */
  seeds?: number[];
  db: DatabaseMode;
  /**
   * Called after each scenario; `print` writes to the real stdout (the app's own output is
   * captured while the scenarios run).
   */
  onScenario?: (result: ScenarioResult, done: number, print: (line: string) => void) => void;
}

export interface ChaosReport {
  options: { runs: number; seed: number; db: DatabaseMode };
  scenarios: number;
  /** Final status of every checkout (or `not_recorded`, `unfinished`) → count. */
  checkouts: Record<string, number>;
  /** Recorded checkouts by the flow their payment followed and final status → count. */
  checkoutsByFlow: Record<string, number>;
  faults: Record<string, number>;
  /** Faults by what they hit (forward steps, undo steps, lookups). */
  faultTargets: Record<string, number>;
  /** Requests the simulated services received, by endpoint. */
  requests: Record<string, number>;
  violations: Record<string, number>;
  /** Scenarios with a violation or a harness error, with their traces. */
  failing: ScenarioResult[];
  /** `requires_attention` checkouts by their undo_failures (and whether the ledgers are clean). */
  attention: Record<string, number>;
  /** The seeds of the scenarios behind each `attention` entry (the first few). */
  attentionSeeds: Record<string, number[]>;
  stats: ScenarioStats;
  durationsMs: number[];
}

/** Per-try timeouts of the harness's app: short, so a scenario takes well under a second. */
const TIMEOUT_MS: Record<Client, number> = {
  payment: 250,
  inventory: 200,
  order: 200,
  catalog: 150,
};
const LEASE_MS = 2_000;

/**
 * The chaos run: one simulator, one database and one in-process app (the real handlers behind
 * the local API Gateway adapter) for all scenarios, told apart by their checkout emails.
 * The app's environment is set before its modules are first imported (the config is read once).
 *
 * The app reaches the payment and order services by a name with two loopback addresses (both
 * refuse in an `unreachable` window: an AggregateError with no syscall), and the inventory
 * service by 127.0.0.1 alone (a plain ECONNREFUSED of connect): both ways a refusal looks.
 * Prices come from the catalog at its default address, the inventory service's (`PRICING` and
 * `CATALOG_SERVICE_URL` of the caller's environment are set aside for the run).
 *
 * `PAYMENT_CAPTURE` is each scenario's (`CapturePlan`): the in-process app is started anew when
 * a scenario changes it (between scenarios, and between a scenario's traffic and its
 * lease-expired retries), and the child process is started with the child's setting.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const simulator = await startSimulator();
  const database = await openChaosDatabase(options.db).catch(async (error: unknown) => {
    await simulator.close();
    throw error;
  });
  // This process's lookup; the child processes install theirs (checkout-child.ts).
  const restoreLookup = installTwoAddressLookup();
  const env: Record<string, string> = {
    DATABASE_URL: database.url,
    PAYMENT_SERVICE_URL: simulator.urlOf('payment', TWO_ADDRESS_HOST),
    INVENTORY_SERVICE_URL: simulator.urls.inventory,
    ORDER_SERVICE_URL: simulator.urlOf('order', TWO_ADDRESS_HOST),
    PAYMENT_TIMEOUT_MS: String(TIMEOUT_MS.payment),
    INVENTORY_TIMEOUT_MS: String(TIMEOUT_MS.inventory),
    ORDER_TIMEOUT_MS: String(TIMEOUT_MS.order),
    PRICING: 'catalog',
    PAYMENT_CAPTURE: 'after_order',
    CATALOG_TIMEOUT_MS: String(TIMEOUT_MS.catalog),
    HTTP_MAX_RETRIES: '1',
    HTTP_RETRY_BASE_MS: '10',
    HTTP_RETRY_MAX_MS: '30',
    CHECKOUT_LEASE_MS: String(LEASE_MS),
    LOG_LEVEL: 'DEBUG',
    POWERTOOLS_LOG_LEVEL: 'DEBUG',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // The secret the simulated payment service signs its webhooks with (`webhooks.ts`).
    PAYMENT_WEBHOOK_SECRET: CHAOS_WEBHOOK_SECRET,
  };
  const savedEnv = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  // Set aside: a private cluster's ARN, and a catalog elsewhere than the simulator.
  const setAside = ['DB_CLUSTER_ARN', 'CATALOG_SERVICE_URL', 'PAYMENT_WEBHOOK_SECRET_ARN'] as const;
  const savedAside = setAside.map((k) => [k, process.env[k]] as const);
  for (const key of setAside) delete process.env[key];
  Object.assign(process.env, env);

  const output = new OutputCapture();
  const children = new ChildPool((text) => output.append(text));
  let server: Server | undefined;
  const { closeApp, getApp } = await import('#lib/app.ts');
  try {
    await closeApp(); // an app of an earlier run (another database) must not be reused
    const { logger } = await import('#lib/observability/index.ts');
    logger.setLogLevel('DEBUG');
    const { workBudget } = await import('#lib/checkout/lease.ts');
    const { createLocalGateway, listen } = await import('#dev/local/local-gateway.ts');
    const { localRoutes } = await import('#dev/local/routes.ts');
    let app = await getApp();
    server = createLocalGateway(localRoutes);
    const gatewayUrl = await listen(server, 0, '127.0.0.1');
    const recoveryOptions: RecoveryOptions = {
      ...app.config.recovery,
      batchSize: 200,
    };

    const harness: Harness = {
      simulator,
      gatewayUrl,
      database,
      async sql(text, params) {
        for (let attempt = 0; ; attempt++) {
          try {
            return await app.db.query(text, params);
          } catch (error) {
            if (attempt >= 100) throw error;
            await sleep(100); // the database is down (a crash scenario): wait for it
          }
        }
      },
      async recover() {
        try {
          const report = await app.recoverAbandoned(workBudget(LEASE_MS), recoveryOptions);
          return `claimed ${report.claimed} ${JSON.stringify(report.outcomes)}`;
        } catch (error) {
          return `threw ${error instanceof Error ? error.message : String(error)}`;
        }
      },
      async setPaymentCapture(flow: PaymentFlow) {
        if (process.env.PAYMENT_CAPTURE === flow) return;
        process.env.PAYMENT_CAPTURE = flow;
        // The configuration is read once per app: the handlers and recovery get a new one
        // (the database, outside this process, keeps every checkout).
        await closeApp();
        app = await getApp();
      },
      children,
      output,
      timeoutMs: TIMEOUT_MS,
      maxRounds: app.config.recovery.maxAttempts + 3,
    };

    const runId = randomUUID().replaceAll('-', '').slice(0, 6);
    const report: ChaosReport = {
      options: { runs: options.runs, seed: options.seed, db: options.db },
      scenarios: 0,
      checkouts: {},
      checkoutsByFlow: {},
      faults: {},
      faultTargets: {},
      requests: {},
      violations: {},
      failing: [],
      attention: {},
      attentionSeeds: {},
      stats: emptyStats(),
      durationsMs: [],
    };
    // A third of the seeds pay by Pix or boleto (`async-plan.ts`), the rest by card.
    const seedOf = (i: number) => options.seeds?.[i] ?? options.seed + i;
    const plan = (i: number) =>
      isAsyncSeed(seedOf(i))
        ? planAsyncScenario(seedOf(i), {
            runId,
            crashes: database.crash !== undefined,
            kills: true,
          })
        : planScenario(seedOf(i), {
            runId,
            crashes: database.crash !== undefined,
            kills: true,
            maxAttempts: app.config.recovery.maxAttempts,
          });
    // The child process warms up with the setting the scenario that needs it next runs it under.
    const childEnv = (p: ReturnType<typeof plan>) => ({ PAYMENT_CAPTURE: p.capture.child });
    let next = options.runs > 0 ? plan(0) : undefined;
    if (next) children.prefer(childEnv(next));
    children.prewarm();
    output.start();
    for (let i = 0; next !== undefined; i++) {
      const current = next;
      next = i + 1 < options.runs ? plan(i + 1) : undefined;
      if (next) children.prefer(childEnv(next));
      const result = await runScenario(harness, current);
      report.scenarios++;
      report.durationsMs.push(result.durationMs);
      add(report.checkouts, result.report.outcomes);
      add(report.checkoutsByFlow, result.report.byFlow);
      for (const v of result.report.violations) add(report.violations, { [v.kind]: 1 });
      if (result.harnessErrors.length > 0) add(report.violations, { harness_error: 1 });
      for (const a of result.report.attention) {
        const key = `[${a.undoFailures.join(', ')}]${a.ledgersClean ? ' with clean ledgers' : ''}`;
        add(report.attention, { [key]: 1 });
        const seeds = report.attentionSeeds[key] ?? [];
        if (seeds.length < 5 && !seeds.includes(current.seed)) {
          report.attentionSeeds[key] = [...seeds, current.seed];
        }
      }
      for (const key of Object.keys(report.stats) as (keyof ChaosReport['stats'])[]) {
        report.stats[key] += result.stats[key];
      }
      if (result.report.violations.length > 0 || result.harnessErrors.length > 0) {
        report.failing.push(result);
      }
      options.onScenario?.(result, i + 1, (line) => output.print(line));
    }
    report.faults = Object.fromEntries(simulator.faultCounts);
    report.faultTargets = Object.fromEntries(simulator.faultTargets);
    report.requests = Object.fromEntries(simulator.requestCounts);
    return report;
  } finally {
    output.stop();
    await children.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await closeApp().catch(() => {});
    await simulator.close();
    await database.stop();
    restoreLookup();
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    for (const [key, value] of savedAside) if (value !== undefined) process.env[key] = value;
  }
}

function add(into: Record<string, number>, counts: Record<string, number>) {
  for (const [key, n] of Object.entries(counts)) into[key] = (into[key] ?? 0) + n;
}
