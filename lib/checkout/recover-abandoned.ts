import { checkWaiting } from './awaiting-payment.ts';
import type { Checkout } from './checkout.ts';
import { leaseEndsBy, type WorkBudget } from './lease.ts';
import { LeaseLostError } from './ports.ts';
import { type RecoveryOptions, recoverCheckout } from './recovery.ts';
import type { SagaDeps } from './saga-transitions.ts';

export interface RecoveryReport {
  claimed: number;
  /** Final status (or `incomplete`: left for the next run) → count. */
  outcomes: Record<string, number>;
}

/**
 * Use case of the recovery function: claim the checkouts whose lease expired before they
 * reached a final state (skipping rows another worker holds) and drive each to one, batch
 * after batch while the run's budget lasts. A run its deadline cuts short asks for another
 * one (a recovery schedule) rather than leaving the rest to the next hourly sweep.
 */
export async function recoverAbandoned(
  deps: SagaDeps,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<RecoveryReport> {
  const outcomes: Record<string, number> = {};
  const count = (status: string, n = 1) => {
    outcomes[status] = (outcomes[status] ?? 0) + n;
  };
  let total = 0;
  let batchWasFull = true;
  let last: Checkout | undefined;
  while (batchWasFull && !budget.signal.aborted) {
    const { claimed, unreadable } = await deps.repository.claimAbandoned(
      options.batchSize,
      budget.leaseMs,
      options.settleDelayMs,
      budget.worker,
    );
    total += claimed.length + unreadable.length;
    last = claimed.at(-1) ?? last;
    batchWasFull = claimed.length + unreadable.length >= options.batchSize;
    for (const id of unreadable) {
      deps.logger.error('CHECKOUT REQUIRES ATTENTION: its row cannot be read', { checkout_id: id });
      deps.metrics.outcome('requires_attention');
    }
    if (unreadable.length > 0) count('unreadable', unreadable.length);
    for (const [index, checkout] of claimed.entries()) {
      if (budget.signal.aborted) {
        // The rest of the batch is claimed under this run's lease: wake recovery when it ends.
        await deps.scheduler.scheduleRecovery(checkout, leaseEndsBy(deps.clock.now(), budget));
        count('left_for_next_run', claimed.length - index);
        break;
      }
      count(await recoverOne(deps, checkout, options, budget));
    }
  }
  if (batchWasFull && budget.signal.aborted && last && !outcomes.left_for_next_run) {
    // More may be due than this run could claim: the next run need not wait for the sweep.
    // (Keyed to the last checkout claimed: a schedule it already has wakes the same run.)
    await deps.scheduler.scheduleRecovery(last, leaseEndsBy(deps.clock.now(), budget));
  }
  total += await sweepWaiting(deps, options, budget, count);
  if (total > 0) deps.logger.info('recovery run finished', { claimed: total, outcomes });
  await reportBacklog(deps);
  return { claimed: total, outcomes };
}

/**
 * The sweep of waiting and expired Pix and boleto checkouts whose next check is due: each is
 * looked up (a payment whose webhook never came, an expiry check due, a late payment), batch
 * after batch while the run's budget lasts. Counted as `waiting:<status>` (`moved` when it moved).
 */
async function sweepWaiting(
  deps: SagaDeps,
  options: RecoveryOptions,
  budget: WorkBudget,
  count: (status: string) => void,
): Promise<number> {
  let total = 0;
  let batchWasFull = true;
  while (batchWasFull && !budget.signal.aborted) {
    const due = await deps.repository.claimWaiting(
      options.batchSize,
      budget.leaseMs,
      budget.worker,
    );
    total += due.length;
    batchWasFull = due.length >= options.batchSize;
    for (const checkout of due) {
      count(
        await checkWaiting(deps, checkout, budget).then(
          ({ outcome, moved }) => `waiting:${outcome.checkout.status}${moved ? ':moved' : ''}`,
          (error: unknown) => failedOne(deps, checkout, error),
        ),
      );
    }
  }
  return total;
}

/** A checkout whose run threw: another worker took it over, or a bug (logged). */
function failedOne(deps: SagaDeps, checkout: Checkout, error: unknown): string {
  if (error instanceof LeaseLostError) return 'taken_over';
  deps.logger.error('recovery of a checkout failed', {
    checkout_id: checkout.id,
    error: error instanceof Error ? error.message : String(error),
  });
  return 'error';
}

/** Where one claimed checkout ended: its final status, `incomplete`, or why not. */
function recoverOne(
  deps: SagaDeps,
  checkout: Checkout,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<string> {
  return recoverCheckout(deps, checkout, options, budget).then(
    (outcome) => (outcome.kind === 'incomplete' ? 'incomplete' : outcome.checkout.status),
    (error: unknown) => failedOne(deps, checkout, error),
  );
}

/**
 * What is still unfinished after the run, for the oldest-unfinished alarm. Emitted on every
 * run, an empty backlog as 0, so the alarm sees the age fall back as well as rise.
 */
async function reportBacklog(deps: SagaDeps): Promise<void> {
  try {
    const backlog = await deps.repository.backlog();
    const ageSeconds = (at: string | null) =>
      at ? Math.max(0, Math.round((deps.clock.now().getTime() - Date.parse(at)) / 1000)) : 0;
    deps.metrics.backlog({
      unfinished: backlog.unfinished,
      oldestAgeSeconds: ageSeconds(backlog.oldestUnfinishedAt),
      oldestAuthorizationAgeSeconds: ageSeconds(backlog.oldestAuthorizedAt),
      waiting: backlog.waiting,
      oldestWaitingAgeSeconds: ageSeconds(backlog.oldestWaitingAt),
      waitingPastExpiry: backlog.waitingPastExpiry,
    });
  } catch (error) {
    // Best effort: the run's work is done and written. A missing point leaves the age alarm as
    // it was (missing data is ignored) until the next run reports; failing the run over it
    // would turn a metric into a recovery error (its alarm and its failure queue).
    deps.logger.warn('backlog not reported', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
