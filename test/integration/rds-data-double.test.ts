import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { startDataApiDouble } from '../support/data-api-double/server.ts';

/*
 * The Data API double's own rules, seen through the real SDK client: what the service refuses,
 * the double refuses, with the exception the SDK raises for the service. Each rule cites its
 * documentation where the double enforces it (test/support/data-api-double/).
 */
const double = await startDataApiDouble();
const client = new RDSDataClient({
  endpoint: double.endpoint,
  region: double.region,
  credentials: { accessKeyId: 'AKIADATAAPIDOUBLE000', secretAccessKey: 'not-a-secret' },
  maxAttempts: 1,
});
const target = { resourceArn: double.clusterArn, secretArn: double.secretArn };
afterAll(async () => {
  client.destroy();
  await double.stop();
});
await double.query(`create type mood as enum ('calm', 'busy')`);
await double.query('create table notes (id uuid primary key, body text, mood mood)');

type Statement = Omit<
  ConstructorParameters<typeof ExecuteStatementCommand>[0],
  'resourceArn' | 'secretArn'
>;
type SqlParameter = NonNullable<Statement['parameters']>[number];
const run = (statement: Statement) =>
  client.send(
    new ExecuteStatementCommand({
      ...target,
      database: double.database,
      formatRecordsAs: 'JSON',
      ...statement,
    }),
  );
const records = async (sql: string, parameters: SqlParameter[] = []) =>
  JSON.parse((await run({ sql, parameters })).formattedRecords ?? 'null');
/** The exception's name and message, as the SDK raised it. */
const failure = (statement: Statement) =>
  run(statement).then(
    () => 'succeeded',
    (error: Error) => `${error.name}: ${error.message}`,
  );
const ID = '7d3f0c9e-2b8a-4f1e-9c55-3a1d2e4b6f80';

describe('the Data API double: results', () => {
  it.each([
    ['void', 'select pg_advisory_xact_lock(1)'],
    ['regclass', `select 'notes'::regclass`],
    ['regtype', `select 'text'::regtype`],
    ['interval', `select interval '1 day'`],
    ['oid', 'select 1::oid'],
  ])('refuses a result of type %s with UnsupportedResultException', async (type, sql) => {
    expect(await failure({ sql })).toBe(
      `UnsupportedResultException: The result contains the unsupported data type ${type}.`,
    );
  });

  it('refuses a multidimensional array', async () => {
    expect(await failure({ sql: 'select array[[1, 2], [3, 4]] as grid' })).toBe(
      'UnsupportedResultException: The result contains a multidimensional array.',
    );
  });

  it('returns formattedRecords with the documented JSON mapping, decimals as strings', async () => {
    const output = await run({
      sql: `select 1::int2 as small, 9007199254740993::int8 as big, 1.5::float8 as ratio,
          349.700::numeric(15, 3) as total, true as yes, 'calm'::mood as mood,
          '${ID}'::uuid as id, '{"a": 1}'::jsonb as doc, 'BRL'::char(3) as currency,
          '2026-11-24 21:00:00.5+01'::timestamptz as at, '2026-11-24'::date as day,
          '\\x0102'::bytea as bytes, array['a', null] as list, null::text as nothing`,
      resultSetOptions: { decimalReturnType: 'STRING' },
    });

    expect(output.records).toBeUndefined();
    expect(output.columnMetadata).toBeUndefined();
    expect(output.formattedRecords).toBe(
      `[{"small":1,"big":9007199254740993,"ratio":1.5,"total":"349.700","yes":true,"mood":"calm",` +
        `"id":"${ID}","doc":"{\\"a\\": 1}","currency":"BRL","at":"2026-11-24 20:00:00.5",` +
        `"day":"2026-11-24","bytes":"AQI=","list":["a",null],"nothing":null}]`,
    );
  });

  it('returns decimals as numbers with DOUBLE_OR_LONG, and longs as strings with STRING', async () => {
    const output = await run({
      sql: 'select 349.70::numeric as total, 42::int8 as n',
      resultSetOptions: { decimalReturnType: 'DOUBLE_OR_LONG', longReturnType: 'STRING' },
    });
    expect(output.formattedRecords).toBe('[{"total":349.70,"n":"42"}]');
  });

  it('returns no records for a write, and counts what it wrote', async () => {
    const output = await run({
      sql: 'insert into notes (id, body) values (:id::uuid, :body)',
      parameters: [
        { name: 'id', typeHint: 'UUID', value: { stringValue: ID } },
        { name: 'body', value: { stringValue: 'hello' } },
      ],
    });
    expect(output).toMatchObject({ numberOfRecordsUpdated: 1 });
    expect(output.formattedRecords).toBeUndefined();
    await double.query('truncate notes');
  });
});

describe('the Data API double: parameters', () => {
  it('binds an unhinted string as varchar: comparing it with a uuid fails as on the service', async () => {
    expect(
      await failure({
        sql: 'select id from notes where id = :id',
        parameters: [{ name: 'id', value: { stringValue: ID } }],
      }),
    ).toMatch(
      /^DatabaseErrorException: ERROR: operator does not exist: uuid = character varying\n/,
    );
    expect(
      await records('select :id::uuid as id', [{ name: 'id', value: { stringValue: ID } }]),
    ).toEqual([{ id: ID }]);
  });

  it('honours type hints: the value is sent as that type', async () => {
    const typed = await records(
      `select pg_typeof(:id)::text as id, pg_typeof(:total)::text as total,
         pg_typeof(:at)::text as at, pg_typeof(:day)::text as day, pg_typeof(:time)::text as time,
         pg_typeof(:doc)::text as doc, pg_typeof(:n)::text as n, pg_typeof(:x)::text as x,
         pg_typeof(:yes)::text as yes, pg_typeof(:s)::text as s`,
      [
        { name: 'id', typeHint: 'UUID', value: { stringValue: ID } },
        { name: 'total', typeHint: 'DECIMAL', value: { stringValue: '349.70' } },
        { name: 'at', typeHint: 'TIMESTAMP', value: { stringValue: '2026-11-24 20:00:00.125' } },
        { name: 'day', typeHint: 'DATE', value: { stringValue: '2026-11-24' } },
        { name: 'time', typeHint: 'TIME', value: { stringValue: '20:00:00' } },
        { name: 'doc', typeHint: 'JSON', value: { stringValue: '{"a":1}' } },
        { name: 'n', value: { longValue: 3 } },
        { name: 'x', value: { doubleValue: 0.5 } },
        { name: 'yes', value: { booleanValue: true } },
        { name: 's', value: { stringValue: 'text' } },
      ],
    );
    expect(typed).toEqual([
      {
        id: 'uuid',
        total: 'numeric',
        at: 'timestamp without time zone',
        day: 'date',
        time: 'time without time zone',
        doc: 'json',
        n: 'bigint',
        x: 'double precision',
        yes: 'boolean',
        s: 'character varying',
      },
    ]);
  });

  it.each([
    ['TIMESTAMP', '2026-11-24T20:00:00.000Z'],
    ['TIMESTAMP', '2026-11-24 20:00:00.123456'],
    ['DATE', '24/11/2026'],
    ['TIME', '8:00'],
    ['UUID', 'not-a-uuid'],
    ['DECIMAL', '1,5'],
  ] as const)('refuses a %s hint on %s, outside its documented format', async (typeHint, value) => {
    expect(
      await failure({
        sql: 'select :v::text as v',
        parameters: [{ name: 'v', typeHint, value: { stringValue: value } }],
      }),
    ).toMatch(/^BadRequestException: Parameter "v" with type hint/);
  });

  it('refuses array parameters, and a placeholder without a value', async () => {
    expect(
      await failure({
        sql: 'select :ids as ids',
        parameters: [{ name: 'ids', value: { arrayValue: { longValues: [1, 2] } } }],
      }),
    ).toBe('BadRequestException: Array parameters are not supported.');
    expect(await failure({ sql: 'select :missing as m' })).toBe(
      'BadRequestException: No value specified for parameter: missing',
    );
  });

  it('leaves casts, quoted text and comments alone', async () => {
    expect(
      await records(
        `select ':not'::text as a /* :nor */, "b:c" :: text as b -- :neither
        , :x::int as x from (select 'q' as "b:c") t`,
        [{ name: 'x', value: { longValue: 7 } }],
      ),
    ).toEqual([{ a: ':not', b: 'q', x: 7 }]);
  });
});

describe('the Data API double: statements and errors', () => {
  it('reports a PostgreSQL error as DatabaseErrorException ending with its SQLState', async () => {
    await double.query(`insert into notes (id) values ('${ID}')`);
    expect(
      await failure({
        sql: 'insert into notes (id) values (:id::uuid)',
        parameters: [{ name: 'id', value: { stringValue: ID } }],
      }),
    ).toBe(
      'DatabaseErrorException: ERROR: duplicate key value violates unique constraint "notes_pkey"\n' +
        `  Detail: Key (id)=(${ID}) already exists.; SQLState: 23505`,
    );
    await double.query('truncate notes');
  });

  it('runs one statement per call', async () => {
    expect(await failure({ sql: 'select 1; select 2' })).toMatch(
      /^DatabaseErrorException: ERROR: cannot insert multiple commands into a prepared statement; SQLState: 42601$/,
    );
  });

  it('refuses another cluster, another database and the schema parameter', async () => {
    const otherCluster = `${double.clusterArn}-other`;
    await expect(
      client.send(
        new ExecuteStatementCommand({ ...target, resourceArn: otherCluster, sql: 'select 1' }),
      ),
    ).rejects.toMatchObject({ name: 'HttpEndpointNotEnabledException' });
    expect(await failure({ sql: 'select 1', database: 'other' })).toMatch(
      /^DatabaseErrorException: FATAL: database "other" does not exist; SQLState: 3D000$/,
    );
    expect(await failure({ sql: 'select 1', schema: 'public' })).toMatch(/^BadRequestException/);
  });

  it('answers an injected DatabaseResumingException for the next calls, then runs them', async () => {
    double.inject({ error: 'DatabaseResumingException', times: 2 });
    const resuming = 'DatabaseResumingException: The Aurora DB instance';
    expect(await failure({ sql: 'select 1 as ok' })).toMatch(new RegExp(`^${resuming}`));
    expect(await failure({ sql: 'select 1 as ok' })).toMatch(new RegExp(`^${resuming}`));
    expect(await records('select 1 as ok')).toEqual([{ ok: 1 }]);
  });
});

describe('the Data API double: transactions', () => {
  const begin = async () =>
    String(
      (await client.send(new BeginTransactionCommand({ ...target, database: double.database })))
        .transactionId,
    );
  const end = (transactionId: string, commit: boolean) =>
    client.send(
      commit
        ? new CommitTransactionCommand({ ...target, transactionId })
        : new RollbackTransactionCommand({ ...target, transactionId }),
    );
  const backend = async (transactionId?: string) =>
    JSON.parse(
      (
        await run({
          sql: 'select pg_backend_pid() as pid',
          ...(transactionId && { transactionId }),
        })
      ).formattedRecords ?? '[]',
    )[0].pid;

  it('pins a transaction to one connection, invisible to others until it commits', async () => {
    const transactionId = await begin();
    const pid = await backend(transactionId);
    await run({
      sql: 'insert into notes (id) values (:id::uuid)',
      parameters: [{ name: 'id', typeHint: 'UUID', value: { stringValue: ID } }],
      transactionId,
    });

    expect(await backend(transactionId)).toBe(pid);
    expect(await records('select count(*) as n from notes')).toEqual([{ n: 0 }]);
    await expect(end(transactionId, true)).resolves.toMatchObject({
      transactionStatus: 'Transaction Committed',
    });
    expect(await records('select count(*) as n from notes')).toEqual([{ n: 1 }]);
    await double.query('truncate notes');
  });

  it('refuses a second statement while the transaction still runs one', async () => {
    const transactionId = await begin();
    const slow = failure({ sql: 'select pg_sleep(2)::text as slept', transactionId });
    await vi.waitFor(
      async () => {
        const running = await double.query(
          `select pid from pg_stat_activity
           where query like 'select pg_sleep(2)%' and pid <> pg_backend_pid()`,
        );
        expect(running).toHaveLength(1);
      },
      { timeout: 10_000, interval: 10 },
    );
    const second = await failure({ sql: 'select 1', transactionId });
    expect([await slow, second]).toEqual([
      'succeeded',
      'DatabaseErrorException: Transaction is still running a query',
    ]);
    await expect(end(transactionId, false)).resolves.toMatchObject({
      transactionStatus: 'Rollback Complete',
    });
  });

  it('ends a transaction on an error: later calls with its id are not found', async () => {
    const transactionId = await begin();
    expect(await failure({ sql: 'select 1/0 as x', transactionId })).toMatch(/SQLState: 22012$/);
    await expect(end(transactionId, true)).rejects.toMatchObject({
      name: 'TransactionNotFoundException',
      message: `Transaction ${transactionId} is not found`,
    });
  });
});
