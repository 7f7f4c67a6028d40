import { randomUUID } from 'node:crypto';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '#lib/app.ts';
import { type WorkBudget, workBudget } from '#lib/checkout/lease.ts';
import { loadConfig } from '#lib/config.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { sampleCart, sampleSecrets } from './fakes.ts';
import { CLUSTER, SECRET } from './rds-data-fixtures.ts';

/*
 * The composition root runs every use case that works under a budget inside the budget's
 * database deadline, which the rds-data driver honours (its SDK client mocked here): a checkout
 * whose Data API hangs answers as the database being unavailable (our 503) before the
 * function's own deadline, not the gateway's 502 or 504 after it.
 */
const rds = mockClient(RDSDataClient);
const app: App = await createApp(
  loadConfig({
    PAYMENT_SERVICE_URL: 'http://127.0.0.1:9',
    INVENTORY_SERVICE_URL: 'http://127.0.0.1:9',
    ORDER_SERVICE_URL: 'http://127.0.0.1:9',
    DB_CLUSTER_ARN: CLUSTER,
    DB_SECRET_ARN: SECRET,
    // The carts are priced as sent: these tests are about the database, not the catalog.
    PRICING: 'caller',
  }),
);
afterAll(async () => {
  await app.db.close();
  rds.restore();
});

beforeEach(() => {
  rds.reset();
  rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[]' });
});

/** A budget whose database deadline has already passed. */
const spent = (): WorkBudget => ({
  worker: 'test',
  leaseMs: 2_500,
  signal: new AbortController().signal,
  databaseDeadline: Date.now() - 1,
});

describe('App: database calls under the work budget’s deadline', () => {
  it('answers a checkout whose Data API hangs as unavailable, before the function’s deadline', async () => {
    rds.on(ExecuteStatementCommand).callsFake(() => new Promise(() => {}));
    const remainingMs = 2_500; // what context.getRemainingTimeInMillis() said at the start
    const budget = workBudget(60_000, remainingMs, 'request:r1');
    const started = performance.now();

    const error = await app
      .processCheckout({ cart: sampleCart(), secrets: sampleSecrets() }, budget)
      .catch((e: unknown) => e);

    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(elapsed).toBeGreaterThanOrEqual(remainingMs - 1_500 - 50);
    expect(elapsed).toBeLessThan(remainingMs); // answered before the function's own end
    // The insert was the only statement: cut short, never sent again.
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  it.each([
    [
      'processCheckout',
      (budget: WorkBudget) =>
        app.processCheckout({ cart: sampleCart(), secrets: sampleSecrets() }, budget),
    ],
    ['recoverAbandoned', (budget: WorkBudget) => app.recoverAbandoned(budget)],
    [
      'readCheckout',
      (budget: WorkBudget) => app.readCheckout(randomUUID(), budget.databaseDeadline),
    ],
    ['operations.retry', (budget: WorkBudget) => app.operations.retry(randomUUID(), budget)],
    [
      'operations.resolve',
      (budget: WorkBudget) =>
        app.operations.resolve(randomUUID(), { as: 'failed', note: 'test' }, budget),
    ],
  ])('runs %s under the deadline: past it, nothing is sent', async (_, useCase) => {
    await expect(useCase(spent())).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(rds.calls()).toHaveLength(0);
  });

  it('sends as before under a budget without a deadline (local runs, tests, the CLI)', async () => {
    await expect(app.operations.retry(randomUUID(), workBudget(20_000))).resolves.toMatchObject({
      refused: 'not_found',
    });
    expect(rds.calls().length).toBeGreaterThan(0);
  });
});
