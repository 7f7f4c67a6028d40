import { setTimeout as sleep } from 'node:timers/promises';
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
  type TypeHint,
} from '@aws-sdk/client-rds-data';
import type { Database, Row, SqlParams, SqlValue } from '#lib/db/database.ts';
import { currentDeadline } from '#lib/db/deadline.ts';
import { parameterCasts } from '#lib/db/named-parameters.ts';
import { mapPostgresError } from '#lib/db/postgres-errors.ts';
import { DatabaseUnavailableError, UniqueViolationError } from '#lib/errors.ts';

/** How long to keep asking a cluster that is waking from zero capacity. */
export interface RdsDataRetryOptions {
  /**
   * How long to keep asking, in all: a resume takes ~15 s, longer after a day asleep. Minutes
   * for `migrate` (a deploy must not roll back because the cluster slept); for a request, what
   * fits its answer inside API Gateway's 29 s. Never past the invocation's deadline
   * (`lib/db/deadline.ts`), whichever comes first.
   */
  budgetMs: number;
  /** Calls in all, the first included (no limit but the budget by default). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RdsDataOptions {
  clusterArn: string;
  secretArn: string;
  database: string;
  /** A client to use instead of creating one; it stays the caller's to destroy. */
  client?: RDSDataClient;
  retry?: Partial<RdsDataRetryOptions>;
}

/**
 * The longest one call may take outside a transaction (and to begin or roll back one): every
 * runtime statement is a single-row read or write. Statements and the commit inside a
 * transaction (the migrations' DDL, which may rewrite a large table) wait as long as the Data
 * API lets them. Both stop at the invocation's deadline, if there is one.
 */
const CALL_TIMEOUT_MS = 10_000;

/** Backoff capped at 5 s with full jitter; asked again until the budget is spent. */
const DEFAULT_RETRY: RdsDataRetryOptions = {
  budgetMs: 20_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
};

/** The casts whose string value the Data API must be told the type of. */
const TYPE_HINTS = new Map<string, TypeHint>([
  ['numeric', 'DECIMAL'],
  ['decimal', 'DECIMAL'],
  ['uuid', 'UUID'],
  ['timestamptz', 'TIMESTAMP'],
  ['timestamp', 'TIMESTAMP'],
  ['date', 'DATE'],
  ['time', 'TIME'],
  ['jsonb', 'JSON'],
  ['json', 'JSON'],
]);

/**
 * Errors that mean "Aurora or the Data API could not answer now", not "the SQL was wrong". Most
 * of them may come after the statement ran (a timeout, a lost answer, a server error): they are
 * surfaced as DatabaseUnavailableError and never sent again, so no write is applied twice.
 */
const UNAVAILABLE = new Set([
  'DatabaseResumingException',
  'DatabaseUnavailableException',
  'StatementTimeoutException',
  'ServiceUnavailableError',
  'InternalServerErrorException',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
]);
/**
 * Errors that prove the statement never ran, and so may be sent again:
 * - DatabaseResumingException: "A request was cancelled because the Aurora Serverless v2 DB
 *   instance was paused" (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors);
 * - throttling: "The request was denied due to request throttling"
 *   (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonErrors.html).
 */
const NEVER_RAN = new Set([
  'DatabaseResumingException',
  'ThrottlingException',
  'TooManyRequestsException',
]);
const SQL_ERRORS = new Set(['BadRequestException', 'DatabaseErrorException']);
const DUPLICATE_KEY = /duplicate key value violates unique constraint "([^"]+)"/;
const SQL_STATE = /; SQLState: ([0-9A-Z]{5})\s*$/;

/**
 * The `rds-data` driver: Aurora PostgreSQL through the RDS Data API, so functions need no VPC
 * and no connection pool. The Data API binds `:name` natively; each parameter gets the type
 * hint its SQL cast asks for. Create it once per cold start: it holds one `RDSDataClient`.
 */
export function createRdsDataDatabase(options: RdsDataOptions): Database {
  // The SDK never retries (its default would resend a statement after a timeout or a 5xx,
  // which may come after it ran): this driver retries, and only what proves it did not run.
  // Nor is the SDK's `requestTimeout` the limit: without `throwOnRequestTimeout` it only logs
  // a warning. Each call is bounded here instead (`bounded`).
  const client = options.client ?? new RDSDataClient({ maxAttempts: 1 });
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const target = { resourceArn: options.clusterArn, secretArn: options.secretArn };

  const run = async <T extends Row>(sql: string, params?: SqlParams, transactionId?: string) => {
    const input: ExecuteStatementCommandInput = {
      ...target,
      database: options.database,
      sql,
      parameters: toSqlParameters(sql, params),
      formatRecordsAs: 'JSON',
      // STRING is the default; said out loud because money must never pass through a double.
      resultSetOptions: { decimalReturnType: 'STRING' },
      ...(transactionId && { transactionId }),
    };
    const send = () =>
      bounded(
        (abortSignal) => client.send(new ExecuteStatementCommand(input), { abortSignal }),
        transactionId ? Number.POSITIVE_INFINITY : CALL_TIMEOUT_MS,
      );
    try {
      // Inside a transaction a resume cannot be waited out: the cluster lost the transaction.
      const output = await (transactionId ? send() : retryWhileNeverRan(send, retry));
      return output.formattedRecords ? (JSON.parse(output.formattedRecords) as T[]) : [];
    } catch (error) {
      throw mapRdsDataError(error);
    }
  };

  return {
    query: (sql, params) => run(sql, params),
    async transaction(work) {
      let transactionId: string;
      try {
        const begin = { ...target, database: options.database };
        const begun = await retryWhileNeverRan(
          () =>
            bounded((abortSignal) =>
              client.send(new BeginTransactionCommand(begin), { abortSignal }),
            ),
          retry,
        );
        if (!begun.transactionId) throw new Error('BeginTransaction returned no transactionId');
        transactionId = begun.transactionId;
      } catch (error) {
        throw mapRdsDataError(error);
      }
      try {
        const result = await work({ query: (sql, params) => run(sql, params, transactionId) });
        const commit = new CommitTransactionCommand({ ...target, transactionId });
        await bounded(
          (abortSignal) => client.send(commit, { abortSignal }),
          Number.POSITIVE_INFINITY,
        );
        return result;
      } catch (error) {
        // The first error is the one worth reporting; a transaction whose rollback fails is ended
        // by the Data API itself once idle (3 minutes).
        const rollback = new RollbackTransactionCommand({ ...target, transactionId });
        await bounded((abortSignal) => client.send(rollback, { abortSignal })).catch(() => {});
        throw mapRdsDataError(error);
      }
    },
    async close() {
      if (!options.client) client.destroy();
    },
  };
}

/**
 * Builds the Data API parameters for the names the SQL uses, and only those: a value the SQL
 * does not reference is never sent. Hinted values travel as strings, as the Data API requires.
 */
export function toSqlParameters(sql: string, params: SqlParams = {}): SqlParameter[] {
  return [...parameterCasts(sql)].map(([name, cast]) => {
    if (!(name in params)) throw new Error(`missing SQL parameter :${name}`);
    const value = params[name] ?? null;
    const typeHint = cast === undefined ? undefined : TYPE_HINTS.get(cast);
    if (value === null) return { name, value: { isNull: true } };
    if (typeHint === 'TIMESTAMP') {
      return { name, typeHint, value: { stringValue: toDataApiTimestamp(String(value)) } };
    }
    if (typeHint) return { name, typeHint, value: { stringValue: String(value) } };
    return { name, value: toField(value) };
  });
}

function toField(value: Exclude<SqlValue, null>): SqlParameter['value'] {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { booleanValue: value };
  return Number.isSafeInteger(value) ? { longValue: value } : { doubleValue: value };
}

/**
 * The Data API reads TIMESTAMP as `YYYY-MM-DD HH:MM:SS[.FFF]` without a zone, in the session's
 * zone, which is UTC. An ISO 8601 instant (`…T20:00:00.000Z`, `+02:00`) is moved to UTC first.
 */
export function toDataApiTimestamp(value: string): string {
  if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const instant = new Date(value);
    if (!Number.isNaN(instant.getTime())) {
      return instant.toISOString().slice(0, 23).replace('T', ' ');
    }
  }
  return value.replace('T', ' ');
}

/**
 * A call this driver cut short (after `CALL_TIMEOUT_MS`, or at the invocation's deadline), or
 * did not send because the deadline had passed. Named like the SDK's own timeout, so it maps
 * the same way: the database is unavailable. A call cut short may have run, so it is never
 * sent again, and the checkout stays at its last recovery point for a retry or for recovery.
 */
class CallTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * Runs one Data API call for at most `capMs`, and never past the deadline of the work running
 * now: past it, the call is not sent. The timer aborts the request (closing its socket) and
 * rejects at once, whether or not the client honours the signal. One controller and one timer
 * per call, cleared when it ends: not `AbortSignal.timeout`/`AbortSignal.any`, whose inner
 * timeout signal Node 20 may garbage-collect before it fires (see service-http-client.ts).
 */
async function bounded<T>(
  call: (abortSignal?: AbortSignal) => Promise<T>,
  capMs = CALL_TIMEOUT_MS,
): Promise<T> {
  const deadline = currentDeadline();
  const leftMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
  if (leftMs <= 0) throw new CallTimeoutError('Data API call not sent: past the deadline');
  const timeoutMs = Math.min(capMs, leftMs);
  if (timeoutMs === Number.POSITIVE_INFINITY) return call();
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = timeoutMs < capMs ? 'at the deadline' : `after ${timeoutMs} ms`;
      const error = new CallTimeoutError(`Data API call cut short ${why}`);
      reject(error);
      abort.abort(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(abort.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `send` again while the Data API answers an error that proves the call did nothing
 * (NEVER_RAN: a cluster waking from zero capacity, throttling), with capped exponential backoff
 * and full jitter, so cold starts that meet the same paused cluster do not retry in step. Any
 * other error is thrown at once. It waits in all at most `retry.budgetMs`, and never sleeps
 * past the deadline of the work running now.
 */
async function retryWhileNeverRan<T>(send: () => Promise<T>, retry: RdsDataRetryOptions) {
  const started = Date.now();
  const deadline = currentDeadline() ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (!neverRan(error) || attempt >= retry.maxAttempts) throw error;
      const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.random() * ceiling;
      const wakesAt = Date.now() + delay;
      if (wakesAt - started > retry.budgetMs || wakesAt >= deadline) throw error;
      await sleep(delay);
    }
  }
}

function neverRan(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return NEVER_RAN.has(error.name) || status === 429;
}

/**
 * Maps a Data API error to the data layer's own: unavailable (retry later), a unique violation
 * (SQLSTATE 23505, which the Data API carries only at the end of the message, `; SQLState:
 * 23505`; an older answer without it is read by PostgreSQL's wording), or the network errors
 * every driver shares. Anything else passes through unchanged.
 */
export function mapRdsDataError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (UNAVAILABLE.has(error.name)) return new DatabaseUnavailableError({ cause: error });
  if (SQL_ERRORS.has(error.name)) {
    const state = SQL_STATE.exec(error.message)?.[1];
    const duplicate = DUPLICATE_KEY.exec(error.message);
    if (state === '23505' || (!state && duplicate)) {
      return new UniqueViolationError(duplicate?.[1], { cause: error });
    }
  }
  return mapPostgresError(error);
}
