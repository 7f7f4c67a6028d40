import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { handler as migrateHandler } from '#functions/migrate/handler.ts';
import { handler as operatorHandler } from '#functions/operator/handler.ts';
import { handler as recoveryHandler } from '#functions/recovery/handler.ts';
import { closeApp, getApp } from '#lib/app.ts';
import { migrations } from '#lib/db/migrations/index.ts';
import { runCli } from '../support/checkouts-cli.ts';
import { setEnvironment } from '../support/data-api-double/environment.ts';
import { startDataApiDouble } from '../support/data-api-double/server.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { checkoutNeedingAttention, refundedInConsole } from '../support/requires-attention.ts';

/*
 * The production data path, end to end, with the stack's two database users: `migrate` signs in
 * with the master secret and, reading the runtime secret from Secrets Manager, creates the
 * runtime user through the Data API; the health, checkout, recovery and operator handlers sign
 * in with the runtime secret (DB_SECRET_ARN, no RUNTIME_DB_SECRET_ARN), as the stack configures
 * them. All of them use the `rds-data` driver with the real SDK client, reaching the strict Data
 * API double through AWS_ENDPOINT_URL_RDS_DATA; the double runs each secret's statements as
 * that secret's user. The services are the run's WireMocks; the double's database is this
 * file's own.
 */
const double = await startDataApiDouble();
// Secrets Manager holds the runtime user's credentials, as RDS lays out a database secret.
const secretsManager = mockClient(SecretsManagerClient);
secretsManager
  .on(GetSecretValueCommand, { SecretId: double.runtimeSecretArn })
  .resolves({ SecretString: JSON.stringify({ ...double.runtimeUser, engine: 'postgres' }) });
const restoreEnvironment = setEnvironment(double.environment('runtime'));
// Registered before useLocalApi's own: Vitest runs afterAll hooks last-registered first, so
// the app and the local API close before the double they talk to.
afterAll(async () => {
  await closeApp();
  restoreEnvironment();
  secretsManager.restore();
  await double.stop();
});
const api = useLocalApi();

/** Runs `work` configured as the migrate function is: the master secret, and the runtime one. */
async function asMigrateFunction<T>(work: () => Promise<T>): Promise<T> {
  await closeApp();
  const restore = setEnvironment({
    ...double.environment('master'),
    RUNTIME_DB_SECRET_ARN: double.runtimeSecretArn,
  });
  try {
    return await work();
  } finally {
    await closeApp();
    restore();
  }
}

/** One statement sent with `secretArn` by the real SDK client, outside the app. */
const sdk = new RDSDataClient({ maxAttempts: 1 });
afterAll(() => sdk.destroy());
const execute = (secretArn: string, sql: string) =>
  sdk.send(
    new ExecuteStatementCommand({
      resourceArn: double.clusterArn,
      secretArn,
      database: double.database,
      sql,
      formatRecordsAs: 'JSON',
    }),
  );
/** The exception's name and message, as the SDK raised it. */
const failure = (secretArn: string, sql: string) =>
  execute(secretArn, sql).then(
    () => 'succeeded',
    (error: Error) => `${error.name}: ${error.message}`,
  );

const event = <T>(path: string) =>
  JSON.parse(readFileSync(new URL(`../../functions/${path}`, import.meta.url), 'utf8')) as T;
/** The calls the double answered from now on. */
const callsFrom = () => {
  const start = double.calls.length;
  return () => double.calls.slice(start);
};
const secretsOf = (calls: { secretArn?: string }[]) => [...new Set(calls.map((c) => c.secretArn))];
const storedRow = async (id: string) => {
  const [row] = await double.query('select * from checkouts where id = $1', [id]);
  return row;
};

describe('the handlers on the rds-data driver, through the Data API double', () => {
  it('configures the runtime functions with the runtime secret, and nothing of the owner', async () => {
    const { config } = await getApp();
    expect(config.database).toEqual({
      driver: 'rds-data',
      clusterArn: double.clusterArn,
      secretArn: double.runtimeSecretArn,
      database: double.database,
      resumeBudgetMs: 20_000,
    });
    expect(config.runtimeDbSecretArn).toBeUndefined();
  });

  it('migrate: as the owner, applies every migration in one transaction and creates the runtime user', async () => {
    const create = event<CloudFormationCustomResourceEvent>('migrate/events/create.json');
    const calls = callsFrom();

    const first = await asMigrateFunction(() => migrateHandler(create));

    expect(first).toEqual({
      PhysicalResourceId: 'checkout-schema',
      Data: { Applied: migrations.map((m) => m.version).join(',') },
    });
    const made = calls();
    expect(made.map((c) => c.error)).toEqual(made.map(() => undefined));
    expect(secretsOf(made)).toEqual([double.secretArn]);
    expect(made[0]?.operation).toBe('BeginTransaction');
    expect(made.at(-1)?.operation).toBe('CommitTransaction');
    expect(made.slice(1, -1).every((c) => c.operation === 'ExecuteStatement')).toBe(true);
    expect(new Set(made.slice(1).map((c) => c.transactionId)).size).toBe(1);
    expect(made[1]?.sql).toMatch(/^select pg_advisory_xact_lock\(:lock\)/);
    expect(made.some((c) => /^create role /.test(c.sql ?? ''))).toBe(true);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    // The runtime secret now signs in, as its own user.
    const signedIn = await execute(double.runtimeSecretArn, 'select current_user as name');
    expect(JSON.parse(signedIn.formattedRecords ?? '[]')).toEqual([
      { name: double.runtimeUser.username },
    ]);

    // A second deploy applies nothing and sets the runtime user's password again.
    const again = callsFrom();
    await expect(asMigrateFunction(() => migrateHandler(create))).resolves.toMatchObject({
      Data: { Applied: 'none' },
    });
    expect(again().some((c) => /^alter role /.test(c.sql ?? ''))).toBe(true);
  });

  it('health: 200 once the database answers, waiting out a cluster resuming from zero', async () => {
    double.inject({ error: 'DatabaseResumingException', times: 1 });
    const calls = callsFrom();

    const res = await api.request('/health');

    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok', checks: { database: 'ok' } });
    expect(calls().map((c) => c.error)).toEqual(['DatabaseResumingException', undefined]);
    expect(secretsOf(calls())).toEqual([double.runtimeSecretArn]);
  });

  it('checkout: one full checkout is recorded, completed, read back and replayed', async () => {
    const key = `rds-data-${newMarker()}`;
    const request = seedRequest();
    const calls = callsFrom();

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
    expect(calls().filter((c) => c.error)).toEqual([]);
    expect(secretsOf(calls())).toEqual([double.runtimeSecretArn]);
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
    const calls = callsFrom();

    const scheduled = event<ScheduledEvent>('recovery/events/scheduled.json');
    const report = await recoveryHandler(scheduled, localContext('recovery'));

    expect(report).toMatchObject({ claimed: 1, outcomes: { failed: 1 } });
    expect(await storedRow(id)).toMatchObject({ status: 'failed', reason: 'abandoned' });
    expect(secretsOf(calls())).toEqual([double.runtimeSecretArn]);
  });

  it('operator: lists, shows and resolves a checkout that requires attention', async () => {
    const stuck = await checkoutNeedingAttention(api);
    const calls = callsFrom();
    const invoke = (command: unknown) => operatorHandler(command, localContext('operator'));

    expect(await invoke({ command: 'list', status: 'requires_attention' })).toEqual({
      command: 'list',
      checkouts: [expect.objectContaining({ id: stuck.id, status: 'requires_attention' })],
      unreadable: [],
    });
    expect(await invoke({ command: 'show', id: stuck.id })).toMatchObject({
      command: 'show',
      checkout: { id: stuck.id, status: 'requires_attention', card: { last4: '1111' } },
      history: expect.arrayContaining([expect.objectContaining({ by: 'recovery:test' })]),
    });
    await refundedInConsole(stuck);
    const resolved = await invoke({
      command: 'resolve',
      id: stuck.id,
      by: 'jane',
      as: 'failed',
      note: 'refunded in the payment console',
    });

    expect(resolved).toMatchObject({ finished: true, checkout: { status: 'failed' } });
    expect(await storedRow(stuck.id)).toMatchObject({ status: 'failed' });
    expect(calls().filter((c) => c.error)).toEqual([]);
    expect(secretsOf(calls())).toEqual([double.runtimeSecretArn]);
  });

  it('npm run checkouts --stack-outputs: lists and shows through the Data API, as the runtime user', async () => {
    const stuck = await checkoutNeedingAttention(api);
    const outputsFile = path.join(mkdtempSync(path.join(tmpdir(), 'stack-outputs-')), 'out.json');
    // What `cdk deploy --outputs-file` writes (the runtime user's secret), without service URLs.
    writeFileSync(
      outputsFile,
      JSON.stringify({
        'CheckoutCommerce-dev': {
          ApiUrl: 'https://example.execute-api.eu-west-1.amazonaws.com/dev/',
          DbClusterArn: double.clusterArn,
          DbSecretArn: double.runtimeSecretArn,
          DbName: double.database,
        },
      }),
    );
    const cli = (...args: string[]) =>
      runCli([...args, '--stack-outputs', outputsFile], {
        // DATABASE_URL would win over the Data API if the outputs file did not take precedence.
        ...process.env,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
    const calls = callsFrom();

    const listed = await cli('list', '--status', 'requires_attention', '--json');
    const shown = await cli('show', stuck.id);

    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      checkouts: [expect.objectContaining({ id: stuck.id, status: 'requires_attention' })],
    });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(stuck.id);
    expect(shown.stdout).toContain('requires_attention');
    // The services' URLs come from this run's environment (the WireMocks): the charge they hold.
    expect(shown.stdout).toContain(`txn_${stuck.marker}`);
    expect(shown.stderr).toBe('');
    expect(calls().length).toBeGreaterThan(0);
    expect(secretsOf(calls())).toEqual([double.runtimeSecretArn]);
  });

  it.each([
    'delete from checkouts',
    'truncate checkouts',
    'create table other (id int)',
    'alter table checkouts add column x text',
    'select version from schema_migrations',
  ])('refuses the runtime user `%s`: DatabaseErrorException, SQLState 42501', async (sql) => {
    expect(await failure(double.runtimeSecretArn, sql)).toMatch(
      /^DatabaseErrorException: ERROR: (permission denied|must be owner)[\s\S]*; SQLState: 42501$/,
    );
  });

  it('refuses a secret it does not know before running anything', async () => {
    const unknown = double.secretArn.replace('master', 'stolen');
    const calls = callsFrom();

    expect(await failure(unknown, 'delete from checkouts')).toBe(
      `SecretsErrorException: The secret ${unknown} wasn't found.`,
    );
    expect(calls().map((c) => c.error)).toEqual(['SecretsErrorException']);
    expect(await double.query('select 1 from checkouts limit 1')).not.toEqual([]);
  });
});
