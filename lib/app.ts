import type { SagaDeps } from './checkout/saga.ts';
import { createInventoryClient } from './clients/inventory-client.ts';
import { createOrderClient } from './clients/order-client.ts';
import { createPaymentClient } from './clients/payment-client.ts';
import { ServiceHttpClient } from './clients/service-http-client.ts';
import { type Config, loadConfig } from './config.ts';
import { createCheckoutRepository } from './db/checkout-repository.ts';
import { createDatabase } from './db/create-database.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { logger } from './logger.ts';
import { checkoutMetrics } from './metrics.ts';

/** Everything a function needs, built once per cold start from the configuration. */
export interface App {
  config: Config;
  db: Database;
  saga: SagaDeps;
}

let app: Promise<App> | undefined;

/**
 * The process's `App`, created on first use and then reused (Lambda keeps it across warm
 * invocations). A failed start is not cached, so the next invocation tries again.
 */
export function getApp(): Promise<App> {
  app ??= createApp(loadConfig()).catch((error: unknown) => {
    app = undefined;
    throw error;
  });
  return app;
}

/** Closes the database of the current `App`, if any (local server shutdown, tests). */
export async function closeApp(): Promise<void> {
  const current = app;
  app = undefined;
  if (current) await (await current).db.close();
}

export async function createApp(config: Config): Promise<App> {
  const db = await createDatabase(config.database);
  // The embedded database belongs to this process, so it is brought up to date here; a real
  // server is migrated by `npm start`, the tests, or the deploy's migrate function.
  if (config.database.driver === 'pglite') await migrate(db);
  return { config, db, saga: sagaDeps(config, db) };
}

/** The saga's adapters over a database: the repository and the three service clients. */
export function sagaDeps(config: Config, db: Database): SagaDeps {
  const http = (service: 'payment' | 'inventory' | 'order') =>
    new ServiceHttpClient({ service, ...config[service], retry: config.retry, logger });
  return {
    repository: createCheckoutRepository(db),
    payment: createPaymentClient(http('payment')),
    inventory: createInventoryClient(http('inventory')),
    order: createOrderClient(http('order')),
    clock: { now: () => new Date() },
    logger,
    metrics: checkoutMetrics,
  };
}
