import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createRdsDataDatabase } from '#lib/db/drivers/rds-data.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { sdkOnly, setEnvironment } from '../support/data-api-double/environment.ts';
import type { DataApiErrorType } from '../support/data-api-double/errors.ts';
import { startDataApiDouble } from '../support/data-api-double/server.ts';

/*
 * Data API retries never apply a statement twice: the `rds-data` driver, with the SDK client it
 * creates itself, against the Data API double, which runs each statement on PostgreSQL and can
 * then answer an error as if the answer was lost.
 */
const double = await startDataApiDouble();
const restoreEnvironment = setEnvironment(sdkOnly(double.environment()));
const { clusterArn, secretArn, database } = double;
const db = createRdsDataDatabase({
  clusterArn,
  secretArn,
  database,
  retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
});
afterAll(async () => {
  await db.close();
  restoreEnvironment();
  await double.stop();
});
await double.query('create table ledger (id serial primary key, note text not null)');

beforeEach(async () => {
  double.clearFaults();
  await double.query('truncate ledger');
});

const WRITE = 'insert into ledger (note) values (:note)';
const write = () => db.query(WRITE, { note: 'paid' });
const ledger = async () => (await double.query('select note from ledger')).map((r) => r.note);
/** The ExecuteStatement calls of the write, each with the error it got (if any). */
const writesSent = () => double.calls.filter((c) => c.sql === WRITE).map((c) => c.error ?? 'ok');

/** Errors the service may answer after the statement ran (or with no way to tell). */
const AFTER_RUNNING: DataApiErrorType[] = [
  'InternalServerErrorException',
  'ServiceUnavailableError',
  'DatabaseUnavailableException',
  'StatementTimeoutException',
];

describe('rds-data retries against the Data API double', () => {
  it.each(AFTER_RUNNING)(
    'surfaces %s after the statement ran as DatabaseUnavailableError, without sending it again',
    async (error) => {
      double.calls.length = 0;
      double.inject({ error, afterExecuting: true, sql: /^insert into ledger/ });

      await expect(write()).rejects.toBeInstanceOf(DatabaseUnavailableError);

      expect(writesSent()).toEqual([error]);
      expect(await ledger()).toEqual(['paid']);
    },
  );

  it("applies the write twice with the SDK's default retries: why the driver turns them off", async () => {
    double.calls.length = 0;
    double.inject({ error: 'InternalServerErrorException', afterExecuting: true, sql: /^insert/ });
    const defaults = new RDSDataClient({});

    await defaults.send(
      new ExecuteStatementCommand({
        resourceArn: clusterArn,
        secretArn,
        database,
        sql: WRITE,
        parameters: [{ name: 'note', value: { stringValue: 'paid' } }],
      }),
    );
    defaults.destroy();

    expect(writesSent()).toEqual(['InternalServerErrorException', 'ok']);
    expect(await ledger()).toEqual(['paid', 'paid']);
  });

  it.each<DataApiErrorType>(['DatabaseResumingException', 'ThrottlingException'])(
    'sends the statement again after %s, which refused it before it ran: written once',
    async (error) => {
      double.calls.length = 0;
      double.inject({ error, times: 2, sql: /^insert into ledger/ });

      await expect(write()).resolves.toEqual([]);

      expect(writesSent()).toEqual([error, error, 'ok']);
      expect(await ledger()).toEqual(['paid']);
    },
  );

  it('gives up on a resume inside a transaction: rolled back, nothing written, nothing resent', async () => {
    double.calls.length = 0;
    double.inject({ error: 'DatabaseResumingException', sql: /^insert into ledger/ });

    await expect(
      db.transaction(async (tx) => {
        await tx.query(WRITE, { note: 'first' });
        await tx.query(WRITE, { note: 'second' });
      }),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);

    expect(double.calls.map((c) => c.operation)).toEqual([
      'BeginTransaction',
      'ExecuteStatement',
      'RollbackTransaction',
    ]);
    expect(await ledger()).toEqual([]);
  });

  it('does not commit twice when the commit answer is lost', async () => {
    double.calls.length = 0;
    double.inject({
      error: 'InternalServerErrorException',
      afterExecuting: true,
      operation: 'CommitTransaction',
    });

    await expect(db.transaction((tx) => tx.query(WRITE, { note: 'paid' }))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );

    expect(double.calls.filter((c) => c.operation === 'CommitTransaction')).toHaveLength(1);
    expect(await ledger()).toEqual(['paid']);
  });
});
