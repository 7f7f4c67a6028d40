import type { WorkBudget } from './lease.ts';
import { LeaseLostError } from './ports.ts';
import { type RecoveryOptions, recoverCheckout } from './recovery.ts';
import type { SagaDeps } from './saga.ts';

export interface RecoveryReport {
  claimed: number;
  /** Final status (or `incomplete`: left for the next run) → count. */
  outcomes: Record<string, number>;
}

/**
 * Use case of the recovery function: claim the checkouts whose lease expired before they
 * reached a final state (skipping rows another worker holds) and drive each to one.
 */
export async function recoverAbandoned(
  deps: SagaDeps,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<RecoveryReport> {
  const { claimed, unreadable } = await deps.repository.claimAbandoned(
    options.batchSize,
    budget.leaseMs,
    options.settleDelayMs,
    budget.worker,
  );
  const outcomes: Record<string, number> = {};
  for (const id of unreadable) {
    deps.logger.error('CHECKOUT REQUIRES ATTENTION: its row cannot be read', { checkout_id: id });
    deps.metrics.outcome('requires_attention');
  }
  if (unreadable.length > 0) outcomes.unreadable = unreadable.length;
  for (const checkout of claimed) {
    if (budget.signal.aborted) break; // unprocessed claims expire and go to the next run
    const status = await recoverCheckout(deps, checkout, options, budget).then(
      (outcome) => (outcome.kind === 'incomplete' ? 'incomplete' : outcome.checkout.status),
      (error: unknown) => {
        if (error instanceof LeaseLostError) return 'taken_over';
        deps.logger.error('recovery of a checkout failed', {
          checkout_id: checkout.id,
          error: error instanceof Error ? error.message : String(error),
        });
        return 'error';
      },
    );
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  const total = claimed.length + unreadable.length;
  if (total > 0) deps.logger.info('recovery run finished', { claimed: total, outcomes });
  await reportBacklog(deps);
  return { claimed: total, outcomes };
}

/**
 * What is still unfinished after the run, for the oldest-unfinished alarm. Emitted on every
 * run, an empty backlog as 0, so the alarm sees the age fall back as well as rise.
 */
async function reportBacklog(deps: SagaDeps): Promise<void> {
  const { unfinished, oldestCreatedAt } = await deps.repository.backlog();
  const ageMs = oldestCreatedAt ? deps.clock.now().getTime() - Date.parse(oldestCreatedAt) : 0;
  deps.metrics.backlog(unfinished, Math.max(0, Math.round(ageMs / 1000)));
}
