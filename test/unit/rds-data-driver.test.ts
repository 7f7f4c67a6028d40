import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  DatabaseResumingException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandOutput,
  ForbiddenException,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
  StatementTimeoutException,
} from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newCheckout } from '#lib/checkout/checkout.ts';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { createDatabase } from '#lib/db/create-database.ts';
import {
  createRdsDataDatabase,
  mapRdsDataError,
  toDataApiTimestamp,
} from '#lib/db/drivers/rds-data.ts';
import { migrate } from '#lib/db/migrate.ts';
import { migrations } from '#lib/db/migrations/index.ts';
import { parameterCasts } from '#lib/db/named-parameters.ts';
import { DatabaseUnavailableError, UniqueViolationError } from '#lib/errors.ts';
import { sampleOrder } from './fakes.ts';
import { CLUSTER, SECRET, TX } from './rds-data-fixtures.ts';

// Records the backoff waits while still waiting them.
vi.mock('node:timers/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:timers/promises')>();
  return { ...real, setTimeout: vi.fn(real.setTimeout) };
});

const target = { resourceArn: CLUSTER, secretArn: SECRET };

/** An answer recorded in the shape the Data API returns it. */
function fixture(name: string): ExecuteStatementCommandOutput {
  const url = new URL(`./fixtures/rds-data/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8'));
}

/** A service exception as the SDK raises it, with Aurora's own message. */
const metadata = { $metadata: { httpStatusCode: 400 } };
const resuming = () =>
  new DatabaseResumingException({
    ...metadata,
    message:
      'The Aurora DB instance db-ABCD1234 is resuming after being auto-paused. Please wait a few seconds and try again.',
  });
/** Throttling, as the Data API's common errors and API Gateway's 429 raise it. */
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 },
  });
const tooManyRequests = () =>
  Object.assign(new Error('Too Many Requests'), {
    name: 'Unknown',
    $metadata: { httpStatusCode: 429 },
  });
const duplicateKey = () =>
  new DatabaseErrorException({
    ...metadata,
    message:
      'ERROR: duplicate key value violates unique constraint "checkouts_idempotency_key"\n  Detail: Key (idempotency_key)=(k-1) already exists.; SQLState: 23505',
  });

const rds = mockClient(RDSDataClient);
const client = new RDSDataClient({ region: 'eu-west-1' });
const db = createRdsDataDatabase({
  clusterArn: CLUSTER,
  secretArn: SECRET,
  database: 'checkout',
  client,
  retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
});

/** Every command sent, in order, as `[command, input]`. */
const sent = () => rds.calls().map((call) => [call.args[0].constructor.name, call.args[0].input]);
const executed = () => rds.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);

beforeEach(() => {
  rds.reset();
  rds.on(ExecuteStatementCommand).resolves(fixture('insert'));
  rds.on(BeginTransactionCommand).resolves({ transactionId: TX });
  rds.on(CommitTransactionCommand).resolves({ transactionStatus: 'Transaction Committed' });
  rds.on(RollbackTransactionCommand).resolves({ transactionStatus: 'Rollback Complete' });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.mocked(sleep).mockClear();
});

afterAll(() => rds.restore());

describe('rds-data driver: statements', () => {
  it('sends one ExecuteStatement naming the cluster, secret and database, asking for JSON', async () => {
    await db.query('update checkouts set status = :status where id = :id::uuid', {
      status: 'failed',
      id: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80',
    });

    expect(sent()).toEqual([
      [
        'ExecuteStatementCommand',
        {
          ...target,
          database: 'checkout',
          sql: 'update checkouts set status = :status where id = :id::uuid',
          parameters: [
            { name: 'status', value: { stringValue: 'failed' } },
            {
              name: 'id',
              typeHint: 'UUID',
              value: { stringValue: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80' },
            },
          ],
          formatRecordsAs: 'JSON',
          resultSetOptions: { decimalReturnType: 'STRING' },
        },
      ],
    ]);
  });

  it('keeps :name as written: the Data API binds named parameters itself', async () => {
    await db.query('select :a::jsonb, :a::jsonb as again', { a: '{}' });
    expect(executed()[0]?.sql).toBe('select :a::jsonb, :a::jsonb as again');
    expect(executed()[0]?.parameters).toHaveLength(1);
  });

  it('hints DECIMAL, UUID, TIMESTAMP and JSON from the cast after each placeholder', async () => {
    await db.query(
      `select :total::numeric, :id::uuid, :at::timestamptz, :day::timestamp, :items::jsonb,
        :address::json, :on::date, :price::numeric(12, 2)`,
      {
        total: '349.70',
        id: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80',
        at: '2026-11-24T20:00:00.000Z',
        day: '2026-11-24T21:30:00.250+01:00',
        items: '[{"price":"99.90"}]',
        address: '{"city":"Lyon"}',
        on: '2026-11-24',
        price: 19.99,
      },
    );

    expect(executed()[0]?.parameters).toEqual<SqlParameter[]>([
      { name: 'total', typeHint: 'DECIMAL', value: { stringValue: '349.70' } },
      {
        name: 'id',
        typeHint: 'UUID',
        value: { stringValue: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80' },
      },
      { name: 'at', typeHint: 'TIMESTAMP', value: { stringValue: '2026-11-24 20:00:00.000' } },
      { name: 'day', typeHint: 'TIMESTAMP', value: { stringValue: '2026-11-24 20:30:00.250' } },
      { name: 'items', typeHint: 'JSON', value: { stringValue: '[{"price":"99.90"}]' } },
      { name: 'address', typeHint: 'JSON', value: { stringValue: '{"city":"Lyon"}' } },
      { name: 'on', typeHint: 'DATE', value: { stringValue: '2026-11-24' } },
      // A hinted value always travels as a string, so a number cast to numeric stays exact.
      { name: 'price', typeHint: 'DECIMAL', value: { stringValue: '19.99' } },
    ]);
  });

  it('types uncast values by their JavaScript type, and null or undefined as NULL', async () => {
    await db.query(
      'select :text, :count::integer, :ratio, :final::boolean, :none, :absent, :zero, :no',
      {
        text: 'pending',
        count: 201,
        ratio: 0.5,
        final: true,
        none: null,
        absent: undefined,
        zero: 0,
        no: false,
      },
    );

    expect(executed()[0]?.parameters).toEqual<SqlParameter[]>([
      { name: 'text', value: { stringValue: 'pending' } },
      { name: 'count', value: { longValue: 201 } },
      { name: 'ratio', value: { doubleValue: 0.5 } },
      { name: 'final', value: { booleanValue: true } },
      { name: 'none', value: { isNull: true } },
      { name: 'absent', value: { isNull: true } },
      { name: 'zero', value: { longValue: 0 } },
      { name: 'no', value: { booleanValue: false } },
    ]);
  });

  it('sends a null cast to a hinted type as a plain NULL, without the hint', async () => {
    await db.query('select coalesce(:undo::jsonb, undo_failures) from checkouts', { undo: null });
    expect(executed()[0]?.parameters).toEqual([{ name: 'undo', value: { isNull: true } }]);
  });

  it('sends only the parameters the SQL uses, each once', async () => {
    await db.query('select :id::uuid where :id::uuid is not null', {
      id: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80',
      unused: 'x',
      alsoUnused: undefined,
    });
    expect(executed()[0]?.parameters?.map((p) => p.name)).toEqual(['id']);
  });

  it('sends an empty parameter list for a statement without placeholders', async () => {
    await db.query('select 1 as ok');
    expect(executed()[0]?.parameters).toEqual([]);
  });

  it('refuses, naming it, a parameter the SQL needs but was not given, before calling AWS', async () => {
    await expect(db.query('select :present, :absent', { present: 1 })).rejects.toThrow(
      'missing SQL parameter :absent',
    );
    expect(rds.calls()).toHaveLength(0);
  });
});

describe('rds-data driver: results', () => {
  it('parses formattedRecords, keeping numeric columns as the exact strings the API sends', async () => {
    rds.on(ExecuteStatementCommand).resolves(fixture('select-numeric'));

    const rows = await db.query('select id, total_amount, attempts, paid, payment_id from t');

    expect(rows).toEqual([
      {
        id: '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80',
        total_amount: '349.70',
        attempts: 1,
        paid: true,
        payment_id: null,
      },
      {
        id: '0a4e6b1c-93d2-4c7f-8e15-b2c9d8a7f6e1',
        total_amount: '0.10',
        attempts: 2,
        paid: false,
        payment_id: 'pay-9',
      },
    ]);
  });

  it('returns no rows for a statement without a result set (no formattedRecords)', async () => {
    await expect(db.query('delete from checkouts')).resolves.toEqual([]);
  });

  it('returns no rows for a select that matched nothing', async () => {
    rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[]' });
    await expect(db.query('select 1 where false')).resolves.toEqual([]);
  });
});

describe('rds-data driver: transactions', () => {
  it('begins, runs every statement with the transaction id, then commits', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock(:lock)', { lock: 42 });
      await tx.query('delete from checkouts');
      return 'done';
    });

    expect(result).toBe('done');
    const statement = { ...target, database: 'checkout', transactionId: TX };
    expect(sent()).toEqual([
      ['BeginTransactionCommand', { ...target, database: 'checkout' }],
      [
        'ExecuteStatementCommand',
        expect.objectContaining({
          ...statement,
          sql: 'select pg_advisory_xact_lock(:lock)',
          parameters: [{ name: 'lock', value: { longValue: 42 } }],
        }),
      ],
      [
        'ExecuteStatementCommand',
        expect.objectContaining({ ...statement, sql: 'delete from checkouts' }),
      ],
      ['CommitTransactionCommand', { ...target, transactionId: TX }],
    ]);
  });

  it('sends statements outside a transaction without a transaction id', async () => {
    await db.query('select 1');
    expect(executed()[0]).not.toHaveProperty('transactionId');
  });

  it('rolls back and rethrows the same error when the work throws', async () => {
    const failure = new Error('saga step refused');

    await expect(
      db.transaction(async (tx) => {
        await tx.query('delete from checkouts');
        throw failure;
      }),
    ).rejects.toBe(failure);

    expect(sent().map(([command]) => command)).toEqual([
      'BeginTransactionCommand',
      'ExecuteStatementCommand',
      'RollbackTransactionCommand',
    ]);
    expect(rds.commandCalls(RollbackTransactionCommand)[0]?.args[0].input).toEqual({
      ...target,
      transactionId: TX,
    });
  });

  it('rethrows the work error, not the rollback error, when the rollback fails too', async () => {
    rds.on(RollbackTransactionCommand).rejects(new Error('transaction already gone'));
    const failure = new Error('saga step refused');

    await expect(
      db.transaction(async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('rolls back when the commit fails, and maps its error', async () => {
    rds
      .on(CommitTransactionCommand)
      .rejects(new StatementTimeoutException({ ...metadata, message: 'timed out' }));

    await expect(db.transaction(async () => 'done')).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(rds.commandCalls(RollbackTransactionCommand)).toHaveLength(1);
  });

  it('maps a duplicate key inside a transaction to UniqueViolationError after rolling back', async () => {
    rds.on(ExecuteStatementCommand).rejects(duplicateKey());

    const error = await db
      .transaction((tx) => tx.query('insert into checkouts (id) values (:id::uuid)', { id: 'x' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ constraint: 'checkouts_idempotency_key' });
    expect(rds.commandCalls(RollbackTransactionCommand)).toHaveLength(1);
  });

  it('runs the migrations in one Data API transaction under the advisory lock', async () => {
    rds.on(ExecuteStatementCommand, { sql: 'select version from schema_migrations' }).resolves({
      formattedRecords: '[]',
    });

    const applied = await migrate(db);

    expect(applied).toEqual(migrations.map((m) => m.version));
    const statements = executed();
    expect(statements.every((s) => s.transactionId === TX)).toBe(true);
    expect(statements[0]).toMatchObject({
      // Cast to text: the lock function returns void, which the Data API refuses to return.
      sql: 'select pg_advisory_xact_lock(:lock)::text as locked',
      parameters: [{ name: 'lock', value: { longValue: 72_657_001 } }],
    });
    expect(statements.at(-1)).toMatchObject({
      sql: 'insert into schema_migrations (version) values (:version)',
      parameters: [{ name: 'version', value: { stringValue: migrations.at(-1)?.version } }],
    });
    expect(rds.commandCalls(CommitTransactionCommand)).toHaveLength(1);
  });
});

describe('rds-data driver: a cluster waking from zero capacity', () => {
  it.each([
    ['DatabaseResumingException', resuming],
    ['ThrottlingException', throttled],
    ['an HTTP 429', tooManyRequests],
  ])(
    'retries %s, which refused the call before it ran, and answers once it passes',
    async (_, refusal) => {
      rds
        .on(ExecuteStatementCommand)
        .rejectsOnce(refusal())
        .rejectsOnce(refusal())
        .resolves({ formattedRecords: '[{"ok":1}]' });

      await expect(db.query('select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
      expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(3);
    },
  );

  it('keeps asking a resuming cluster until its time budget, then gives up', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    // The waits pass on the clock at once, so four minutes of backoff take no time here.
    vi.mocked(sleep).mockImplementation(async (ms) => {
      vi.advanceTimersByTime(Number(ms));
    });
    try {
      rds.on(ExecuteStatementCommand).rejects(resuming());
      const patient = createRdsDataDatabase({
        clusterArn: CLUSTER,
        secretArn: SECRET,
        database: 'checkout',
        client,
        retry: { budgetMs: 240_000, baseDelayMs: 500, maxDelayMs: 5_000 },
      });

      await expect(patient.query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

      const waited = vi.mocked(sleep).mock.calls.reduce((sum, [ms]) => sum + Number(ms), 0);
      expect(waited).toBeLessThanOrEqual(240_000);
      expect(waited).toBeGreaterThan(230_000);
    } finally {
      vi.mocked(sleep).mockRestore();
      vi.useRealTimers();
    }
  });

  it('gives up after maxAttempts with DatabaseUnavailableError, keeping the cause', async () => {
    rds.on(ExecuteStatementCommand).rejects(resuming());

    const error = await db.query('select 1 as ok').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(DatabaseResumingException);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(4);
  });

  it('waits with capped exponential backoff and full jitter between attempts', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const patient = createRdsDataDatabase({
      clusterArn: CLUSTER,
      secretArn: SECRET,
      database: 'checkout',
      client,
      retry: { maxAttempts: 5, baseDelayMs: 4, maxDelayMs: 14 },
    });
    rds.on(ExecuteStatementCommand).rejects(resuming());

    await expect(patient.query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

    // Ceilings 4, 8, 16 → 14 (capped), 14 ms, each scaled by the random draw (here one half).
    expect(vi.mocked(sleep).mock.calls.map(([ms]) => ms)).toEqual([2, 4, 7, 7]);
  });

  it('retries BeginTransaction, which has not started anything yet', async () => {
    rds.on(BeginTransactionCommand).rejectsOnce(resuming()).resolves({ transactionId: TX });

    await expect(db.transaction(async () => 'done')).resolves.toBe('done');
    expect(rds.commandCalls(BeginTransactionCommand)).toHaveLength(2);
  });

  it('does not retry a statement inside a transaction: the resumed cluster lost it', async () => {
    rds.on(ExecuteStatementCommand).rejects(resuming());

    await expect(db.transaction((tx) => tx.query('delete from checkouts'))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
    expect(rds.commandCalls(RollbackTransactionCommand)).toHaveLength(1);
  });
});

describe('rds-data driver: errors', () => {
  it('maps a duplicate key to UniqueViolationError naming the constraint', async () => {
    rds.on(ExecuteStatementCommand).rejects(duplicateKey());

    const error = await db.query('insert into checkouts (id) values (1)').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(UniqueViolationError);
    expect(error).toMatchObject({ constraint: 'checkouts_idempotency_key' });
  });

  it('reads a unique violation from the SQLState the message ends with, whatever its wording', () => {
    const error = new DatabaseErrorException({
      ...metadata,
      message:
        'ERROR: doppelter Schlüsselwert verletzt Unique-Constraint »checkouts_pkey«; SQLState: 23505',
    });
    expect(mapRdsDataError(error)).toMatchObject({ name: 'UniqueViolationError' });
  });

  it('passes through a DatabaseErrorException with another SQLState', () => {
    const check = new DatabaseErrorException({
      ...metadata,
      message:
        'ERROR: new row for relation "checkouts" violates check constraint "checkouts_total_amount_check"; SQLState: 23514',
    });
    expect(mapRdsDataError(check)).toBe(check);
  });

  it('reads the duplicate key from a BadRequestException too (older Data API answers)', () => {
    const error = new BadRequestException({
      ...metadata,
      message: 'ERROR: duplicate key value violates unique constraint "checkouts_pkey"',
    });
    expect(mapRdsDataError(error)).toMatchObject({
      name: 'UniqueViolationError',
      constraint: 'checkouts_pkey',
    });
  });

  it.each([
    'StatementTimeoutException',
    'ServiceUnavailableError',
    'InternalServerErrorException',
    'DatabaseUnavailableException',
    'TimeoutError',
  ])('maps %s to DatabaseUnavailableError without sending the statement again', async (name) => {
    const cause = Object.assign(new Error('mocked'), { name });
    rds.on(ExecuteStatementCommand).rejects(cause);

    const error = await db.query('select 1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toBe(cause);
    // It may have come after the statement ran: sent again, a write could apply twice.
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  it('maps throttling that outlasts the retries to DatabaseUnavailableError', async () => {
    rds.on(ExecuteStatementCommand).rejects(throttled());

    await expect(db.query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(4);
  });

  it('maps a network failure reaching the Data API to DatabaseUnavailableError', async () => {
    const cause = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    rds.on(ExecuteStatementCommand).rejects(cause);

    await expect(db.query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });

  it('passes any other error through unchanged', async () => {
    const syntax = new DatabaseErrorException({
      ...metadata,
      message: 'ERROR: syntax error at or near "selec"\n  Position: 1; SQLState: 42601',
    });
    const forbidden = new ForbiddenException({ ...metadata, message: 'not authorized' });

    rds.on(ExecuteStatementCommand).rejectsOnce(syntax).rejectsOnce(forbidden);

    await expect(db.query('selec 1')).rejects.toBe(syntax);
    await expect(db.query('select 1')).rejects.toBe(forbidden);
  });
});

describe("rds-data driver: the checkout repository's own SQL", () => {
  const id = '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80';
  const checkout = newCheckout(sampleOrder(), id, new Date('2026-11-24T20:00:00.000Z'));
  const repository = createCheckoutRepository(db);
  const worker = 'request:req-1';

  /** The parameters of the `n`th statement sent, keyed by name. */
  const parametersOf = (n: number) =>
    Object.fromEntries((executed()[n]?.parameters ?? []).map(({ name, ...p }) => [name, p]));
  const firstParameters = () => parametersOf(0);
  /** The Data API's answer of one record: the stored checkout, with `extra` columns. */
  const answering = (extra: Record<string, unknown> = {}) => {
    const [row] = JSON.parse(fixture('select-checkout').formattedRecords ?? '[]');
    return { formattedRecords: JSON.stringify([{ ...row, ...extra }]) };
  };

  it('creates a checkout with UUID, DECIMAL, JSON and TIMESTAMP hints where its SQL casts', async () => {
    rds.on(ExecuteStatementCommand).resolves(fixture('insert-returning'));

    await repository.create(checkout, { leaseMs: 60_000, worker });

    expect(executed()[0]).toMatchObject({
      ...target,
      database: 'checkout',
      sql: expect.stringContaining('insert into checkouts'),
      formatRecordsAs: 'JSON',
    });
    const parameters = firstParameters();
    expect(parameters).toMatchObject({
      id: { typeHint: 'UUID', value: { stringValue: id } },
      total: { typeHint: 'DECIMAL', value: { stringValue: '349.70' } },
      items: {
        typeHint: 'JSON',
        value: {
          stringValue:
            '[{"product_id":"prod_001","quantity":2,"price":"99.90"},{"product_id":"prod_002","quantity":1,"price":"149.90"}]',
        },
      },
      address: {
        typeHint: 'JSON',
        value: { stringValue: JSON.stringify(sampleOrder().shippingAddress) },
      },
      now: { typeHint: 'TIMESTAMP', value: { stringValue: '2026-11-24 20:00:00.000' } },
      email: { value: { stringValue: 'customer@example.com' } },
      worker: { value: { stringValue: worker } },
    });
    expect(parameters.email).not.toHaveProperty('typeHint');
    expect(parameters.worker).not.toHaveProperty('typeHint');
  });

  it('gives every parameter its SQL casts to uuid, numeric, jsonb or timestamptz a type hint, in every statement', async () => {
    // One record that every statement can read: a checkout, its history, lease and counts.
    rds
      .on(ExecuteStatementCommand)
      .resolves(
        answering({ history: '[]', held: false, settle_tries: 1, unfinished: 1, oldest: null }),
      );
    const hints: Record<string, string> = {
      uuid: 'UUID',
      numeric: 'DECIMAL',
      jsonb: 'JSON',
      timestamptz: 'TIMESTAMP',
    };

    await repository.create(checkout, { leaseMs: 60_000, worker });
    await repository.takeOver(id, 60_000, worker);
    await repository.claimAbandoned(10, 60_000, 0, 'recovery:run-1');
    await repository.update(checkout, {
      status: 'completed',
      cause: 'order created',
      paymentId: 'pay-1',
      orderId: 'ord-1',
      undoFailures: ['release inventory'],
      response: { code: 201, body: '{"status":"completed"}' },
    });
    await repository.recordSettleTry(checkout, 'no answer');
    await repository.findById(id);
    await repository.history(id);
    await repository.list({ statuses: ['pending'], olderThanMs: 60_000, limit: 10 });
    await repository.backlog();
    await repository.takeForOperator(id, {
      leaseMs: 60_000,
      worker,
      reopen: false,
      settleDelayMs: 0,
    });

    const statements = executed();
    expect(statements).toHaveLength(11);
    for (const { sql = '', parameters = [] } of statements) {
      for (const [name, cast] of parameterCasts(sql)) {
        const parameter = parameters.find((p) => p.name === name);
        if (parameter?.value?.isNull) continue;
        expect(parameter?.typeHint, `:${name}::${cast}`).toBe(cast && hints[cast]);
      }
    }
  });

  it("sends an update's integer, boolean and absent values as Data API longs, booleans and NULLs", async () => {
    rds.on(ExecuteStatementCommand).resolves(fixture('insert-returning'));

    await repository.update(checkout, {
      status: 'completed',
      cause: 'order created',
      response: { code: 201, body: '{"status":"completed"}' },
    });

    expect(firstParameters()).toMatchObject({
      id: { typeHint: 'UUID', value: { stringValue: id } },
      attempt: { value: { longValue: 1 } },
      responseStatus: { value: { longValue: 201 } },
      final: { value: { booleanValue: true } },
      paymentId: { value: { isNull: true } },
      undoFailures: { value: { isNull: true } },
    });
  });

  it('reads a checkout back from the JSON records, money exact in cents', async () => {
    rds.on(ExecuteStatementCommand).resolves(fixture('select-checkout'));

    const found = await repository.findById(id);

    expect(found).toMatchObject({
      ...sampleOrder(),
      id,
      status: 'pending',
      totalCents: 34_970,
      paymentId: null,
      failure: null,
      compensationFrom: null,
      undoFailures: [],
      attempt: 1,
      createdAt: '2026-11-24T20:00:00.000Z',
      updatedAt: '2026-11-24T20:00:00.500Z',
    });
    expect(firstParameters()).toEqual({ id: { typeHint: 'UUID', value: { stringValue: id } } });
  });

  it('finds nothing when the Data API returns no records', async () => {
    rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[]' });
    await expect(repository.findById(id)).resolves.toBeUndefined();
  });

  it('appends the history entry in the statement that writes, its cause and worker plain strings', async () => {
    rds.on(ExecuteStatementCommand).resolves(answering());

    await repository.update(checkout, { status: 'payment_processed', cause: 'payment charged' });
    await repository.takeOver(id, 60_000, 'request:req-2');

    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(2);
    expect(executed()[0]?.sql).toMatch(/history = history \|\| jsonb_build_array\(/);
    expect(firstParameters()).toMatchObject({
      status: { value: { stringValue: 'payment_processed' } },
      cause: { value: { stringValue: 'payment charged' } },
    });
    expect(parametersOf(1)).toMatchObject({
      worker: { value: { stringValue: 'request:req-2' } },
      cause: { value: { stringValue: 'taken over' } },
    });
    expect(parametersOf(1).worker).not.toHaveProperty('typeHint');
  });

  it('reads a history from the JSON text the Data API returns, each time as an instant in UTC', async () => {
    const history = [
      {
        from: null,
        to: 'pending',
        cause: 'recorded',
        at: '2026-11-24T20:00:00.123456+00:00',
        by: worker,
      },
      {
        from: 'pending',
        to: 'failed',
        cause: 'refused',
        at: '2026-11-24T21:00:01.5+01:00',
        by: worker,
      },
    ];
    rds.on(ExecuteStatementCommand).resolves({
      formattedRecords: JSON.stringify([{ history: JSON.stringify(history) }]),
    });

    expect(await repository.history(id)).toEqual([
      { ...history[0], at: '2026-11-24T20:00:00.123Z' },
      { ...history[1], at: '2026-11-24T20:00:01.500Z' },
    ]);
  });

  it('lists with one parameter per status, an absent olderThanMs as NULL and the limit as a long', async () => {
    rds.on(ExecuteStatementCommand).resolves(answering());

    const listed = await repository.list({
      statuses: ['requires_attention', 'pending'],
      limit: 50,
    });

    expect(listed).toEqual({
      checkouts: [expect.objectContaining({ id, status: 'pending' })],
      unreadable: [],
    });
    expect(firstParameters()).toEqual({
      status0: { value: { stringValue: 'requires_attention' } },
      status1: { value: { stringValue: 'pending' } },
      olderThanMs: { value: { isNull: true } },
      limit: { value: { longValue: 50 } },
    });
  });

  it("reads the backlog's count and the oldest creation time, or none", async () => {
    rds
      .on(ExecuteStatementCommand)
      .resolvesOnce({
        formattedRecords:
          '[{"unfinished":3,"oldest":"2026-11-24T20:00:00.5+00:00","oldest_authorized":"2026-11-24T21:00:00+00:00","waiting":5,"oldest_waiting":"2026-11-24T22:00:00+00:00","past_expiry":2}]',
      })
      .resolvesOnce({
        formattedRecords:
          '[{"unfinished":0,"oldest":null,"oldest_authorized":null,"waiting":0,"oldest_waiting":null,"past_expiry":0}]',
      });

    expect(await repository.backlog()).toEqual({
      unfinished: 3,
      oldestUnfinishedAt: '2026-11-24T20:00:00.500Z',
      oldestAuthorizedAt: '2026-11-24T21:00:00.000Z',
      waiting: 5,
      oldestWaitingAt: '2026-11-24T22:00:00.000Z',
      waitingPastExpiry: 2,
    });
    expect(await repository.backlog()).toEqual({
      unfinished: 0,
      oldestUnfinishedAt: null,
      oldestAuthorizedAt: null,
      waiting: 0,
      oldestWaitingAt: null,
      waitingPastExpiry: 0,
    });
  });

  it('reopens for an operator with a read, then one update fenced on what it read', async () => {
    const givenUp = {
      from: 'compensating',
      to: 'requires_attention',
      cause: 'the refund kept failing',
      at: '2026-11-24T20:00:00+00:00',
      by: worker,
    };
    rds
      .on(ExecuteStatementCommand)
      .resolvesOnce(
        answering({
          status: 'requires_attention',
          compensation_from: 'payment_processed',
          history: JSON.stringify([givenUp]),
          held: false,
        }),
      )
      .resolvesOnce(answering({ status: 'compensating', attempts: 2 }));

    const result = await repository.takeForOperator(id, {
      leaseMs: 60_000,
      worker: 'operator:ana',
      reopen: true,
      settleDelayMs: 0,
    });

    expect(result).toEqual({
      taken: expect.objectContaining({ id, status: 'compensating', attempt: 2 }),
    });
    expect(executed()).toHaveLength(2);
    expect(parametersOf(1)).toMatchObject({
      id: { typeHint: 'UUID', value: { stringValue: id } },
      status: { value: { stringValue: 'compensating' } },
      seen: { value: { stringValue: 'requires_attention' } },
      attempt: { value: { longValue: 1 } },
      reopens: { value: { booleanValue: true } },
      worker: { value: { stringValue: 'operator:ana' } },
      cause: { value: { stringValue: 'reopened by operator' } },
    });
  });
});

describe('rds-data driver: lifecycle', () => {
  it('is what createDatabase opens for the rds-data configuration', async () => {
    rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[{"ok":1}]' });

    const opened = await createDatabase({
      driver: 'rds-data',
      clusterArn: CLUSTER,
      secretArn: SECRET,
      database: 'checkout',
      resumeBudgetMs: 20_000,
    });

    await expect(opened.query('select 1 as ok')).resolves.toEqual([{ ok: 1 }]);
    expect(executed()[0]).toMatchObject({ ...target, database: 'checkout', sql: 'select 1 as ok' });
    await opened.close();
  });

  it('creates its client with the SDK retries off: only the driver decides what is sent again', async () => {
    rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[]' });
    const own = createRdsDataDatabase({ clusterArn: CLUSTER, secretArn: SECRET, database: 'x' });

    await own.query('select 1');

    const sender = rds.call(0).thisValue as RDSDataClient;
    expect(sender).not.toBe(client);
    expect(await sender.config.maxAttempts()).toBe(1);
    await own.close();
  });

  it('destroys the client it created on close, but not one it was given', async () => {
    const destroy = vi.spyOn(RDSDataClient.prototype, 'destroy');
    const own = createRdsDataDatabase({ clusterArn: CLUSTER, secretArn: SECRET, database: 'x' });
    const given = createRdsDataDatabase({
      clusterArn: CLUSTER,
      secretArn: SECRET,
      database: 'x',
      client,
    });

    await given.close();
    expect(destroy).not.toHaveBeenCalled();
    await own.close();
    expect(destroy).toHaveBeenCalledTimes(1);
    destroy.mockRestore();
  });
});

describe('toDataApiTimestamp', () => {
  it.each([
    ['2026-11-24T20:00:00.000Z', '2026-11-24 20:00:00.000'],
    ['2026-11-24T20:00:00Z', '2026-11-24 20:00:00.000'],
    ['2026-11-24T21:00:00.125+01:00', '2026-11-24 20:00:00.125'],
    ['2026-11-24T20:00:00', '2026-11-24 20:00:00'],
    ['2026-11-24 20:00:00', '2026-11-24 20:00:00'],
  ])('writes %s as %s (UTC, no zone, space separator)', (input, expected) => {
    expect(toDataApiTimestamp(input)).toBe(expected);
  });
});

describe('parameterCasts', () => {
  it('lists each name once, in order of first use, with the cast that follows it', () => {
    expect(
      parameterCasts(
        'select id::text, :a, :b::uuid, :c::NUMERIC(12,2), :a::jsonb, :b where x = :c',
      ),
    ).toEqual(
      new Map([
        ['a', 'jsonb'],
        ['b', 'uuid'],
        ['c', 'numeric'],
      ]),
    );
  });

  it('finds nothing in a statement without placeholders', () => {
    expect(parameterCasts("select '{}'::jsonb, now()::text").size).toBe(0);
  });
});
