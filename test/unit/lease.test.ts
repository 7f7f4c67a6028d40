import { afterEach, describe, expect, it, vi } from 'vitest';
import { workBudget } from '#lib/checkout/lease.ts';

/** The checkout function's timeout (`CHECKOUT_TIMEOUT` in infra/checkout-stack.ts). */
const CHECKOUT_TIMEOUT_MS = 25_000;
/** The longest the use case then waits for a recovery schedule (recovery-scheduler.ts). */
const SCHEDULE_MS = 1_000;

afterEach(() => vi.useRealTimers());

describe('workBudget', () => {
  it('ends the database calls 1.5 s before the invocation’s deadline', () => {
    vi.useFakeTimers({ now: 1_000_000 });

    const budget = workBudget(60_000, 25_000, 'request:r1');

    expect(budget.databaseDeadline).toBe(1_000_000 + 25_000 - 1_500);
  });

  it('leaves the checkout function time to answer after its last database call', () => {
    vi.useFakeTimers({ now: 0 });
    // Invoked with its whole timeout left: the least it could be left is what follows.
    const budget = workBudget(60_000, CHECKOUT_TIMEOUT_MS, 'request:r1');
    const workEndsAt = budget.leaseMs - 2_000; // the lease is the work budget plus 2 s
    const deadline = budget.databaseDeadline ?? Number.POSITIVE_INFINITY;

    // A call cut short at the deadline, then the recovery schedule, still leave 500 ms to
    // answer before the function is killed (which API Gateway would turn into a 502).
    expect(deadline + SCHEDULE_MS).toBeLessThanOrEqual(CHECKOUT_TIMEOUT_MS - 500);
    // The last recovery point written as the work budget ends still gets 500 ms.
    expect(deadline - workEndsAt).toBe(500);
    // No database call outlives the lease: nobody takes the checkout over while one may land.
    expect(deadline).toBeLessThan(budget.leaseMs);
  });

  it('sets no database deadline without a function deadline (local runs, tests, the CLI)', () => {
    expect(workBudget(20_000).databaseDeadline).toBeUndefined();
    expect(workBudget(20_000, undefined, 'recovery:test').databaseDeadline).toBeUndefined();
  });

  it('keeps the database deadline on the function’s deadline when the lease is shorter', () => {
    vi.useFakeTimers({ now: 0 });

    const budget = workBudget(60_000, 90_000, 'recovery:r1');

    expect(budget.leaseMs).toBe(62_000);
    expect(budget.databaseDeadline).toBe(88_500);
  });

  it('puts the deadline in the past when the function has almost no time left: nothing is sent', () => {
    vi.useFakeTimers({ now: 0 });

    expect(workBudget(60_000, 1_000).databaseDeadline).toBe(-500);
  });
});
