import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { withDeadline } from '#lib/db/deadline.ts';
import { createRdsDataDatabase } from '#lib/db/drivers/rds-data.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { sdkOnly, setEnvironment } from '../support/data-api-double/environment.ts';
import { startDataApiDouble } from '../support/data-api-double/server.ts';

/*
 * The invocation's deadline, honoured by the `rds-data` driver with the real SDK client over
 * HTTP, against the strict Data API double (which runs each statement on PostgreSQL): a
 * statement still running at the deadline is cut short, and a paused cluster is waited for only
 * until then. Either way the caller sees the database as unavailable, in time to answer.
 */
const double = await startDataApiDouble();
const restoreEnvironment = setEnvironment(sdkOnly(double.environment()));
const { clusterArn, secretArn, database } = double;
const db = createRdsDataDatabase({ clusterArn, secretArn, database });
afterAll(async () => {
  await db.close();
  restoreEnvironment();
  await double.stop();
});

beforeEach(() => {
  double.clearFaults();
  double.calls.length = 0;
});

/** Runs `work` under a deadline `ms` from now; what it threw (or undefined) and how long it took. */
async function underDeadline(ms: number, work: () => Promise<unknown>) {
  const started = performance.now();
  const error = await withDeadline(Date.now() + ms, work).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, elapsed: performance.now() - started };
}

describe('rds-data against the Data API double, under a deadline', () => {
  it('cuts a statement still running at the deadline short, as the database being unavailable', async () => {
    // pg_sleep returns void, which the Data API refuses to return: hence the cast.
    const { error, elapsed } = await underDeadline(1_000, () =>
      db.query('select pg_sleep(10)::text as slept'),
    );

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(6_000); // far from the statement's own 10 s
    // Sent once, never again: it may have run.
    expect(double.calls.filter((c) => c.sql?.includes('pg_sleep'))).toHaveLength(1);
  });

  it('waits for a resuming cluster no longer than the deadline, not for its 20 s budget', async () => {
    double.inject({ error: 'DatabaseResumingException', times: 1_000 });

    const { error, elapsed } = await underDeadline(1_500, () => db.query('select 1 as ok'));

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ name: 'DatabaseResumingException' });
    expect(elapsed).toBeLessThan(10_000); // far from the 20 s resume budget
    expect(double.calls.length).toBeGreaterThan(1);
  });

  it('sends nothing once the deadline has passed', async () => {
    const { error } = await underDeadline(-1, () => db.query('select 1 as ok'));

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(double.calls).toHaveLength(0);
  });

  it('answers as usual before the deadline', async () => {
    const { error } = await underDeadline(5_000, () => db.query('select 1 as ok'));

    expect(error).toBeUndefined();
    expect(double.calls).toHaveLength(1);
  });
});
