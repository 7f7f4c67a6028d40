import { checkWaiting, claimShown, type WaitingCheck } from './awaiting-payment.ts';
import { type Checkout, isFinal, isWaiting } from './checkout.ts';
import type { WorkBudget } from './lease.ts';
import type { PaymentEvent, PaymentEventOutcome } from './payment-event.ts';
import { type ChargeRecord, LeaseLostError } from './ports.ts';
import type { SagaDeps } from './saga-transitions.ts';
import { ServiceCallError } from './service-errors.ts';

/** When the payment service should send an event again that could not be applied yet. */
const REDELIVER_MS = 60_000;

/** The lookup status an event's `type` claims (`payment.paid` → `paid`), if it names one. */
const CLAIMS: Readonly<Record<string, ChargeRecord['status']>> = {
  'payment.paid': 'paid',
  'payment.expired': 'expired',
  'payment.cancelled': 'cancelled',
  'payment.refunded': 'refunded',
};

/**
 * Use case of `POST /webhooks/payments`, once the event's signature is verified (design §2,
 * §4a). The event only says which checkout to look at: a duplicate of one applied before does
 * nothing; a waiting or expired checkout is taken under its lease and looked up, and the lookup
 * decides. The event counts as applied once the checkout stands where the lookup says; while the
 * lookup does not show what the event claims yet, or another worker holds the checkout, nothing
 * is written and the service is asked to send it again.
 */
export async function receivePaymentEvent(
  deps: SagaDeps,
  event: PaymentEvent,
  budget: WorkBudget,
): Promise<PaymentEventOutcome> {
  const found = await deps.repository.findById(event.checkoutId);
  if (!found || (found.flow !== 'pix' && found.flow !== 'boleto')) {
    deps.logger.info('payment event for no checkout of ours waiting for a payment', {
      checkout_id: event.checkoutId,
      event_type: event.type,
    });
    return { kind: 'ignored' };
  }
  if (await deps.repository.eventApplied(found.id, event.eventId)) return { kind: 'duplicate' };
  if (isFinal(found.status) && found.status !== 'expired') {
    await noteAfterEnd(deps, found, budget);
    return { kind: 'applied', status: found.status };
  }
  if (!isWaiting(found.status) && found.status !== 'expired') return notYet('held');
  const cause = `payment event ${event.type} (${event.eventId})`;
  const taken = await deps.repository.takeWaiting(found.id, budget.leaseMs, budget.worker, cause);
  if (!taken) return notYet('held');
  const claims = CLAIMS[event.type];
  let check: WaitingCheck;
  try {
    check = await checkWaiting(deps, taken, budget, {
      id: event.eventId,
      ...(claims && { claims }),
    });
  } catch (error) {
    // Another worker took the checkout over meanwhile (our lease ran out): it answers for it.
    if (error instanceof LeaseLostError) return notYet('held');
    throw error;
  }
  if (check.unanswered) return notYet('lookup_failed');
  const { status } = check.outcome.checkout;
  // The event is applied once the record shows what it claims; until then it is sent again,
  // unless the checkout has ended where nothing can move it any more (only `expired` can).
  const settledForGood = isFinal(status) && status !== 'expired';
  if (!claimShown(claims, check.seen) && !settledForGood) return notYet('not_shown_yet');
  return { kind: 'applied', status };
}

function notYet(reason: 'not_shown_yet' | 'held' | 'lookup_failed'): PaymentEventOutcome {
  return { kind: 'not_yet', reason, retryInMs: REDELIVER_MS };
}

/**
 * A checkout already final: nothing moves it any more. A refund of a completed one made outside
 * it (in the payment console) is logged, for whoever reconciles the books.
 */
async function noteAfterEnd(deps: SagaDeps, checkout: Checkout, budget: WorkBudget) {
  if (checkout.status !== 'completed') return;
  try {
    const charges = await deps.payment.findCharges(checkout.id, { signal: budget.signal });
    const own = charges.find((c) => c.transactionId === checkout.paymentId);
    if (own?.status === 'refunded') {
      deps.metrics.refundedAfterCompletion();
      deps.logger.warn('PAYMENT REFUNDED AFTER COMPLETION: the order stands', {
        checkout_id: checkout.id,
        order_id: checkout.orderId,
      });
    }
  } catch (error) {
    if (!(error instanceof ServiceCallError)) throw error;
  }
}
