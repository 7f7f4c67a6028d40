import { setTimeout as sleep } from 'node:timers/promises';
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseResumingException,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
} from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { currentDeadline, withDeadline } from '#lib/db/deadline.ts';
import { createRdsDataDatabase } from '#lib/db/drivers/rds-data.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { CLUSTER, SECRET, TX } from './rds-data-fixtures.ts';

/*
 * The invocation's deadline (lib/db/deadline.ts) as the rds-data driver honours it: every call
 * ends by then (and by 10 s outside a transaction), none is sent after it, and a paused cluster
 * is waited for only until then. Whatever ends a call this way, the caller sees the database
 * as unavailable, as for a timeout: the statement may have run, and it is never sent again.
 */

// Records the backoff waits while still waiting them (a test may make them pass at once).
vi.mock('node:timers/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:timers/promises')>();
  return { ...real, setTimeout: vi.fn(real.setTimeout) };
});

const rds = mockClient(RDSDataClient);
const client = new RDSDataClient({ region: 'eu-west-1' });
const options = { clusterArn: CLUSTER, secretArn: SECRET, database: 'checkout', client };
const db = createRdsDataDatabase(options);

const resuming = () =>
  new DatabaseResumingException({
    $metadata: { httpStatusCode: 400 },
    message: 'The Aurora DB instance db-ABCD1234 is resuming after being auto-paused.',
  });
/** A Data API that never answers (the mock ignores the abort signal, as a stuck layer might). */
const never = () => new Promise<never>(() => {});
/** The options (with the abort signal) the driver gave its n-th call. */
const signalOf = (n: number) =>
  (rds.call(n).args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
/** Settles `promise` into what it resolved or rejected with, so a pending one can be observed. */
function track<T>(promise: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(state, { done: true, value }),
    (error: unknown) => Object.assign(state, { done: true, error }),
  );
  return state;
}

beforeEach(() => {
  rds.reset();
  rds.on(ExecuteStatementCommand).resolves({ formattedRecords: '[{"ok":1}]' });
  rds.on(BeginTransactionCommand).resolves({ transactionId: TX });
  rds.on(CommitTransactionCommand).resolves({ transactionStatus: 'Transaction Committed' });
  rds.on(RollbackTransactionCommand).resolves({ transactionStatus: 'Rollback Complete' });
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.mocked(sleep).mockRestore();
});

afterAll(() => rds.restore());

describe('the deadline scope', () => {
  it('is absent outside any scope, and set inside one, through awaits', async () => {
    expect(currentDeadline()).toBeUndefined();
    await withDeadline(1_000, async () => {
      await Promise.resolve();
      expect(currentDeadline()).toBe(1_000);
    });
    expect(currentDeadline()).toBeUndefined();
  });

  it('only ever brings an outer deadline closer, and an undefined one changes nothing', () => {
    withDeadline(1_000, () => {
      expect(withDeadline(5_000, currentDeadline)).toBe(1_000);
      expect(withDeadline(500, currentDeadline)).toBe(500);
      expect(withDeadline(undefined, currentDeadline)).toBe(1_000);
    });
  });
});

describe('rds-data driver under a deadline', () => {
  it('aborts a call that never answers at the deadline, as the database being unavailable', async () => {
    rds.on(ExecuteStatementCommand).callsFake(never);
    const started = performance.now();

    const error = await withDeadline(Date.now() + 300, () => db.query('select 1')).catch(
      (e: unknown) => e,
    );

    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000); // the call itself never ends: only the deadline ends it
    // The request itself was aborted (its socket closed), and it is never sent again.
    expect(signalOf(0)?.abortSignal?.aborted).toBe(true);
    expect(rds.commandCalls(ExecuteStatementCommand)).toHaveLength(1);
  });

  it('cuts a call short at 10 s, or at the deadline when that comes first', async () => {
    vi.useFakeTimers();
    rds.on(ExecuteStatementCommand).callsFake(never);

    const far = track(withDeadline(Date.now() + 60_000, () => db.query('select 1')));
    const near = track(withDeadline(Date.now() + 3_000, () => db.query('select 2')));
    await vi.advanceTimersByTimeAsync(2_999);
    expect(near.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(near.error).toBeInstanceOf(DatabaseUnavailableError);
    await vi.advanceTimersByTimeAsync(6_999);
    expect(far.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(far.error).toBeInstanceOf(DatabaseUnavailableError);
  });

  it('sends nothing once the deadline has passed: no statement, no transaction', async () => {
    const past = Date.now() - 1;

    await expect(withDeadline(past, () => db.query('select 1'))).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
    await expect(
      withDeadline(past, () => db.transaction((tx) => tx.query('select 1'))),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(rds.calls()).toHaveLength(0);
  });

  it('answers as usual before the deadline, giving each call a signal to abort it by', async () => {
    await expect(
      withDeadline(Date.now() + 5_000, () => db.query('select 1 as ok')),
    ).resolves.toEqual([{ ok: 1 }]);
    expect(signalOf(0)?.abortSignal?.aborted).toBe(false);
  });

  it('stops a statement inside a transaction at the deadline, and commits nothing', async () => {
    rds.on(ExecuteStatementCommand).callsFake(never);

    const work = withDeadline(Date.now() + 200, () =>
      db.transaction((tx) => tx.query('alter table checkouts add column x int')),
    );

    await expect(work).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(rds.commandCalls(CommitTransactionCommand)).toHaveLength(0);
  });
});

describe('rds-data driver under a deadline: a cluster waking from zero capacity', () => {
  /** Every call refused as resuming; the backoff's waits pass on the clock at once. */
  function pausedCluster() {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    vi.mocked(sleep).mockImplementation(async (ms) => {
      vi.advanceTimersByTime(Number(ms));
    });
    const sentAt: number[] = [];
    rds.on(ExecuteStatementCommand).callsFake(() => {
      sentAt.push(Date.now());
      throw resuming();
    });
    const waited = () => vi.mocked(sleep).mock.calls.reduce((sum, [ms]) => sum + Number(ms), 0);
    return { sentAt, waited };
  }
  const patient = () => createRdsDataDatabase({ ...options, retry: { budgetMs: 20_000 } });

  it('stops waiting at the deadline rather than at its 20 s budget', async () => {
    const { sentAt, waited } = pausedCluster();
    const start = Date.now();
    const deadline = start + 5_000;

    const error = await withDeadline(deadline, () => patient().query('select 1')).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(DatabaseResumingException);
    // Waits of 250, 500, 1000 and 2000 ms (half of each ceiling); the next, 2.5 s, would end
    // past the deadline, so the loop stops there instead of sleeping into it.
    expect(waited()).toBe(3_750);
    expect(sentAt.every((at) => at < deadline)).toBe(true);
    expect(sentAt).toHaveLength(5);
  });

  it('waits its whole 20 s budget without a deadline, as before', async () => {
    const { sentAt, waited } = pausedCluster();

    await expect(patient().query('select 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);

    // 3750 ms, then 2.5 s at a time (the 5 s cap, halved) while it fits in 20 s.
    expect(waited()).toBe(18_750);
    expect(sentAt).toHaveLength(11);
  });

  it('keeps the budget when it is the shorter of the two', async () => {
    const { waited } = pausedCluster();

    await expect(
      withDeadline(Date.now() + 240_000, () => patient().query('select 1')),
    ).rejects.toBeInstanceOf(DatabaseUnavailableError);

    expect(waited()).toBe(18_750);
  });
});
