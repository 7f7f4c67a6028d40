import {
  ASYNC_PAYMENT_DEFAULTS,
  type AsyncPaymentSettings,
  type Checkout,
  type CheckoutFailure,
} from './checkout.ts';
import { finished, type SagaOutcome } from './checkout-outcome.ts';
import type { WorkBudget } from './lease.ts';
import type { ChargeRecord } from './ports.ts';
import { runSaga } from './saga.ts';
import {
  type Arrival,
  arrivalOf,
  expiryCheckAt,
  RECHECK_WAITING_MS,
  stepFrom,
} from './saga-steps.ts';
import {
  advance,
  compensate,
  finishFailed,
  PAYMENT_EXPIRED,
  type SagaDeps,
  undoneOutside,
} from './saga-transitions.ts';
import { ServiceCallError, ServiceRefusedError } from './service-errors.ts';

/*
 * The policy for a Pix or boleto once issued (design §4a): whoever holds the checkout's lease
 * (the payment's webhook, a same-key retry, the sweep) looks the payment up and acts on what the
 * lookup says, never on what a webhook claims. Waiting, it is paid (the order is created), still
 * pending (nothing, or the expiry check once due), or over (the stock is released). Expired, a
 * late payment deducts the stock again and completes, or is refunded.
 */

/** What a look at a waiting or expired checkout did. */
export interface WaitingCheck {
  outcome: SagaOutcome;
  /** Whether a transition was written (else the checkout stands as it was, lease given back). */
  moved: boolean;
  /** The status the payment service's record gave the checkout's own charge, if any. */
  seen?: ChargeRecord['status'];
  /** The lookup (or the cancel before it) got no answer: nothing could be decided. */
  unanswered?: true;
}

/**
 * How soon a checkout is looked up again when its lookup got no answer, or its expiry check's
 * cancel is not shown in the record yet (a lookup that lags behind the cancel).
 */
const RETRY_LOOK_MS = 60_000;

/** Why a checkout paid with another amount than its own asks for a person. */
const PAID_AMOUNT_DIFFERS: CheckoutFailure = {
  step: 'payment',
  kind: 'refused',
  reason: 'paid_amount_differs',
  message: 'The payment service holds this checkout paid with another amount',
};

/** Why a late payment was refunded: the stock was gone, or it came after the late window. */
const PAID_AFTER_EXPIRY: CheckoutFailure = {
  step: 'payment',
  kind: 'refused',
  reason: 'paid_after_expiry',
  message: 'The payment came after the checkout expired and was refunded',
};

/** Why a Pix or boleto that the payment service refused ended. */
const PAYMENT_REFUSED: CheckoutFailure = {
  step: 'payment',
  kind: 'refused',
  reason: 'payment_failed',
  message: 'The payment service refused the payment',
};

/** A webhook event being applied: its id, and the status its type claims the charge has. */
export interface AppliedEvent {
  id: string;
  claims?: ChargeRecord['status'];
}

/** Whether the record shows what an event claims (a charge cancelled is over, like expired). */
export function claimShown(claims: ChargeRecord['status'] | undefined, seen?: string): boolean {
  if (!claims || claims === seen) return true;
  const over = ['cancelled', 'expired'];
  return over.includes(claims) && seen !== undefined && over.includes(seen);
}

/**
 * Looks a waiting (or expired) checkout up and acts on the answer. `checkout` is held under this
 * worker's lease; whatever happens, the lease ends with this call (a transition to a final or
 * waiting state drops it, and a checkout left as it was is given back). A webhook `event` is
 * stored with the first transition it causes, only when the record shows what it claims: one
 * whose claim is not shown yet is not remembered, so its next delivery is applied.
 */
export async function checkWaiting(
  deps: SagaDeps,
  checkout: Checkout,
  budget: WorkBudget,
  event?: AppliedEvent,
): Promise<WaitingCheck> {
  const settings = deps.asyncPayments ?? ASYNC_PAYMENT_DEFAULTS;
  let seen: ChargeRecord['status'] | undefined;
  try {
    const looked = await arrivalOf(deps, checkout, budget.signal);
    seen = looked.seen;
    const eventId = event && claimShown(event.claims, seen) ? event.id : undefined;
    await cancelStrays(deps, checkout, looked.strays, budget);
    const outcome =
      checkout.status === 'expired'
        ? await afterExpiry(deps, checkout, looked.arrival, settings, budget, eventId)
        : await whileWaiting(deps, checkout, looked.arrival, budget, eventId, false);
    if (outcome) return { outcome, moved: true, ...(seen && { seen }) };
  } catch (error) {
    if (!(error instanceof ServiceCallError)) throw error;
    deps.logger.warn('payment lookup without an answer; looked up again later', {
      checkout_id: checkout.id,
      reason: error.reason,
    });
    const at = new Date(deps.clock.now().getTime() + RETRY_LOOK_MS);
    await leaveAsItWas(deps, checkout, at, `lookup unanswered: ${error.reason}`);
    return { outcome: asItStands(checkout), moved: false, unanswered: true, ...(seen && { seen }) };
  }
  const at = nextCheck(deps, checkout, settings);
  await leaveAsItWas(deps, checkout, at, `looked up: ${seen ?? 'nothing held'}`);
  return { outcome: asItStands(checkout), moved: false, ...(seen && { seen }) };
}

/**
 * A waiting checkout by what the lookup says; `undefined` when it goes on waiting. Once its
 * expiry check is due, a pending charge is cancelled first and looked up again (`cancelled`:
 * after that cancel, so a charge still pending just waits for the next check).
 */
async function whileWaiting(
  deps: SagaDeps,
  checkout: Checkout,
  arrival: Arrival,
  budget: WorkBudget,
  eventId: string | undefined,
  cancelled: boolean,
): Promise<SagaOutcome | undefined> {
  switch (arrival.kind) {
    case 'paid':
      return onPaid(deps, checkout, budget, { eventId });
    case 'ended':
      // Over, says the record; our own cancel first, which a payment that landed since refuses.
      if (!cancelled) return expire(deps, checkout, budget, eventId);
      return endUnpaid(deps, checkout, PAYMENT_EXPIRED, budget, eventId);
    case 'refunded':
      return endUnpaid(deps, checkout, undoneOutside('payment'), budget, eventId);
    case 'refused':
      return endUnpaid(deps, checkout, PAYMENT_REFUSED, budget, eventId);
    case 'differs':
      return finishFailed(deps, checkout, PAID_AMOUNT_DIFFERS, [PAID_AMOUNT_DIFFERS.reason], {
        ...(eventId && { eventId }),
      });
    case 'pending':
      if (cancelled || deps.clock.now() < expiryCheckAt(checkout)) return undefined;
      return expire(deps, checkout, budget, eventId);
    case 'absent':
      // The record does not show the charge this checkout recorded: a lookup that lags, or a
      // copy of another answer. Nothing is decided on it.
      deps.logger.warn("the payment service does not show this checkout's charge", {
        checkout_id: checkout.id,
      });
      return undefined;
  }
}

/**
 * The expiry check (never before `expires_at` + 120 s): cancel the charge, then look it up.
 * Only a charge the record shows over releases the stock; a paid one completes; a cancel without
 * an answer, or refused, with the charge still pending, waits for the next check.
 */
async function expire(
  deps: SagaDeps,
  checkout: Checkout,
  budget: WorkBudget,
  eventId: string | undefined,
): Promise<SagaOutcome | undefined> {
  const cancel = stepFrom({ flow: checkout.flow, status: 'inventory_deducted' })?.undo;
  try {
    await cancel?.run(deps, checkout, PAYMENT_EXPIRED, budget.signal);
  } catch (error) {
    if (!(error instanceof ServiceCallError)) throw error;
    deps.logger.warn('the cancel of an expired payment did not go through', {
      checkout_id: checkout.id,
      reason: error.reason,
    });
  }
  const { arrival } = await arrivalOf(deps, checkout, budget.signal);
  return whileWaiting(deps, checkout, arrival, budget, eventId, true);
}

/**
 * Paid: recorded (`payment_processed`: paid, stock held), then the order, which completes the
 * checkout. An order refused refunds and releases (the step table's undo); one without an answer
 * stays for recovery, which repeats it.
 */
async function onPaid(
  deps: SagaDeps,
  checkout: Checkout,
  budget: WorkBudget,
  record: { eventId?: string; paidLate?: true },
): Promise<SagaOutcome> {
  const cause = record.paidLate ? 'paid late: stock deducted again' : 'paid';
  const paid = await advance(deps, checkout, {
    status: 'payment_processed',
    ...(record.eventId && { eventId: record.eventId }),
    // Out of `expired`: it did not fail after all.
    ...(record.paidLate && { paidLate: record.paidLate, failure: null }),
    nextCheckAt: null,
    cause,
  });
  return runSaga(deps, paid, undefined, budget, { justSettled: true });
}

/** Over unpaid (or refunded, or refused): the charge is cancelled and the stock released. */
async function endUnpaid(
  deps: SagaDeps,
  checkout: Checkout,
  failure: CheckoutFailure,
  budget: WorkBudget,
  eventId: string | undefined,
): Promise<SagaOutcome> {
  const undoing = await advance(deps, checkout, {
    status: 'compensating',
    failure,
    compensationFrom: 'awaiting_payment',
    ...(eventId && { eventId }),
    cause: `undoing: ${failure.reason}`,
  });
  return compensate(deps, undoing, failure, budget);
}

/**
 * An expired checkout the lookup shows paid (design §4a): within the late window, or paid before
 * it expired and told late, the stock is deducted again (`<id>:deduct_late`) and it completes;
 * otherwise, or with the stock gone, the payment is refunded (`<id>:refund_late`) and it ends
 * `failed` (`paid_after_expiry`); a boleto's refund is a person's (`refund_boleto`).
 */
async function afterExpiry(
  deps: SagaDeps,
  checkout: Checkout,
  arrival: Arrival,
  settings: AsyncPaymentSettings,
  budget: WorkBudget,
  eventId: string | undefined,
): Promise<SagaOutcome | undefined> {
  const record = eventId ? { eventId } : {};
  if (arrival.kind === 'differs') {
    return finishFailed(deps, checkout, PAID_AMOUNT_DIFFERS, [PAID_AMOUNT_DIFFERS.reason], record);
  }
  // Paid after expiry and refunded since: our late refund, whose answer was lost (a late
  // deduction is only ever followed by the order, never by a refund of the stock it took).
  if (arrival.kind === 'refunded')
    return finishFailed(deps, checkout, PAID_AFTER_EXPIRY, [], record);
  if (arrival.kind !== 'paid') return undefined;
  const expiresAt = Date.parse(checkout.asyncPayment?.expiresAt ?? checkout.createdAt);
  const windowEnds = expiresAt + settings.lateWindowDays * 86_400_000;
  // Decided by when it was paid, so that every look at the same payment decides alike (a late
  // deduction whose answer was lost is repeated, never refunded with the stock still taken);
  // by now only when the service does not say.
  const paidMs = arrival.paidAt ? Date.parse(arrival.paidAt) : deps.clock.now().getTime();
  if (paidMs <= windowEnds) {
    try {
      const stock = { checkoutId: checkout.id, items: checkout.items };
      await deps.inventory.deduct(stock, { signal: budget.signal, round: 'late' });
      return onPaid(deps, checkout, budget, { ...(eventId && { eventId }), paidLate: true });
    } catch (error) {
      if (!(error instanceof ServiceRefusedError)) throw error;
    }
  }
  return refundLate(deps, checkout, budget, eventId);
}

/** A late payment that cannot be taken: refunded under its own key, or left to a person. */
async function refundLate(
  deps: SagaDeps,
  checkout: Checkout,
  budget: WorkBudget,
  eventId: string | undefined,
): Promise<SagaOutcome> {
  const record = eventId ? { eventId } : {};
  const refund = stepFrom({ flow: checkout.flow, status: 'awaiting_payment' })?.undo;
  if (!refund || refund.byPerson) {
    return finishFailed(deps, checkout, PAID_AFTER_EXPIRY, [refund?.name ?? 'refund'], record);
  }
  try {
    await refund.run(deps, { ...checkout, paidLate: true }, PAID_AFTER_EXPIRY, budget.signal);
  } catch (error) {
    if (!(error instanceof ServiceRefusedError)) throw error;
    return finishFailed(deps, checkout, PAID_AFTER_EXPIRY, [refund.name], record);
  }
  return finishFailed(deps, checkout, PAID_AFTER_EXPIRY, [], record);
}

/**
 * Other charges for the checkout (a second issue the service made), under keys of their own
 * (`<id>:cancel_stray`, `<id>:refund_stray`): a pending one is cancelled; a paid Pix is refunded
 * (the customer paid twice); a paid boleto, which needs the payer's bank account, is for a
 * person. Best effort: what does not go through is logged and tried at the next look.
 */
async function cancelStrays(
  deps: SagaDeps,
  checkout: Checkout,
  strays: ChargeRecord[],
  budget: WorkBudget,
): Promise<void> {
  const options = { signal: budget.signal, round: 'stray' as const };
  const reason = 'not_this_checkouts_payment';
  for (const stray of strays) {
    const { transactionId } = stray;
    const named = { checkout_id: checkout.id, transaction_id: transactionId };
    try {
      if (stray.status === 'pending') {
        await deps.payment.cancel({ checkoutId: checkout.id, transactionId, reason }, options);
      } else if (checkout.flow === 'pix' && stray.amountCents !== undefined) {
        const { amountCents, currency = checkout.currency } = stray;
        const refund = { checkoutId: checkout.id, transactionId, amountCents, currency, reason };
        await deps.payment.refund(refund, options);
      } else {
        deps.logger.error('CHECKOUT NEEDS A PERSON: another charge for it was paid', named);
      }
    } catch (error) {
      if (!(error instanceof ServiceCallError)) throw error;
      deps.logger.warn('a stray charge could not be cancelled or refunded', named);
    }
  }
}

/**
 * When a checkout left as it was is looked up next: a waiting one at its expiry check, and
 * hourly before it (and after it, while a cancel has not gone through); an expired one hourly
 * while a late payment is still taken, then never.
 */
function nextCheck(deps: SagaDeps, checkout: Checkout, settings: AsyncPaymentSettings) {
  const now = deps.clock.now().getTime();
  const expiresAt = Date.parse(checkout.asyncPayment?.expiresAt ?? checkout.createdAt);
  if (checkout.status === 'expired') {
    const windowEnds = expiresAt + settings.lateWindowDays * 86_400_000;
    return now >= windowEnds ? null : new Date(Math.min(now + RECHECK_WAITING_MS, windowEnds));
  }
  const check = expiryCheckAt(checkout).getTime();
  return new Date(check > now ? Math.min(check, now + RECHECK_WAITING_MS) : now + RETRY_LOOK_MS);
}

/** Gives the lease back, the checkout as it was, with when to look it up next. */
function leaveAsItWas(deps: SagaDeps, checkout: Checkout, at: Date | null, cause: string) {
  return deps.repository.leaveWaiting(checkout, { nextCheckAt: at?.toISOString() ?? null, cause });
}

/** The outcome of a checkout left as it was: still waiting, or still expired. */
function asItStands(checkout: Checkout): SagaOutcome {
  return checkout.status === 'expired' ? finished(checkout) : { kind: 'awaiting', checkout };
}
