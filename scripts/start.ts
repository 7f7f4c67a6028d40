/**
 * `npm start`: the whole service on this machine. Embedded Postgres in `.data/` unless
 * DATABASE_URL is set; WireMock for the three services on 8081–8083 unless their
 * *_SERVICE_URL variables are set; the API on APP_HOST:APP_PORT through the local API Gateway
 * adapter, with Swagger UI at /docs. Ctrl-C stops everything it started.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ScheduledEvent } from 'aws-lambda';
import { apiDocs } from '#dev/api-docs/api-docs.ts';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import {
  javaAvailable,
  type RunningWireMocks,
  startWireMocks,
} from '#dev/local/wiremock-process.ts';
import { closeApp, getApp } from '#lib/app.ts';
import { loadConfig } from '#lib/config.ts';
import { migrate } from '#lib/db/migrate.ts';

const SERVICE_URL_VARS = [
  'PAYMENT_SERVICE_URL',
  'INVENTORY_SERVICE_URL',
  'ORDER_SERVICE_URL',
] as const;

async function main() {
  // CloudWatch metrics (EMF) only mean something on Lambda; locally they would flood stdout.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  if (!process.env.DATABASE_URL && !process.env.PGLITE_DATA_DIR) {
    mkdirSync('.data', { recursive: true });
    process.env.PGLITE_DATA_DIR = '.data/pglite';
  }

  let wiremocks: RunningWireMocks | undefined;
  const missing = SERVICE_URL_VARS.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    if (!javaAvailable()) {
      console.error(
        'WireMock needs Java 11 or newer and no `java` was found on the PATH.\n' +
          'Install a JDK (e.g. `apt install openjdk-17-jre-headless`), or point the service at running\n' +
          `services instead: ${SERVICE_URL_VARS.map((v) => `${v}=http://...`).join(' ')} npm start`,
      );
      process.exit(1);
    }
    console.log('starting WireMock for payment, inventory and order on 8081-8083 ...');
    wiremocks = await startWireMocks();
    process.env.PAYMENT_SERVICE_URL ??= wiremocks.urls.payment;
    process.env.INVENTORY_SERVICE_URL ??= wiremocks.urls.inventory;
    process.env.ORDER_SERVICE_URL ??= wiremocks.urls.order;
  }

  const config = loadConfig();
  const { db } = await getApp();
  const applied = await migrate(db);
  if (applied.length > 0) console.log(`migrations applied: ${applied.join(', ')}`);

  // The handlers are imported only now, after the environment is complete.
  const { localRoutes } = await import('#dev/local/routes.ts');
  const server = createLocalGateway(localRoutes, apiDocs());
  const url = await listen(server, config.port, config.host);

  console.log(`checkout-commerce listening on ${url}`);
  console.log(
    `  database: ${config.database.driver}${config.database.driver === 'pglite' ? ` (${config.database.dataDir})` : ''}`,
  );
  console.log(
    `  payment ${config.payment.baseUrl}, inventory ${config.inventory.baseUrl}, order ${config.order.baseUrl}`,
  );
  console.log(`  docs: ${url}/docs   OpenAPI: ${url}/openapi.json   Ctrl-C to stop`);

  // The local twin of the EventBridge schedule: the recovery function on a timer.
  const recoveryEveryMs = Number(process.env.RECOVERY_INTERVAL_MS ?? 30_000);
  const { handler: recovery } = await import('#functions/recovery/handler.ts');
  let recovering = false;
  const recoveryTimer = setInterval(async () => {
    if (recovering) return;
    recovering = true;
    try {
      await recovery(scheduledEvent(), localContext('recovery', recoveryEveryMs));
    } catch (error) {
      console.error('recovery run failed:', error instanceof Error ? error.message : error);
    } finally {
      recovering = false;
    }
  }, recoveryEveryMs);
  console.log(`  recovery: every ${recoveryEveryMs / 1000} s (RECOVERY_INTERVAL_MS)`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping ...');
    clearInterval(recoveryTimer);
    // Stop accepting, let the handlers in flight finish (up to 10 s), then close the database.
    server.close();
    server.closeIdleConnections();
    for (let waited = 0; server.inFlight() > 0 && waited < 10_000; waited += 50) await sleep(50);
    server.closeAllConnections();
    await closeApp();
    await wiremocks?.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
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
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
