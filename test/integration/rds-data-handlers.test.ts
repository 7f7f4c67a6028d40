import { readFileSync } from 'node:fs';
import type { CloudFormationCustomResourceEvent, ScheduledEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { handler as migrateHandler } from '#functions/migrate/handler.ts';
import { handler as recoveryHandler } from '#functions/recovery/handler.ts';
import { closeApp, getApp } from '#lib/app.ts';
import { migrations } from '#lib/db/migrations/index.ts';
import { setEnvironment } from '../support/data-api-double/environment.ts';
import { startDataApiDouble } from '../support/data-api-double/server.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';

/*
 * The production data path, end to end: the migrate, checkout, health and recovery handlers
 * configured as on AWS (DB_CLUSTER_ARN and DB_SECRET_ARN, so the `rds-data` driver with the
 * real SDK client), reaching the strict Data API double through AWS_ENDPOINT_URL_RDS_DATA, and
 * the run's WireMocks for the services. The double's database is this file's own.
 */
const double = await startDataApiDouble();
const restoreEnvironment = setEnvironment(double.environment());
// Registered before useLocalApi's own: Vitest runs afterAll hooks last-registered first, so
// the app and the local API close before the double they talk to.
afterAll(async () => {
  await closeApp();
  restoreEnvironment();
  await double.stop();
});
const api = useLocalApi();

const event = <T>(path: string) =>
  JSON.parse(readFileSync(new URL(`../../functions/${path}`, import.meta.url), 'utf8')) as T;
/** The calls the double answered from now on. */
const callsFrom = () => {
  const start = double.calls.length;
  return () => double.calls.slice(start);
};
const storedRow = async (id: string) => {
  const [row] = await double.query('select * from checkouts where id = $1', [id]);
  return row;
};

describe('the handlers on the rds-data driver, through the Data API double', () => {
  it('runs on the rds-data driver', async () => {
    expect((await getApp()).config.database).toEqual({
      driver: 'rds-data',
      clusterArn: double.clusterArn,
      secretArn: double.secretArn,
      database: double.database,
      resumeBudgetMs: 20_000,
    });
  });

  it('migrate: a Create applies every migration in one Data API transaction, a second none', async () => {
    const create = event<CloudFormationCustomResourceEvent>('migrate/events/create.json');
    const calls = callsFrom();

    await expect(migrateHandler(create)).resolves.toEqual({
      PhysicalResourceId: 'checkout-schema',
      Data: { Applied: migrations.map((m) => m.version).join(',') },
    });

    const made = calls();
    expect(made.map((c) => c.error)).toEqual(made.map(() => undefined));
    expect(made[0]?.operation).toBe('BeginTransaction');
    expect(made.at(-1)?.operation).toBe('CommitTransaction');
    const statements = made.slice(1, -1);
    expect(statements.every((c) => c.operation === 'ExecuteStatement')).toBe(true);
    expect(new Set(made.slice(1).map((c) => c.transactionId)).size).toBe(1);
    expect(statements[0]?.sql).toMatch(/^select pg_advisory_xact_lock\(:lock\)/);

    await expect(migrateHandler(create)).resolves.toMatchObject({ Data: { Applied: 'none' } });
  });

  it('health: 200 once the database answers, waiting out a cluster resuming from zero', async () => {
    double.inject({ error: 'DatabaseResumingException', times: 1 });
    const calls = callsFrom();

    const res = await api.request('/health');

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', checks: { database: 'ok' } });
    expect(calls().map((c) => c.error)).toEqual(['DatabaseResumingException', undefined]);
  });

  it('checkout: one full checkout is recorded, completed, read back and replayed', async () => {
    const key = `rds-data-${newMarker()}`;
    const request = seedRequest();

    const res = await api.postCheckout(request, { 'Idempotency-Key': key });

    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed', total_amount: '349.70' });
    const id = String(res.json.checkout_id);
    expect(await storedRow(id)).toMatchObject({
      status: 'completed',
      customer_email: request.customer_email,
      total_amount: '349.700',
      order_id: res.json.order_id,
      locked_until: null,
      response_status: 200,
      response_body: res.text,
    });
    const read = await api.request(`/checkout/${id}`);
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ checkout_id: id, status: 'completed' });
    const replay = await api.postCheckout(request, { 'Idempotency-Key': key });
    expect(replay.status).toBe(200);
    expect(replay.json).toEqual(res.json);
  });

  it('recovery: a run finishes a checkout a request left incomplete', async () => {
    const request = seedRequest();
    request.customer_email = `payment-reset+${newMarker()}@example.com`;
    const res = await api.postCheckout(request);
    expect(res.status).toBe(503);
    const id = String(res.json.checkout_id);
    await double.query(
      `update checkouts set locked_until = now() - interval '1 second' where id = $1`,
      [id],
    );

    const scheduled = event<ScheduledEvent>('recovery/events/scheduled.json');
    const report = await recoveryHandler(scheduled, localContext('recovery'));

    expect(report).toMatchObject({ claimed: 1, outcomes: { failed: 1 } });
    expect(await storedRow(id)).toMatchObject({ status: 'failed', reason: 'abandoned' });
  });
});
