import type { Checkout, CheckoutFailure, SagaStep } from './checkout.ts';
import type { CheckoutResult } from './checkout-result.ts';
import type { WorkBudget } from './lease.ts';
import { LeaseLostError } from './ports.ts';
import {
  advance,
  compensate,
  createOrder,
  failureOf,
  finishFailed,
  type SagaDeps,
} from './saga.ts';
import { ServiceCallError, ServiceRefusedError } from './service-errors.ts';

export interface RecoveryOptions {
  /** How many abandoned checkouts one run claims. */
  batchSize: number;
  /** After this many workers tried a checkout, stop settling it and ask for attention. */
  maxAttempts: number;
}

export interface RecoveryReport {
  claimed: number;
  /** Final status (or `incomplete`: left for the next run) → count. */
  outcomes: Record<string, number>;
}

/**
 * The recovery function's work: claim the checkouts whose lease expired before they reached a
 * final state (skipping rows another worker holds) and drive each to one. The step whose
 * outcome is unknown is settled by repeating it with the same `Idempotency-Key`; then the
 * checkout is undone (the customer was told it did not complete) and ends `failed` with reason
 * `abandoned`, except a settled order, which completes the checkout (an order cannot be undone).
 * A checkout still unsettled after `maxAttempts` ends `requires_attention`.
 */
export async function recoverAbandoned(
  deps: SagaDeps,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<RecoveryReport> {
  const claimed = await deps.repository.claimAbandoned(options.batchSize, budget.leaseMs);
  const outcomes: Record<string, number> = {};
  for (const checkout of claimed) {
    if (budget.signal.aborted) break; // unprocessed claims expire and go to the next run
    const status = await recoverCheckout(deps, checkout, options, budget).then(
      (result) => String(result.body.status ?? 'unknown'),
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
  if (claimed.length > 0)
    deps.logger.info('recovery run finished', { claimed: claimed.length, outcomes });
  return { claimed: claimed.length, outcomes };
}

/** Drives one claimed checkout to a final state, or leaves it for the next run. */
export async function recoverCheckout(
  deps: SagaDeps,
  start: Checkout,
  options: RecoveryOptions,
  budget: WorkBudget,
): Promise<CheckoutResult> {
  const { signal } = budget;
  let checkout = start;
  deps.logger.info('recovering abandoned checkout', {
    checkout_id: checkout.id,
    status: checkout.status,
    attempt: checkout.attempt,
  });
  try {
    switch (checkout.status) {
      case 'compensating':
        return await compensate(deps, checkout, checkout.failure ?? abandoned('payment'), budget);
      case 'pending': {
        const { transactionId } = await deps.payment.charge(
          {
            checkoutId: checkout.id,
            amountCents: checkout.totalCents,
            currency: checkout.currency,
            card: null,
            customerEmail: checkout.customerEmail,
          },
          { signal },
        );
        checkout = await advance(deps, checkout, {
          status: 'payment_processed',
          paymentId: transactionId,
        });
        return await compensate(deps, checkout, abandoned('payment'), budget);
      }
      case 'payment_processed':
        await deps.inventory.deduct({ checkoutId: checkout.id, items: checkout.items }, { signal });
        checkout = await advance(deps, checkout, { status: 'inventory_deducted' });
        return await compensate(deps, checkout, abandoned('inventory'), budget);
      case 'inventory_deducted':
        return {
          statusCode: 200,
          body: { status: (await createOrder(deps, checkout, budget)).status },
        };
      default:
        return { statusCode: 200, body: { status: checkout.status } };
    }
  } catch (error) {
    if (error instanceof ServiceRefusedError) {
      // Settled: the step did not happen. Undo whatever came before it.
      return compensate(deps, checkout, failureOf(error), budget);
    }
    if (!(error instanceof ServiceCallError)) throw error;
    // Cut short by this run's own deadline, the attempt says nothing about the service.
    if (checkout.attempt < options.maxAttempts || budget.signal.aborted) {
      deps.logger.warn('abandoned checkout still unsettled, left for the next run', {
        checkout_id: checkout.id,
        status: checkout.status,
        attempt: checkout.attempt,
        reason: error.reason,
      });
      deps.metrics.outcome('incomplete');
      return { statusCode: 503, body: { status: 'incomplete' } };
    }
    return finishFailed(deps, checkout, abandoned(error.service), [`settle_${error.service}`]);
  }
}

function abandoned(step: SagaStep): CheckoutFailure {
  return {
    step,
    kind: 'unavailable',
    reason: 'abandoned',
    message: 'The checkout could not be confirmed in time and was undone',
  };
}
