import type { MinorUnits } from '#lib/money.ts';
import type {
  CardSummary,
  CardToken,
  Checkout,
  CheckoutFailure,
  CheckoutStatus,
  FinalStatus,
  InstallmentPlan,
  LineItem,
  PaymentInstructions,
  PaymentSecrets,
  RawCard,
  SagaStep,
  ShippingAddress,
} from './checkout.ts';
import type { FinishedOutcome } from './checkout-outcome.ts';

/**
 * The saga's ports. Adapters in `lib/clients` and `lib/db` implement them; unit tests pass fakes.
 * Every downstream call is keyed by the checkout id, so repeating one never acts twice.
 */

/** Per-call options: `signal` aborts the call (and its retries) at the invocation's deadline. */
export interface CallOptions {
  signal?: AbortSignal;
  /**
   * A step repeated for a new reason has a new key (design §3): `late` for the stock deducted
   * again, and undone again, for a Pix or boleto paid after it expired (`<id>:deduct_late`);
   * `stray` for the cancel of another charge the service holds for the checkout, which must not
   * take the key of the checkout's own cancel (`<id>:cancel_stray`).
   */
  round?: 'late' | 'stray';
}

export interface PaymentService {
  /**
   * Charges the card at once (`PAYMENT_CAPTURE=immediate`). Only ever sent with the card the
   * customer gave (never stored).
   */
  charge(
    input: {
      checkoutId: string;
      amountCents: MinorUnits;
      currency: string;
      card: RawCard | CardToken;
      customerEmail: string;
      /** How many installments, when more than one (a one-shot charge can be split too). */
      installments?: number;
      /** The payer's CPF/CNPJ, when given. */
      customerDocument?: string;
    },
    options?: CallOptions,
  ): Promise<{ transactionId: string }>;
  /**
   * Authorizes the amount on the card or token (`after_order`): held on the customer's card,
   * not taken until captured. With a token, the answer says which card it was.
   */
  authorize(
    input: {
      checkoutId: string;
      amountCents: MinorUnits;
      currency: string;
      installments: InstallmentPlan;
      customerEmail: string;
      payment: PaymentSecrets;
    },
    options?: CallOptions,
  ): Promise<{ transactionId: string; card?: CardSummary }>;
  /** Takes the authorized amount. Needs nothing the request carried: recovery repeats it. */
  capture(
    input: { checkoutId: string; transactionId: string; amountCents: MinorUnits; currency: string },
    options?: CallOptions,
  ): Promise<void>;
  /** Releases an authorization that was not captured: free for the customer, unlike a refund. */
  void(
    input: { checkoutId: string; transactionId: string; reason: string },
    options?: CallOptions,
  ): Promise<void>;
  refund(
    input: {
      checkoutId: string;
      transactionId: string;
      amountCents: MinorUnits;
      currency: string;
      reason: string;
    },
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Issues a Pix for the amount (BRL), payable until `expiresAt`: the customer pays it later in
   * their bank app. Sent with the payer's document, which only the request carries.
   */
  createPix(
    input: {
      checkoutId: string;
      amountCents: MinorUnits;
      customerEmail: string;
      customerDocument: string;
      expiresAt: string;
    },
    options?: CallOptions,
  ): Promise<{ transactionId: string; instructions: PaymentInstructions }>;
  /** Issues a boleto (BRL) due on `dueDate`, registered in the payer's name and document. */
  createBoleto(
    input: {
      checkoutId: string;
      amountCents: MinorUnits;
      customerEmail: string;
      customerName: string;
      customerDocument: string;
      /** The payer's address (the shipping address, `neighborhood` included): registration needs it. */
      customerAddress: ShippingAddress;
      dueDate: string;
    },
    options?: CallOptions,
  ): Promise<{ transactionId: string; instructions: PaymentInstructions }>;
  /** Cancels an unpaid Pix or boleto: refused once it is paid. */
  cancel(
    input: { checkoutId: string; transactionId: string; reason: string },
    options?: CallOptions,
  ): Promise<void>;
  /** The outcome lookup: every charge the service holds for a checkout. */
  findCharges(checkoutId: string, options?: CallOptions): Promise<ChargeRecord[]>;
}

/**
 * A payment as the payment service holds it: a one-shot charge (`success`), an authorization
 * (`authorized`, then `captured` or `voided`), either refunded since, or refused (`failed`); a
 * Pix or boleto `pending` until `paid`, or `cancelled`/`expired` unpaid.
 */
export interface ChargeRecord {
  transactionId: string;
  status:
    | 'success'
    | 'authorized'
    | 'captured'
    | 'voided'
    | 'refunded'
    | 'failed'
    | 'pending'
    | 'paid'
    | 'cancelled'
    | 'expired';
  /** The amount the service holds, in minor units of `currency`, when it says. */
  amountCents?: MinorUnits;
  currency?: string;
  /** When a Pix or boleto was paid (ISO 8601), when the service says. */
  paidAt?: string;
}

export interface InventoryService {
  deduct(input: { checkoutId: string; items: LineItem[] }, options?: CallOptions): Promise<void>;
  release(input: { checkoutId: string; items: LineItem[] }, options?: CallOptions): Promise<void>;
  /** The outcome lookup: every stock movement the service holds for a checkout. */
  findDeductions(checkoutId: string, options?: CallOptions): Promise<DeductionRecord[]>;
}

/** A deduction as the inventory service holds it (`released` once undone). */
export interface DeductionRecord {
  status: 'deducted' | 'released';
}

export interface OrderService {
  create(
    input: {
      checkoutId: string;
      customerEmail: string;
      shippingAddress: ShippingAddress;
      items: LineItem[];
      totalCents: MinorUnits;
      currency: string;
      paymentId: string;
      /** `authorized` when the payment is captured only after the order (`after_order`). */
      paymentStatus?: 'authorized';
    },
    options?: CallOptions,
  ): Promise<{ orderId: string }>;
  /** The outcome lookup: every order the service holds for a checkout. */
  findOrders(checkoutId: string, options?: CallOptions): Promise<OrderRecord[]>;
}

/** An order as the order service holds it. */
export interface OrderRecord {
  orderId: string;
  status: 'created' | 'cancelled';
}

/**
 * The answer a finished checkout gave, stored with its final state and replayed byte for byte
 * for its `Idempotency-Key`. The HTTP layer renders it (`RenderAnswer`) and alone knows what
 * `code` means; the domain carries it without reading it.
 */
export interface StoredResponse {
  code: number;
  body: string;
}

/** Renders the answer to store with a final state (`lib/http/checkout-presenter.ts`). */
export type RenderAnswer = (outcome: FinishedOutcome) => StoredResponse;

/** The fields a saga step may change; absent fields are left as they are. */
export interface CheckoutChanges {
  status: CheckoutStatus;
  paymentId?: string;
  orderId?: string;
  /** Why it did not complete; `null` clears it (a late payment out of `expired`). */
  failure?: CheckoutFailure | null;
  compensationFrom?: Checkout['compensationFrom'];
  undoFailures?: string[];
  /** The card's brand and last 4, when a token's authorization tells them. */
  card?: CardSummary;
  /** What a Pix or boleto was issued as: shown to the customer while the checkout waits. */
  instructions?: PaymentInstructions;
  /** A Pix or boleto paid after it expired: later undos use keys of their own. */
  paidLate?: true;
  /**
   * The payment webhook's event whose outcome this change applies: kept in the same statement,
   * so its duplicate finds it and does nothing, while one not applied yet is redelivered.
   */
  eventId?: string;
  /** When the sweep looks this waiting or expired checkout up next (`null`: never again). */
  nextCheckAt?: string | null;
  /** Set on a final state: the answer to replay; also ends the lease. */
  response?: StoredResponse;
  /** Why the checkout moves: kept in its history with the worker that moved it. */
  cause: string;
}

/** One change of a checkout's state, kept with the checkout, oldest first. */
export interface Transition {
  /**
   * The state before; `null` on the entry that recorded the checkout. Equal to `to` when only
   * the holder changed or a try was counted (a takeover, a recovery claim, a settle try).
   */
  from: CheckoutStatus | null;
  to: CheckoutStatus;
  cause: string;
  /** When, on the database's clock (ISO 8601). */
  at: string;
  /** The worker that held the checkout: `request:<id>`, `recovery:<id>`, `operator:<name>`. */
  by: string;
}

/** Which checkouts an operator lists: oldest first. */
export interface CheckoutFilter {
  statuses: CheckoutStatus[];
  /** Only checkouts created at least this long ago. */
  olderThanMs?: number;
  limit: number;
}

/** How an operator's take of one checkout went. */
export type OperatorTake =
  | { taken: Checkout }
  | { refused: 'not_found' | 'held' | 'settling' | 'finished' | 'no_recovery_point' };

/**
 * An `Idempotency-Key` claim: the key, whose it is, the hash of the request it was first used
 * with. Keys belong to their caller: two callers that send the same key get two checkouts.
 */
export interface IdempotencyClaim {
  key: string;
  /** Who sent it: `iam:<role or user ARN>`, `api-key:<id>`, or `anonymous`. */
  caller: string;
  requestHash: string;
  ttlHours: number;
}

/** The checkout already holding an idempotency key, with what is needed to answer a repeat. */
export interface KeyHolder {
  checkout: Checkout;
  requestHash: string;
  response: StoredResponse | null;
  /** Milliseconds until its lease ends (≤ 0: expired or none). */
  leaseRemainingMs: number;
}

export interface CheckoutRepository {
  /**
   * Records a new checkout before any downstream call, holding a lease of `leaseMs`. With an
   * idempotency claim the key is taken atomically with the insert; if a live checkout already
   * holds it, nothing is written and that checkout is returned instead. An expired key is
   * released and taken.
   */
  create(
    checkout: Checkout,
    options: { leaseMs: number; idempotency?: IdempotencyClaim; worker: string },
  ): Promise<{ created: true } | { created: false; holder: KeyHolder }>;
  /**
   * The checkout holding the caller's idempotency key (one claimed before keys had callers
   * included), if the key has not expired; nothing is written. Read only when a request with a
   * key cannot be priced, so that a recorded checkout answers for its key first.
   */
  findKeyHolder(claim: IdempotencyClaim): Promise<KeyHolder | undefined>;
  /**
   * Takes up to `limit` waiting or expired checkouts whose next check is due (`next_check_at`),
   * skipping any held, under a lease: the sweep looks each up.
   */
  claimWaiting(limit: number, leaseMs: number, worker: string): Promise<Checkout[]>;
  /**
   * Takes a waiting or expired checkout for a webhook, a same-key retry or an operator (`cause`
   * is kept in its history); `undefined` if it is in another state or someone holds it.
   */
  takeWaiting(
    id: string,
    leaseMs: number,
    worker: string,
    cause: string,
  ): Promise<Checkout | undefined>;
  /**
   * Gives a waiting or expired checkout's lease back, nothing else changed, with when the sweep
   * looks it up next (`null`: never). Fenced like `update`.
   */
  leaveWaiting(
    checkout: Pick<Checkout, 'id' | 'attempt'>,
    options: { nextCheckAt: string | null; cause: string },
  ): Promise<void>;
  /** Whether a transition of the checkout applied the webhook event `eventId`. */
  eventApplied(id: string, eventId: string): Promise<boolean>;
  /** Takes over a non-final checkout whose lease has expired; `undefined` if someone holds it. */
  takeOver(id: string, leaseMs: number, worker: string): Promise<Checkout | undefined>;
  /**
   * Claims up to `limit` non-final checkouts whose lease expired at least `settleDelayMs` ago
   * (skipping locked rows). A row this version cannot read (e.g. an amount an older release
   * wrote with more decimals than its currency has) is set `requires_attention` instead of
   * failing the batch; its id is in `unreadable`.
   */
  claimAbandoned(
    limit: number,
    leaseMs: number,
    settleDelayMs: number,
    worker: string,
  ): Promise<{ claimed: Checkout[]; unreadable: string[] }>;
  /**
   * Moves a checkout to its next recovery point: one write per step, fenced on the checkout's
   * `attempt`, appending the transition (with `changes.cause` and the holding worker) to its
   * history in the same statement. Throws `LeaseLostError` if another worker has taken the
   * checkout over.
   */
  update(checkout: Pick<Checkout, 'id' | 'attempt'>, changes: CheckoutChanges): Promise<void>;
  /**
   * Counts one real try to settle the checkout's open step that got no answer, fenced like
   * `update`; returns the count so far.
   */
  recordSettleTry(checkout: Pick<Checkout, 'id' | 'attempt'>, cause: string): Promise<number>;
  findById(id: string): Promise<Checkout | undefined>;
  /** The checkout's transitions, oldest first (empty for an unknown id). */
  history(id: string): Promise<Transition[]>;
  /**
   * Checkouts in any of `filter.statuses`, oldest first. A row this version cannot read is named
   * in `unreadable` instead of failing the whole list.
   */
  list(filter: CheckoutFilter): Promise<{ checkouts: Checkout[]; unreadable: string[] }>;
  /** How many checkouts are not final, and when the oldest of them was created. */
  backlog(): Promise<Backlog>;
  /**
   * Takes one checkout for an operator: a non-final one whose lease expired at least
   * `settleDelayMs` ago (before that a request it sent may still land: `settling`), or one in
   * `requires_attention`. With `reopen`, a
   * `requires_attention` checkout is set back to the recovery point it was given up at (the
   * state before it in its history, else `compensating` when it has something to undo), its
   * undo failures, settle tries and stored answer cleared (it is not final any more, so a
   * same-key retry must not replay how it ended), so recovery can run it again. Completed and failed
   * checkouts are refused (`finished`), as is one another worker holds (`held`).
   */
  takeForOperator(
    id: string,
    options: { leaseMs: number; worker: string; reopen: boolean; settleDelayMs: number },
  ): Promise<OperatorTake>;
}

/** What is still open: for the oldest-unfinished and the authorization-age alarms. */
export interface Backlog {
  /** How many checkouts are not final, and when the oldest of them was created. */
  unfinished: number;
  oldestUnfinishedAt: string | null;
  /**
   * When the oldest checkout whose authorization is still open was created: an `after_order`
   * checkout not yet final, or one for a person whose capture or void did not go through. An
   * authorization expires (7 days for a card-not-present payment at Stripe): one held this long
   * must be captured or voided before it does.
   */
  oldestAuthorizedAt: string | null;
  /** Pix and boleto checkouts waiting for their customer, and when the oldest was created. */
  waiting: number;
  oldestWaitingAt: string | null;
  /** Pix and boleto checkouts still waiting well past their expiry (the expiry check is late). */
  waitingPastExpiry: number;
}

/** What each recovery run reports of what is still open (ages in seconds, 0 when none). */
export interface BacklogReport {
  /** Checkouts not final, and the age of the oldest of them. */
  unfinished: number;
  oldestAgeSeconds: number;
  /** The age of the oldest authorization still open. */
  oldestAuthorizationAgeSeconds: number;
  /** Pix and boleto checkouts waiting, the age of the oldest, and those well past expiry. */
  waiting: number;
  oldestWaitingAgeSeconds: number;
  waitingPastExpiry: number;
}

/** Another worker took the checkout over: this one must stop writing. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly checkoutId: string) {
    super(`checkout ${checkoutId} was taken over by another worker`);
  }
}

/** Counts of how checkouts end, for dashboards and alarms. */
export interface CheckoutMetrics {
  outcome(status: FinalStatus | 'incomplete', failedStep?: SagaStep): void;
  /** After each recovery run: what is still open, for the dashboard and the age alarms. */
  backlog(report: BacklogReport): void;
  /** A completed checkout's payment found refunded since (outside it): the order stands. */
  refundedAfterCompletion(): void;
}

/**
 * Wakes recovery for one checkout once its lease has ended, so nothing has to poll (EventBridge
 * Scheduler on AWS). Never throws: a schedule that could not be made is logged, and the hourly
 * sweep finds the checkout anyway.
 */
export interface RecoveryScheduler {
  scheduleRecovery(checkout: Pick<Checkout, 'id' | 'attempt'>, leaseEndsAt: Date): Promise<void>;
  /**
   * Wakes the sweep at `at` (a Pix's or boleto's expiry check), on the same minute schedules as
   * recovery. Never throws, like `scheduleRecovery`.
   */
  scheduleCheck(checkout: Pick<Checkout, 'id'>, at: Date): Promise<void>;
}

export interface Clock {
  now(): Date;
}

/** The minimal logger the domain needs; Powertools' Logger fits it. */
export interface SagaLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
