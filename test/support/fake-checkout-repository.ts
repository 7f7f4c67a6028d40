import { type Checkout, type CheckoutStatus, isFinal, isWaiting } from '#lib/checkout/checkout.ts';
import {
  type Backlog,
  type CheckoutChanges,
  type CheckoutFilter,
  type CheckoutRepository,
  type Clock,
  type IdempotencyClaim,
  type KeyHolder,
  LeaseLostError,
  type OperatorTake,
  type StoredResponse,
  type Transition,
} from '#lib/checkout/ports.ts';
import { planOperatorTake } from '#lib/db/operator-take.ts';

/** A checkout as the fake holds it: the row's lease, key, stored answer, holder and history. */
export interface StoredCheckout {
  checkout: Checkout;
  lockedUntil: Date | null;
  /** The worker holding it (`by` in its history); absent in a row from before the history. */
  worker?: string | null;
  /** Its transitions, oldest first; absent in a row from before the history. */
  history?: Transition[];
  response?: StoredResponse;
  /**
   * Its key as the SQL stores it: `<caller>\u001f<key>`, or the bare key in a row from before
   * keys had callers (which holds for every caller until it expires). It expires `KEPT` (never)
   * until the checkout is final, then `keyTtlHours` after that final write.
   */
  idempotency?: { key: string; requestHash: string; expiresAt: Date };
  /** The TTL its key was claimed with; absent in a row from before (24 h, as the SQL reads it). */
  keyTtlHours?: number;
  /** When the sweep looks this waiting or expired checkout up next; absent or `null`: never. */
  nextCheckAt?: Date | null;
  /** The webhook events whose outcome a transition applied, in order (a duplicate may repeat). */
  appliedEvents?: string[];
  /** A row an older release wrote that this one cannot read (99.90 yen): reading it throws. */
  unreadable?: boolean;
}

/** The latest instant a `Date` holds: a key's expiry until its checkout is final (`infinity`). */
const KEPT = new Date(8.64e15);
/** The key's TTL for a row that has none stored, as the SQL's `coalesce(…, 24)`. */
const DEFAULT_KEY_TTL_HOURS = 24;
/** How long past its expiry a checkout may still wait before the backlog counts it (the SQL's). */
const EXPIRY_MARGIN_MS = 62 * 60_000;

/** Recovery's: not final and not waiting for the customer (`UNFINISHED` in the SQL). */
const isUnfinished = (status: CheckoutStatus) => !isFinal(status) && !isWaiting(status);
/** What the sweep and a webhook take: a waiting checkout, or an expired one a late payment reaches. */
const isWaitingOrExpired = (status: CheckoutStatus) => isWaiting(status) || status === 'expired';

/**
 * A repository in a Map that records every write it is asked for, with the SQL repository's
 * rules on the given clock (`test/contract` checks the two against each other): a lease is free
 * when `lockedUntil <= now`, a key once its checkout is final and its TTL has run out since then,
 * every write is fenced on `attempt`.
 */
export class FakeCheckoutRepository implements CheckoutRepository {
  readonly checkouts = new Map<string, StoredCheckout>();
  readonly writes: Array<
    | { kind: 'insert'; checkout: Checkout; leaseMs: number }
    | { kind: 'update'; id: string; changes: CheckoutChanges }
  > = [];
  failWith: Partial<Record<keyof CheckoutRepository, Error>> = {};

  constructor(
    private readonly log: Array<{ name: string; input: unknown }>,
    private readonly clock: Clock,
  ) {}

  async create(
    checkout: Checkout,
    options: { leaseMs: number; idempotency?: IdempotencyClaim; worker: string },
  ): Promise<{ created: true } | { created: false; holder: KeyHolder }> {
    this.log.push({ name: 'repository.create', input: { checkout, ...options } });
    if (this.failWith.create) throw this.failWith.create;
    const claim = options.idempotency;
    const holder = claim && this.holderOf(claim);
    if (holder?.idempotency && holder.idempotency.expiresAt > this.clock.now()) {
      return { created: false, holder: this.keyHolder(holder, holder.idempotency) };
    }
    if (holder) holder.idempotency = undefined; // an expired key is released
    if (this.checkouts.has(checkout.id)) throw new Error(`duplicate checkout ${checkout.id}`);
    this.writes.push({
      kind: 'insert',
      checkout: structuredClone(checkout),
      leaseMs: options.leaseMs,
    });
    this.checkouts.set(checkout.id, {
      // The SQL writes `createdAt` as both timestamps.
      checkout: { ...structuredClone(checkout), updatedAt: checkout.createdAt },
      lockedUntil: this.leaseEnd(options.leaseMs),
      worker: options.worker,
      history: [this.transition(null, checkout.status, 'recorded', options.worker)],
      idempotency: claim && {
        key: `${claim.caller}\u001f${claim.key}`,
        requestHash: claim.requestHash,
        expiresAt: KEPT,
      },
      keyTtlHours: claim?.ttlHours,
      nextCheckAt: null,
      appliedEvents: [],
    });
    return { created: true };
  }

  async findKeyHolder(claim: IdempotencyClaim): Promise<KeyHolder | undefined> {
    this.log.push({ name: 'repository.findKeyHolder', input: claim });
    const holder = this.holderOf(claim);
    if (!holder?.idempotency || holder.idempotency.expiresAt <= this.clock.now()) return undefined;
    return this.keyHolder(holder, holder.idempotency);
  }

  /** The row holding the caller's key, or the same key stored before keys had callers. */
  private holderOf(claim: IdempotencyClaim): StoredCheckout | undefined {
    const rows = [...this.checkouts.values()];
    const stored = `${claim.caller}\u001f${claim.key}`;
    return (
      rows.find((c) => c.idempotency?.key === stored) ??
      rows.find((c) => c.idempotency?.key === claim.key)
    );
  }

  private keyHolder(
    holder: StoredCheckout,
    idempotency: NonNullable<StoredCheckout['idempotency']>,
  ): KeyHolder {
    return {
      checkout: read(holder),
      requestHash: idempotency.requestHash,
      response: holder.response ?? null,
      leaseRemainingMs: holder.lockedUntil ? holder.lockedUntil.getTime() - this.nowMs() : 0,
    };
  }

  async takeOver(id: string, leaseMs: number, worker: string): Promise<Checkout | undefined> {
    this.log.push({ name: 'repository.takeOver', input: { id, leaseMs, worker } });
    const stored = this.checkouts.get(id);
    // Any checkout not final, a waiting one too (a same-key retry looks its payment up).
    if (!stored || isFinal(stored.checkout.status) || !this.leaseFree(stored)) return undefined;
    this.take(stored, { leaseMs, worker, cause: 'taken over' });
    return read(stored);
  }

  async claimAbandoned(limit: number, leaseMs: number, settleDelayMs: number, worker: string) {
    this.log.push({
      name: 'repository.claimAbandoned',
      input: { limit, leaseMs, settleDelayMs, worker },
    });
    // Oldest lease first, as the SQL orders them (`locked_until nulls first`).
    const due = [...this.checkouts.values()]
      .filter((c) => isUnfinished(c.checkout.status) && this.leaseFree(c, settleDelayMs))
      .sort(
        (a, b) => (a.lockedUntil?.getTime() ?? -Infinity) - (b.lockedUntil?.getTime() ?? -Infinity),
      )
      .slice(0, limit);
    const claimed: Checkout[] = [];
    const unreadable: string[] = [];
    for (const stored of due) {
      this.take(stored, { leaseMs, worker, cause: 'claimed by recovery' });
      if (!stored.unreadable) {
        claimed.push(read(stored));
        continue;
      }
      unreadable.push(stored.checkout.id);
      this.append(stored, 'requires_attention', 'its row cannot be read');
      stored.checkout.status = 'requires_attention';
      stored.checkout.undoFailures = ['read_checkout'];
      stored.lockedUntil = null;
    }
    return { claimed, unreadable };
  }

  async update(
    checkout: Pick<Checkout, 'id' | 'attempt'>,
    changes: CheckoutChanges,
  ): Promise<void> {
    const { id } = checkout;
    this.log.push({ name: `repository.update:${changes.status}`, input: { id, changes } });
    if (this.failWith.update) throw this.failWith.update;
    const stored = this.fenced(checkout);
    this.writes.push({ kind: 'update', id, changes: structuredClone(changes) });
    this.append(stored, changes.status, changes.cause);
    const { response, cause: _, instructions, paidLate, eventId, nextCheckAt, ...fields } = changes;
    const before = stored.checkout.status;
    if (changes.status !== before) stored.checkout.settleTries = 0;
    // Out of a final state (a late payment out of `expired`): not final any more, so its key is
    // kept again and its stored answer dropped. Out of waiting or expired: unfinished from now.
    if (!response && isFinal(before)) {
      delete stored.response;
      if (stored.idempotency) stored.idempotency.expiresAt = KEPT;
    }
    const unfinishedNow = !response && !isWaiting(changes.status);
    if (unfinishedNow && (isWaiting(before) || before === 'expired')) {
      stored.checkout.unfinishedSince = this.clock.now().toISOString();
    }
    stored.checkout = {
      ...stored.checkout,
      // null, like undefined, leaves a field as it is (the SQL's coalesce).
      ...Object.fromEntries(
        Object.entries(fields).filter(([, v]) => v !== undefined && v !== null),
      ),
      updatedAt: this.clock.now().toISOString(),
    };
    // Kept on a card checkout's row too, where nothing reads them (no Pix or boleto terms).
    const { asyncPayment } = stored.checkout;
    if (instructions && asyncPayment)
      stored.checkout.asyncPayment = { ...asyncPayment, instructions };
    if (paidLate) stored.checkout.paidLate = true;
    if (changes.failure === null) stored.checkout.failure = null;
    if (eventId !== undefined) stored.appliedEvents = [...(stored.appliedEvents ?? []), eventId];
    if (nextCheckAt !== undefined) stored.nextCheckAt = instant(nextCheckAt);
    if (isWaiting(changes.status)) stored.lockedUntil = null;
    if (response) {
      stored.response = response;
      stored.lockedUntil = null;
      if (stored.idempotency) stored.idempotency.expiresAt = this.keyExpiry(stored);
    }
  }

  async recordSettleTry(
    checkout: Pick<Checkout, 'id' | 'attempt'>,
    cause: string,
  ): Promise<number> {
    this.log.push({ name: 'repository.recordSettleTry', input: { id: checkout.id, cause } });
    const stored = this.fenced(checkout);
    this.append(stored, stored.checkout.status, cause);
    stored.checkout.settleTries += 1;
    stored.checkout.updatedAt = this.clock.now().toISOString();
    return stored.checkout.settleTries;
  }

  async claimWaiting(limit: number, leaseMs: number, worker: string): Promise<Checkout[]> {
    this.log.push({ name: 'repository.claimWaiting', input: { limit, leaseMs, worker } });
    const nowMs = this.nowMs();
    // Earliest check first, as the SQL orders them (`order by next_check_at`).
    const due = [...this.checkouts.values()]
      .filter(
        (c) =>
          isWaitingOrExpired(c.checkout.status) &&
          c.nextCheckAt != null &&
          c.nextCheckAt.getTime() <= nowMs &&
          this.leaseFree(c),
      )
      .sort((a, b) => (a.nextCheckAt?.getTime() ?? 0) - (b.nextCheckAt?.getTime() ?? 0))
      .slice(0, limit);
    for (const stored of due)
      this.take(stored, { leaseMs, worker, cause: 'looked up by the sweep' });
    return due.filter((stored) => !stored.unreadable).map(read);
  }

  async takeWaiting(
    id: string,
    leaseMs: number,
    worker: string,
    cause: string,
  ): Promise<Checkout | undefined> {
    this.log.push({ name: 'repository.takeWaiting', input: { id, leaseMs, worker, cause } });
    const stored = this.checkouts.get(id);
    if (!stored || !isWaitingOrExpired(stored.checkout.status) || !this.leaseFree(stored)) {
      return undefined;
    }
    this.take(stored, { leaseMs, worker, cause });
    return read(stored);
  }

  async leaveWaiting(
    checkout: Pick<Checkout, 'id' | 'attempt'>,
    { nextCheckAt, cause }: { nextCheckAt: string | null; cause: string },
  ): Promise<void> {
    this.log.push({
      name: 'repository.leaveWaiting',
      input: { id: checkout.id, nextCheckAt, cause },
    });
    const stored = this.fenced(checkout);
    this.append(stored, stored.checkout.status, cause);
    stored.lockedUntil = null;
    stored.nextCheckAt = instant(nextCheckAt);
    stored.checkout.updatedAt = this.clock.now().toISOString();
  }

  async eventApplied(id: string, eventId: string): Promise<boolean> {
    this.log.push({ name: 'repository.eventApplied', input: { id, eventId } });
    return this.checkouts.get(id)?.appliedEvents?.includes(eventId) ?? false;
  }

  async findById(id: string): Promise<Checkout | undefined> {
    this.log.push({ name: 'repository.findById', input: { id } });
    if (this.failWith.findById) throw this.failWith.findById;
    const stored = this.checkouts.get(id);
    return stored && read(stored);
  }

  async history(id: string): Promise<Transition[]> {
    this.log.push({ name: 'repository.history', input: { id } });
    return structuredClone(this.checkouts.get(id)?.history ?? []);
  }

  async list({
    statuses,
    olderThanMs,
    limit,
  }: CheckoutFilter): Promise<{ checkouts: Checkout[]; unreadable: string[] }> {
    this.log.push({ name: 'repository.list', input: { statuses, olderThanMs, limit } });
    const createdBy = this.nowMs() - (olderThanMs ?? 0);
    const listed = [...this.checkouts.values()]
      .filter((stored) => statuses.includes(stored.checkout.status))
      .filter((stored) => olderThanMs === undefined || createdMs(stored) <= createdBy)
      .sort((a, b) => createdMs(a) - createdMs(b) || a.checkout.id.localeCompare(b.checkout.id))
      .slice(0, limit);
    return {
      checkouts: listed.filter((stored) => !stored.unreadable).map(read),
      unreadable: listed.filter((stored) => stored.unreadable).map((s) => s.checkout.id),
    };
  }

  async backlog(): Promise<Backlog> {
    this.log.push({ name: 'repository.backlog', input: {} });
    if (this.failWith.backlog) throw this.failWith.backlog;
    const all = [...this.checkouts.values()];
    const unfinished = all.filter((stored) => isUnfinished(stored.checkout.status));
    const authorized = all.filter(
      ({ checkout: c }) =>
        c.flow === 'after_order' &&
        c.paymentId !== null &&
        !['completed', 'failed', 'expired'].includes(c.status) &&
        !c.undoFailures.includes('payment_undone_under_order'),
    );
    const waiting = all.filter(({ checkout: c }) => c.status === 'awaiting_payment');
    const pastExpiry = all.filter(
      ({ checkout: c }) =>
        c.status === 'awaiting_payment' &&
        c.asyncPayment !== null &&
        Date.parse(c.asyncPayment.expiresAt) < this.nowMs() - EXPIRY_MARGIN_MS,
    );
    const oldest = (rows: typeof all, since = createdMs) =>
      rows.length > 0 ? new Date(Math.min(...rows.map(since))).toISOString() : null;
    return {
      unfinished: unfinished.length,
      oldestUnfinishedAt: oldest(unfinished, (s) => Date.parse(s.checkout.unfinishedSince)),
      oldestAuthorizedAt: oldest(authorized),
      waiting: waiting.length,
      oldestWaitingAt: oldest(waiting),
      waitingPastExpiry: pastExpiry.length,
    };
  }

  async takeForOperator(
    id: string,
    options: { leaseMs: number; worker: string; reopen: boolean; settleDelayMs: number },
  ): Promise<OperatorTake> {
    this.log.push({ name: 'repository.takeForOperator', input: { id, ...options } });
    const stored = this.checkouts.get(id);
    if (!stored) return { refused: 'not_found' };
    const found = read(stored);
    const held = stored.lockedUntil !== null && stored.lockedUntil.getTime() > this.nowMs();
    const settling =
      stored.lockedUntil !== null &&
      stored.lockedUntil.getTime() > this.nowMs() - options.settleDelayMs;
    const history = stored.history ?? [];
    const plan = planOperatorTake({ ...found, held, settling, history }, options.reopen);
    if ('refused' in plan) return plan;
    this.take(stored, { ...options, cause: plan.cause, to: plan.status });
    stored.checkout.status = plan.status;
    if (plan.reopens) {
      stored.checkout.undoFailures = [];
      stored.checkout.settleTries = 0;
      stored.response = undefined;
      if (stored.idempotency) stored.idempotency.expiresAt = KEPT;
    }
    return { taken: read(stored) };
  }

  /** The stored checkout if `checkout.attempt` still holds it; an unknown id is lost too. */
  private fenced({ id, attempt }: Pick<Checkout, 'id' | 'attempt'>): StoredCheckout {
    const stored = this.checkouts.get(id);
    if (stored?.checkout.attempt !== attempt) throw new LeaseLostError(id);
    return stored;
  }

  /** Whether its lease ended (or it holds none) at least `delayMs` ago. */
  private leaseFree(stored: StoredCheckout, delayMs = 0): boolean {
    return !stored.lockedUntil || stored.lockedUntil.getTime() <= this.nowMs() - delayMs;
  }

  /** A final write's: its key is kept for its TTL from now. */
  private keyExpiry(stored: StoredCheckout): Date {
    return new Date(this.nowMs() + (stored.keyTtlHours ?? DEFAULT_KEY_TTL_HOURS) * 3_600_000);
  }

  /** A new worker holds it: a new lease, and `attempt` bumped so that the one before is fenced. */
  private take(
    stored: StoredCheckout,
    taker: { leaseMs: number; worker: string; cause: string; to?: CheckoutStatus },
  ): void {
    stored.worker = taker.worker;
    this.append(stored, taker.to ?? stored.checkout.status, taker.cause);
    stored.checkout.attempt += 1;
    stored.checkout.updatedAt = this.clock.now().toISOString();
    stored.lockedUntil = this.leaseEnd(taker.leaseMs);
  }

  /** Appends the move from its stored status to `to`, by the worker holding it. */
  private append(stored: StoredCheckout, to: CheckoutStatus, cause: string): void {
    const by = stored.worker ?? 'unknown';
    stored.history ??= [];
    stored.history.push(this.transition(stored.checkout.status, to, cause, by));
  }

  private transition(
    from: CheckoutStatus | null,
    to: CheckoutStatus,
    cause: string,
    by: string,
  ): Transition {
    return { from, to, cause, at: this.clock.now().toISOString(), by };
  }

  private leaseEnd(leaseMs: number): Date {
    return new Date(this.nowMs() + leaseMs);
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }
}

/** An ISO 8601 instant as a `Date`; `null` stays `null`. */
function instant(at: string | null): Date | null {
  return at === null ? null : new Date(at);
}

function createdMs(stored: StoredCheckout): number {
  return Date.parse(stored.checkout.createdAt);
}

function read(stored: StoredCheckout): Checkout {
  if (stored.unreadable) throw new RangeError(`checkout ${stored.checkout.id}: unreadable amount`);
  return structuredClone(stored.checkout);
}
