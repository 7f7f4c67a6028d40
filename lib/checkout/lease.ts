/**
 * Time kept back from the invocation's deadline to write the last recovery point, ask for a
 * recovery schedule (at most 1 s, `lib/clients/recovery-scheduler.ts`) and answer.
 */
const SAFETY_MS = 2_000;
/** Extra lease beyond the work budget, so no one takes over while a last write may land. */
const GRACE_MS = 2_000;
/**
 * Time kept back from the invocation's deadline after its last database call: a call cut short
 * there leaves the checkout at its recovery point, and the use case then asks for a recovery
 * schedule (at most 1 s) and answers (503) in the 500 ms left. The last recovery point written
 * after the work budget ends still gets SAFETY_MS − STORE_MARGIN_MS (500 ms).
 */
const STORE_MARGIN_MS = 1_500;

/** Who is working on a checkout, how long it may, and the signal that stops it in time. */
export interface WorkBudget {
  /** Named in the checkout's history: `request:<id>`, `recovery:<id>`, `operator:<name>`. */
  worker: string;
  /** The lease to hold: the work budget plus a grace period. */
  leaseMs: number;
  /** Aborts every downstream call (and its retries) when the work budget is spent. */
  signal: AbortSignal;
  /**
   * When (epoch ms) the invocation's database calls must have ended: a call still running then
   * is cut short and one not yet sent is not sent, either failing as the database being
   * unavailable (the checkout stays at its recovery point). Set so that the answer still comes
   * before the function's deadline. Undefined without one (local runs without a Lambda
   * context, tests, the CLI).
   */
  databaseDeadline?: number;
}

/**
 * When a lease taken at `now` under `budget` ends at the latest: where a recovery schedule for
 * a checkout this worker leaves unfinished may wake it.
 */
export function leaseEndsBy(now: Date, budget: WorkBudget): Date {
  return new Date(now.getTime() + budget.leaseMs);
}

/** When the database calls of an invocation with `remainingMs` left must have ended. */
export function databaseDeadline(remainingMs: number): number {
  return Date.now() + remainingMs - STORE_MARGIN_MS;
}

/**
 * The budget of one invocation: at most `maxLeaseMs`, and never past the function's own
 * deadline (Lambda's remaining time), so a checkout is never worked on by a function that is
 * about to be killed, and its lease expires soon after the work must have stopped. Its database
 * calls end `STORE_MARGIN_MS` before that deadline, so the function answers (503 at worst)
 * rather than being killed mid-call, which API Gateway would answer with a 502 or 504.
 */
export function workBudget(maxLeaseMs: number, remainingMs?: number, worker = 'local'): WorkBudget {
  const available = remainingMs === undefined ? maxLeaseMs : remainingMs - SAFETY_MS;
  const workMs = Math.max(500, Math.min(maxLeaseMs, available));
  return {
    worker,
    leaseMs: workMs + GRACE_MS,
    signal: AbortSignal.timeout(workMs),
    ...(remainingMs !== undefined && { databaseDeadline: databaseDeadline(remainingMs) }),
  };
}
