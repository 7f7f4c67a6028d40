import { checkWaiting } from '#lib/checkout/awaiting-payment.ts';
import { isWaiting } from '#lib/checkout/checkout.ts';
import type { SagaOutcome } from '#lib/checkout/checkout-outcome.ts';
import type { WorkBudget } from '#lib/checkout/lease.ts';
import type { OperatorTake } from '#lib/checkout/ports.ts';
import { type RecoveryOptions, recoverCheckout } from '#lib/checkout/recovery.ts';
import type { SagaDeps } from '#lib/checkout/saga-transitions.ts';

export type OperatorRefusal = Extract<OperatorTake, { refused: unknown }>;

/**
 * Operator use case `retry`: settle and undo again, now. A checkout in `requires_attention`
 * is reopened at the recovery point it was given up at (its tries start again from zero); an
 * unfinished one is taken once its lease ended at least the settle delay ago, as recovery would. Then
 * recovery's own policy runs: it settles by asking the services and never repeats a charge.
 */
export async function retryCheckout(
  deps: SagaDeps,
  id: string,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<SagaOutcome | OperatorRefusal> {
  const take = await deps.repository.takeForOperator(id, {
    leaseMs: budget.leaseMs,
    worker: budget.worker,
    reopen: true,
    settleDelayMs: options.settleDelayMs,
  });
  if ('refused' in take) return take;
  deps.logger.info('operator retries checkout', { checkout_id: id, status: take.taken.status });
  // A Pix or boleto waiting for its customer: looked up now, as the sweep would.
  if (isWaiting(take.taken.status)) return (await checkWaiting(deps, take.taken, budget)).outcome;
  return recoverCheckout(deps, take.taken, options, budget);
}
