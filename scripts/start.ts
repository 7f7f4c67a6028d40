/**
 * `npm start`: the whole service on this machine. Embedded Postgres in `.data/` unless
 * DATABASE_URL is set; WireMock for the three services on 8081–8083 (WIREMOCK_BASE_PORT and the
 * next two; 0 takes free ports) unless their *_SERVICE_URL variables are set; the API on
 * APP_HOST:APP_PORT through the local API Gateway adapter, with Swagger UI at /docs.
 *
 * Before it starts anything it checks the configuration, takes the data folder (one process per
 * PGlite folder: a second `npm start` on it is refused), and checks that DATABASE_URL answers and
 * the ports are free. Ctrl-C, SIGTERM (which `npm` passes on) or SIGHUP stop everything it started.
 * A WireMock that dies is said on stderr and started again once; dying again within a minute
 * stops it all (exit code 1). On a terminal the logs are short lines (LOG_FORMAT=text), JSON
 * when piped or with LOG_FORMAT=json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScheduledEvent } from 'aws-lambda';
import { apiDocs } from '#dev/api-docs/api-docs.ts';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { DataFolderInUse, lockDataFolder } from '#dev/local/data-folder-lock.ts';
import { databaseUrlProblem } from '#dev/local/database-url-check.ts';
import { emulateLambdaRuntime, inInvocation } from '#dev/local/lambda-runtime.ts';
import { type AccessLogLine, createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import { whenNpmLauncherEnds } from '#dev/local/npm-launcher.ts';
import { URL_VARIABLES, wireMockUrl } from '#dev/local/service-urls.ts';
import { folderInUseMessage, startSettings, takenPortsProblem } from '#dev/local/start-checks.ts';
import {
  javaAvailable,
  type RunningWireMocks,
  SERVICES,
  startWireMocks,
} from '#dev/local/wiremock-process.ts';
import { watchWireMocks } from '#dev/local/wiremock-watch.ts';
import { ConfigError, loadConfig } from '#lib/config.ts';

/** Steps that undo what was started, last first; run once by `stop`. */
const cleanup: (() => Promise<unknown> | unknown)[] = [];
let stopping = false;

/** Stops what was started and exits (also mid-start: `process.exit` kills WireMocks started so far). */
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  if (code === 0) console.log('\nstopping ...');
  for (const step of cleanup.reverse()) await step();
  process.exit(code);
}

/** Says why it cannot start, with no stack trace, and stops what was started. */
function refuse(message: string): Promise<never> {
  console.error(message);
  return stop(1) as Promise<never>;
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop());
  // A SIGTERM to `npm` reaches its shell only: the end of the shell (or of npm) is the signal.
  whenNpmLauncherEnds(() => stop());

  // CloudWatch metrics (EMF) only mean something on Lambda; locally they would flood stdout.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  // A person reads a terminal: one short line per entry. Piped (to a file, jq, a test), JSON.
  if (process.stdout.isTTY) process.env.LOG_FORMAT ??= 'text';
  if (!process.env.DATABASE_URL && !process.env.PGLITE_DATA_DIR) {
    mkdirSync('.data', { recursive: true });
    process.env.PGLITE_DATA_DIR = '.data/pglite';
  }

  // 1. The configuration, whole: the WireMocks' URLs are known before they run.
  const settings = startSettings(process.env);
  const missing = SERVICES.filter((service) => !process.env[URL_VARIABLES[service]]);
  for (const service of missing) {
    process.env[URL_VARIABLES[service]] = wireMockUrl(settings.wireMockPorts[service]);
  }
  const config = loadConfig();
  const appUrl = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;

  // 2. The data folder: a second `npm start` on it stops here.
  const { database } = config;
  const dataDir = database.driver === 'pglite' ? database.dataDir : 'memory://';
  // `npm run checkouts` reads it from the lock (its user's alone) to use the operator route.
  const token = randomBytes(32).toString('base64url');
  const lock = dataDir.startsWith('memory://')
    ? undefined
    : lockDataFolder(dataDir, 'npm start', appUrl, token);
  if (lock?.replaced) {
    console.log(
      `note: the last \`npm start\` on ${dataDir} (pid ${lock.replaced.pid}) did not stop cleanly; its folder is taken over.`,
    );
  }

  // 3. What the data folder cannot tell: the database server and the ports.
  if (database.driver === 'postgres') {
    const problem = await databaseUrlProblem(database.url);
    if (problem) return refuse(problem);
  }
  const taken = await takenPortsProblem(
    [
      { port: config.port, host: config.host, purpose: 'APP_PORT' },
      // WireMock runs for all three services when one is missing (as before), on all three ports.
      ...(missing.length > 0 ? SERVICES : []).map((service) => ({
        port: settings.wireMockPorts[service],
        host: '127.0.0.1',
        purpose: `${service} WireMock`,
      })),
    ],
    // Where a running `npm start` keeps the lock of its folder, which holds its URL.
    dataDir.startsWith('memory://') ? ['.data'] : ['.data', path.dirname(path.resolve(dataDir))],
  );
  if (taken) return refuse(taken);

  // 4. Only now: Java, the database, the handlers.
  let wiremocks: RunningWireMocks | undefined;
  if (missing.length > 0) {
    if (!javaAvailable()) {
      return refuse(
        'WireMock needs Java 11 or newer and no `java` was found on the PATH.\n' +
          'Install a JDK (e.g. `apt install openjdk-17-jre-headless`), or point the service at running\n' +
          `services instead: ${Object.values(URL_VARIABLES)
            .map((v) => `${v}=http://...`)
            .join(' ')} npm start`,
      );
    }
    console.log(`starting WireMock for ${SERVICES.join(', ')} ...`);
    wiremocks = await startWireMocks(settings.wireMockPorts);
    cleanup.push(() => wiremocks?.stop());
    watchWireMocks(wiremocks, {
      report: (text) => console.error(text),
      giveUp: (message) => void refuse(message),
      stopping: () => stopping,
    });
    for (const service of missing) {
      process.env[URL_VARIABLES[service]] = wiremocks.urls[service];
    }
  }

  // The runtime's environment first: the logger reads it when `lib/` is first imported.
  await emulateLambdaRuntime();
  const { closeApp, getApp } = await import('#lib/app.ts');
  const { migrate } = await import('#lib/db/migrate.ts');
  const { localOperatorRoute, localRoutes } = await import('#dev/local/routes.ts');
  const { handler: recovery } = await import('#functions/recovery/handler.ts');
  const app = await getApp();
  cleanup.push(closeApp);
  const applied = await migrate(app.db);
  if (applied.length > 0) console.log(`migrations applied: ${applied.join(', ')}`);

  const { logFormat, textLine } = await import('#lib/observability/logger.ts');
  const text = logFormat(process.env) === 'text';
  const server = createLocalGateway(localRoutes, apiDocs(), {
    accessLog: (line) =>
      process.stdout.write(`${text ? accessTextLine(line, textLine) : JSON.stringify(line)}\n`),
    // The CLI cannot open the folder this process holds: it asks this process instead.
    ...(lock && { localOnly: localOperatorRoute(token) }),
  });
  const url = await listen(server, config.port, config.host);
  lock?.setUrl(url);
  cleanup.push(async () => {
    // Stop accepting, let the handlers in flight finish (up to 10 s), then close the rest.
    server.close();
    server.closeIdleConnections();
    for (let waited = 0; server.inFlight() > 0 && waited < 10_000; waited += 50) await sleep(50);
    server.closeAllConnections();
  });

  console.log(`checkout-commerce listening on ${url}`);
  console.log(
    `  database: ${database.driver}${database.driver === 'pglite' ? ` (${database.dataDir})` : ''}`,
  );
  for (const service of SERVICES) {
    const pid = missing.includes(service) && wiremocks?.pids[SERVICES.indexOf(service)];
    console.log(
      `  ${service}: ${app.config[service].baseUrl}${pid ? ` (WireMock, pid ${pid})` : ''}`,
    );
  }
  console.log(`  docs: ${url}/docs   OpenAPI: ${url}/openapi.json   Ctrl-C to stop`);

  // The local twin of the EventBridge schedule: the recovery function on a timer.
  const every = settings.recoveryIntervalMs;
  let recovering = false;
  const recoveryTimer = setInterval(async () => {
    if (recovering) return;
    recovering = true;
    const context = localContext('recovery', every);
    try {
      await inInvocation(context, () => recovery(scheduledEvent(), context));
    } catch (error) {
      console.error('recovery run failed:', error instanceof Error ? error.message : error);
    } finally {
      recovering = false;
    }
  }, every);
  cleanup.push(() => clearInterval(recoveryTimer));
  console.log(`  recovery: every ${every / 1000} s (RECOVERY_INTERVAL_MS)`);
}

/** An access-log line as a terminal shows it: `… INFO  POST /checkout/process 200 41 ms  checkout_id=…`. */
function accessTextLine(line: AccessLogLine, textLine: (entry: Record<string, unknown>) => string) {
  return textLine({
    level: 'INFO',
    message: `${line.httpMethod} ${line.path} ${line.status} ${line.responseLatency} ms`,
    checkout_id: line.checkoutId,
  });
}

/** What EventBridge sends on a schedule. */
function scheduledEvent(): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'local',
    resources: [],
    detail: {},
  };
}

main().catch((error: unknown) => {
  if (error instanceof DataFolderInUse) return refuse(folderInUseMessage(error));
  if (error instanceof ConfigError) return refuse(error.message);
  console.error(error instanceof Error ? error.message : error);
  return stop(1);
});
