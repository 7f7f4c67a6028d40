import { sagaDeps } from '#lib/app.ts';
import type { CardFlow } from '#lib/checkout/checkout.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { loadConfig } from '#lib/config.ts';
import { createDatabase } from '#lib/db/create-database.ts';
import type { Database } from '#lib/db/database.ts';
import { migrate } from '#lib/db/migrate.ts';
import { seedRequest } from '../seed-request.ts';

/** A `Database` that counts every statement it runs, inside transactions too. */
export function countingDatabase(db: Database): Database & { count: number } {
  const counter = {
    count: 0,
    query: ((sql, params) => {
      counter.count++;
      return db.query(sql, params);
    }) as Database['query'],
    transaction: ((work) =>
      db.transaction((tx) =>
        work({
          query: (sql, params) => {
            counter.count++;
            return tx.query(sql, params);
          },
        }),
      )) as Database['transaction'],
    close: () => db.close(),
  };
  return counter;
}

/** Statements per outcome, in each payment flow (`PAYMENT_CAPTURE`). */
export type StatementCounts = Record<
  CardFlow,
  { completed: number; refused: number; failed: number }
>;

/**
 * Statements one checkout costs, by outcome: completed (the seed example), refused (a declined
 * card: nothing to undo) and failed (the order refused: stock released, the payment voided or
 * refunded), in each payment flow. Runs the real saga and repository in this process against
 * an embedded database and the benchmark's WireMocks.
 */
export async function countStatements(
  services: Record<'payment' | 'inventory' | 'order', string>,
): Promise<StatementCounts> {
  return {
    after_order: await countFlow(services, 'after_order'),
    immediate: await countFlow(services, 'immediate'),
  };
}

async function countFlow(
  services: Record<'payment' | 'inventory' | 'order', string>,
  flow: CardFlow,
) {
  const config = loadConfig({
    PAYMENT_SERVICE_URL: services.payment,
    INVENTORY_SERVICE_URL: services.inventory,
    ORDER_SERVICE_URL: services.order,
    PAYMENT_CAPTURE: flow,
  });
  const db = countingDatabase(await createDatabase({ driver: 'pglite', dataDir: 'memory://' }));
  await migrate(db);
  // Quiet: this runs in the benchmark's own process, whose output is the report.
  const quiet = { info() {}, warn() {}, error() {} };
  const deps = {
    ...sagaDeps(config, db),
    logger: quiet,
    metrics: { outcome() {}, backlog() {}, refundedAfterCompletion() {} },
  };
  const run = async (change: (body: ReturnType<typeof seedRequest>) => void) => {
    const body = seedRequest();
    change(body);
    const { cart, secrets } = parseCheckoutRequest(body);
    const before = db.count;
    await processCheckout(deps, { cart, secrets }, workBudget(30_000));
    return db.count - before;
  };
  try {
    return {
      completed: await run(() => {}),
      refused: await run((b) => {
        b.payment_method.card_number = '4000000000000002';
      }),
      failed: await run((b) => {
        b.shipping_address.zip_code = '00000-000';
      }),
    };
  } finally {
    await db.close();
  }
}
