import { randomUUID } from 'node:crypto';
import { DatabaseUnavailableError, ValidationError } from '#lib/errors.ts';
import type { MinorUnits } from '#lib/money.ts';
import { checkWaiting } from './awaiting-payment.ts';
import {
  ASYNC_PAYMENT_DEFAULTS,
  type AsyncPayment,
  type CardFlow,
  type Checkout,
  type CheckoutOrder,
  isFinal,
  isWaiting,
  newCheckout,
  type PaymentSecrets,
} from './checkout.ts';
import { type CheckoutOutcome, finished } from './checkout-outcome.ts';
import { installmentProblem, MIN_INSTALLMENT_AMOUNT } from './installments.ts';
import { leaseEndsBy, type WorkBudget } from './lease.ts';
import { boletoDueDate, boletoExpiresAt, pixExpiresAt } from './payment-deadlines.ts';
import { type IdempotencyClaim, type KeyHolder, LeaseLostError } from './ports.ts';
import {
  type AsyncTerms,
  type Cart,
  type PricingService,
  PricingUnavailableError,
  priceCart,
  UnknownProductError,
} from './pricing.ts';
import { runSaga } from './saga.ts';
import { leaveIncomplete, type SagaDeps } from './saga-transitions.ts';

/** When a client whose checkout is being undone should look again: recovery's usual pace. */
const RETRY_UNDO_MS = 60_000;

/** What recording a checkout needs besides the saga's adapters. */
export interface CheckoutDeps extends SagaDeps {
  /** Prices the cart: the catalog (`PRICING=catalog`) or the caller's own prices. */
  pricing: PricingService;
  /** How new checkouts pay (`PAYMENT_CAPTURE`); recorded ones follow their row. Default `after_order`. */
  paymentFlow?: CardFlow;
  /** Whether raw card numbers are taken (`ACCEPT_RAW_CARDS`); default true. */
  acceptRawCards?: boolean;
  /** The smallest installment (`MIN_INSTALLMENT_AMOUNT`), in minor units of BRL. */
  minInstallmentCents?: MinorUnits;
  newId?: () => string;
  /**
   * Recovery's settle delay: a worker taking a checkout over whose lease ended at least this
   * long ago knows nothing the earlier one sent can still land. Unknown: it never assumes so.
   */
  settleDelayMs?: number;
}

/** When a client should ask again after the catalog could not price its cart. */
const RETRY_PRICING_MS = 5_000;

export interface CheckoutCommand {
  /** What was asked for; the amount charged is what `pricing` says it costs. */
  cart: Cart;
  /** The card or token and the payer's document: sent to the payment service, never stored. */
  secrets: PaymentSecrets;
  /**
   * Who asks, the identity that also scopes keys: recorded with the checkout, which only it may
   * read back. Absent: nobody known, and only an operator sees the checkout.
   */
  caller?: string;
  /** Present when the client sent an `Idempotency-Key`. */
  idempotency?: IdempotencyClaim;
}

/**
 * Use case of `POST /checkout/process`: prices the cart, records the checkout (claiming its
 * idempotency key in the same insert) and runs the saga. A repeated key never starts a second
 * checkout: it gets the stored answer, a mismatch, an "in progress", or (when the first worker's
 * lease has expired) takes the checkout over and resumes it from its recovery point with the
 * same downstream keys and its stored prices, whatever the catalog says now.
 */
export async function processCheckout(
  deps: CheckoutDeps,
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<CheckoutOutcome> {
  const outcome = await recordAndRun(deps, command, budget);
  // Only a keyed request can be retried into the same checkout: the answer says which it was.
  return outcome.kind === 'incomplete'
    ? { ...outcome, keyed: command.idempotency !== undefined }
    : outcome;
}

/** `processCheckout` before its answer says whether the request was keyed. */
async function recordAndRun(
  deps: CheckoutDeps,
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<CheckoutOutcome> {
  const priced = await price(deps, command, budget);
  let claim: { created: Checkout } | { holder: KeyHolder };
  if ('refusal' in priced) {
    // Nothing is written, so the same key can be used again with corrected prices; but a key
    // that already holds a checkout answers for it first (its prices are stored).
    const holder =
      command.idempotency && (await deps.repository.findKeyHolder(command.idempotency));
    if (!holder) {
      if (priced.refusal instanceof ValidationError) throw priced.refusal;
      return priced.refusal;
    }
    claim = { holder };
  } else {
    const id = (deps.newId ?? randomUUID)();
    const now = deps.clock.now();
    const { asyncTerms } = command.cart;
    const order = {
      ...priced.order,
      asyncPayment: asyncTerms && paymentTerms(deps, asyncTerms, now),
    };
    const checkout = newCheckout(order, id, now, command.caller ?? null, {
      // A Pix or boleto is its own flow; a card pays as `PAYMENT_CAPTURE` says.
      flow: asyncTerms?.method ?? deps.paymentFlow ?? 'after_order',
      pricing: deps.pricing.source,
    });
    const made = await deps.repository.create(checkout, {
      leaseMs: budget.leaseMs,
      idempotency: command.idempotency,
      worker: budget.worker,
    });
    claim = made.created ? { created: checkout } : { holder: made.holder };
  }
  try {
    if ('created' in claim) {
      deps.logger.info('checkout recorded', { checkout_id: claim.created.id });
      return await runSaga(deps, claim.created, command.secrets, budget);
    }
    return await answerRepeat(deps, claim.holder, command, budget);
  } catch (error) {
    // Our lease ran out and another worker took the checkout over: it now answers for it.
    if (error instanceof LeaseLostError) {
      return { kind: 'in_progress', checkoutId: error.checkoutId, retryInMs: 1000 };
    }
    const held = 'created' in claim ? claim.created : claim.holder.checkout;
    // The database stopped answering once the checkout was recorded: its outcome is open like
    // a service's unknown one, and the client needs its id (and to retry with the same key, or
    // wait for recovery) rather than a bare "unavailable" that invites a second checkout.
    if (error instanceof DatabaseUnavailableError) {
      return leaveIncomplete(deps, held, error, budget);
    }
    // Something else failed (a bug) and the checkout stays where it was: wake recovery for it
    // when the lease ends rather than at the next hourly sweep.
    await deps.scheduler.scheduleRecovery(held, leaseEndsBy(deps.clock.now(), budget));
    throw error;
  }
}

/**
 * A Pix's or boleto's dates, fixed when the checkout is recorded (and sent identically on every
 * try): a Pix expires `expires_in_minutes` from now; a boleto is due `due_in_days` from today in
 * São Paulo (a business day), and expires its grace business days after that.
 */
function paymentTerms(deps: CheckoutDeps, terms: AsyncTerms, now: Date): AsyncPayment {
  const settings = deps.asyncPayments ?? ASYNC_PAYMENT_DEFAULTS;
  if (terms.method === 'pix') {
    const minutes = terms.expiresInMinutes ?? settings.pixExpiryMinutes;
    return { expiresAt: pixExpiresAt(now, minutes), instructions: null };
  }
  const dueDate = boletoDueDate(now, terms.dueInDays ?? settings.boletoDueDays);
  return {
    expiresAt: boletoExpiresAt(dueDate, settings.boletoGraceDays),
    dueDate,
    instructions: null,
  };
}

/**
 * The order the cart makes at the prices `pricing` gives, or why there is none: a price the
 * customer saw that is not the catalog's, a product it does not know, no answer (or one that
 * came as the work budget ran out: nothing could be charged in time), or a cart the caller's
 * own pricing refuses (`PRICING=caller` without prices: a 400, once no recorded checkout holds
 * the key, since a policy follows the row, not the current setting).
 */
async function price(
  deps: CheckoutDeps,
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<{ order: CheckoutOrder } | { refusal: CheckoutOutcome | ValidationError }> {
  if (command.secrets.instrument.type !== 'card_token' && deps.acceptRawCards === false) {
    return { refusal: { kind: 'raw_card_not_accepted' } };
  }
  try {
    const prices = await deps.pricing.quote(command.cart, { signal: budget.signal });
    if (budget.signal.aborted) throw new PricingUnavailableError('priced as the budget ran out');
    const priced = priceCart(command.cart, prices);
    if ('order' in priced) {
      // Installments are checked against the total actually charged: the catalog's.
      const { totalCents, installments } = priced.order;
      const minimum = deps.minInstallmentCents ?? MIN_INSTALLMENT_AMOUNT;
      const problem = installmentProblem(totalCents, installments.count, minimum);
      if (!problem) return priced;
      const details = [{ path: 'payment_method.installments', message: problem }];
      return { refusal: new ValidationError('The checkout request is invalid', details) };
    }
    return {
      refusal: { kind: 'price_changed', currency: command.cart.currency, items: priced.changed },
    };
  } catch (error) {
    if (error instanceof ValidationError) return { refusal: error };
    if (error instanceof UnknownProductError) {
      return { refusal: { kind: 'unknown_product', productId: error.productId } };
    }
    if (error instanceof PricingUnavailableError) {
      deps.logger.warn('the cart could not be priced', { reason: error.message });
      return { refusal: { kind: 'pricing_unavailable', retryInMs: RETRY_PRICING_MS } };
    }
    throw error;
  }
}

async function answerRepeat(
  deps: CheckoutDeps,
  holder: KeyHolder,
  command: CheckoutCommand,
  budget: WorkBudget,
): Promise<CheckoutOutcome> {
  const { checkout } = holder;
  if (holder.requestHash !== command.idempotency?.requestHash) return { kind: 'key_mismatch' };
  if (holder.response) return { kind: 'replay', stored: holder.response };
  // Final without a stored answer (a row recovery could not read, set aside for a person):
  // it is told as it stands, never as a checkout still running.
  if (isFinal(checkout.status)) return finished(checkout);
  if (holder.leaseRemainingMs > 0) {
    return { kind: 'in_progress', checkoutId: checkout.id, retryInMs: holder.leaseRemainingMs };
  }
  // Undoing needs no card: that is recovery's work, which counts its tries and knows when to
  // stop. A client that retries whenever told to must not keep taking it over (and away from it).
  if (checkout.status === 'compensating') {
    return { kind: 'incomplete', checkout, retryInMs: RETRY_UNDO_MS };
  }
  const taken = await deps.repository.takeOver(checkout.id, budget.leaseMs, budget.worker);
  if (!taken) return { kind: 'in_progress', checkoutId: checkout.id, retryInMs: 1000 };
  // A Pix or boleto waiting for its customer: the answer is what the payment service says now.
  if (isWaiting(taken.status)) return (await checkWaiting(deps, taken, budget)).outcome;
  deps.logger.info('resuming checkout from its recovery point', {
    checkout_id: taken.id,
    status: taken.status,
    attempt: taken.attempt,
  });
  // Nothing the earlier worker sent can land once its lease ended the settle delay ago.
  const endedMsAgo = -holder.leaseRemainingMs;
  const earlierRequestsSettled =
    deps.settleDelayMs !== undefined && endedMsAgo >= deps.settleDelayMs;
  return runSaga(deps, taken, command.secrets, budget, { earlierRequestsSettled });
}
