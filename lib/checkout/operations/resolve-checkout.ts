import type { CheckoutFailure } from '#lib/checkout/checkout.ts';
import { type FinishedOutcome, finished } from '#lib/checkout/checkout-outcome.ts';
import type { WorkBudget } from '#lib/checkout/lease.ts';
import type { CheckoutChanges } from '#lib/checkout/ports.ts';
import { stepFrom } from '#lib/checkout/saga-steps.ts';
import { advance, type SagaDeps } from '#lib/checkout/saga-transitions.ts';
import type { OperatorRefusal } from './retry-checkout.ts';
import { type CheckoutReport, lookUpServices } from './show-checkout.ts';

export interface Resolution {
  as: 'failed' | 'completed';
  /** What the person did; kept in the history. Required: nothing is resolved silently. */
  note: string;
  /**
   * Record it even though the services' records disagree or cannot be read (a service that
   * lost its record, one that cannot be asked). The note must say why.
   */
  force?: boolean;
}

/** The services' records do not show the end state asked for, or could not be read. */
export type ResolveRefusal =
  | OperatorRefusal
  | { refused: 'services_disagree' | 'services_unknown'; detail: string };

/**
 * Operator use case `resolve`: a person settled the checkout by hand (refunded in the payment
 * console, released the stock, made sure the order ships) and records the end state. Allowed
 * for a checkout in `requires_attention` and for an unfinished one whose lease ended at least
 * the settle delay ago. The services are asked first, and the end state must be what they
 * hold: `completed` needs a charge that stands and a created order (their ids are recorded);
 * `failed` needs no charge that stands, no stock deducted and no order. Otherwise it is refused
 * (unless `force`), since a `failed` checkout with a charge standing is money nobody will give
 * back. The transition, the note and the operator are kept in its history; a repeated
 * `Idempotency-Key` gets the resolved answer from then on.
 */
export async function resolveCheckout(
  deps: SagaDeps,
  id: string,
  resolution: Resolution,
  budget: WorkBudget,
  options: { settleDelayMs: number },
): Promise<FinishedOutcome | ResolveRefusal> {
  const note = resolution.note.trim();
  if (note.length === 0) throw new Error('a resolution needs a note saying what was done');
  const current = await deps.repository.findById(id);
  if (!current) return { refused: 'not_found' };
  if (current.status === 'completed' || current.status === 'failed' || current.status === 'expired')
    return { refused: 'finished' };
  const services = await lookUpServices(deps, id, { signal: budget.signal });
  const found = endState(services, resolution.as);
  if ('refused' in found && !resolution.force) return found;
  const take = await deps.repository.takeForOperator(id, {
    leaseMs: budget.leaseMs,
    worker: budget.worker,
    reopen: false,
    settleDelayMs: options.settleDelayMs,
  });
  if ('refused' in take) return take;
  const { taken } = take;
  const forced = 'refused' in found ? ` (forced: ${found.detail})` : '';
  const changes: CheckoutChanges = {
    status: resolution.as,
    undoFailures: [],
    cause: `resolved by hand as ${resolution.as}${forced}: ${note}`,
  };
  if (resolution.as === 'completed' && !('refused' in found)) {
    changes.paymentId = found.paymentId;
    changes.orderId = found.orderId;
  }
  if (resolution.as === 'failed') {
    changes.failure = taken.failure ?? resolvedByHand(taken, note);
  }
  const resolved = await advance(deps, taken, changes);
  deps.logger.warn('checkout resolved by hand', {
    checkout_id: id,
    from: taken.status,
    to: resolution.as,
    by: budget.worker,
    forced: forced !== '',
  });
  return finished(resolved);
}

/**
 * Whether the services' records show `as`; for `completed`, the ids they hold. This reads what
 * each service holds now (a charge not refunded, stock still deducted, an order), as a step's
 * `settle` (saga-steps.ts) does when it tells a step that stands from one undone since: an end
 * state is about the money and stock as they stand.
 */
function endState(
  services: CheckoutReport['services'],
  as: Resolution['as'],
):
  | { paymentId?: string; orderId?: string }
  | { refused: 'services_disagree' | 'services_unknown'; detail: string } {
  const unknown = Object.entries(services).flatMap(([name, record]) =>
    'unknown' in record ? [name] : [],
  );
  if (unknown.length > 0) {
    return { refused: 'services_unknown', detail: `${unknown.join(', ')} could not be asked` };
  }
  const records = <T>(record: { records: T[] } | { unknown: string }) =>
    'records' in record ? record.records : [];
  const payments = records(services.payment);
  // Money taken: a one-shot charge, a captured authorization (what completes one), a paid Pix
  // or boleto.
  const taken = ['success', 'captured', 'paid'];
  const charge = payments.find((c) => taken.includes(c.status));
  // Money held, or payable: that, an authorization not captured (it must be voided first), or a
  // Pix or boleto still pending (it must be cancelled first).
  const held = charge ?? payments.find((c) => c.status === 'authorized' || c.status === 'pending');
  const deducted = records(services.inventory).some((d) => d.status === 'deducted');
  const order = records(services.order).find((o) => o.status === 'created');
  if (as === 'completed') {
    if (!charge || !order) {
      const missing = [!charge && 'no charge or capture that stands', !order && 'no created order'];
      return { refused: 'services_disagree', detail: missing.filter(Boolean).join(' and ') };
    }
    return { paymentId: charge.transactionId, orderId: order.orderId };
  }
  const standing = [
    held &&
      `${held.status === 'authorized' ? 'authorization' : 'charge'} ${held.transactionId} still stands`,
    deducted && 'stock is still deducted',
    order && `order ${order.orderId} exists`,
  ].filter((part): part is string => Boolean(part));
  if (standing.length > 0) return { refused: 'services_disagree', detail: standing.join(', ') };
  return {};
}

/** The failure of a checkout resolved `failed` that had none recorded (it was unfinished). */
function resolvedByHand(checkout: Parameters<typeof stepFrom>[0], note: string): CheckoutFailure {
  return {
    step: stepFrom(checkout)?.step ?? 'payment',
    kind: 'unavailable',
    reason: 'resolved_by_hand',
    message: note,
  };
}
