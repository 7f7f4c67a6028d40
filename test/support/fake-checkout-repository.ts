import type { Checkout } from '#lib/checkout/checkout.ts';
import {
  type CheckoutChanges,
  type CheckoutRepository,
  type Clock,
  type IdempotencyClaim,
  type KeyHolder,
  LeaseLostError,
  type StoredResponse,
} from '#lib/checkout/ports.ts';

/** A checkout as the fake holds it: the row's lease, key and stored answer beside it. */
export interface StoredCheckout {
  checkout: Checkout;
  lockedUntil: Date | null;
  response?: StoredResponse;
  idempotency?: Omit<IdempotencyClaim, 'ttlHours'> & { expiresAt: Date };
  /** A row an older release wrote that this one cannot read (99.90 yen): reading it throws. */
  unreadable?: boolean;
}

const FINAL = ['completed', 'failed', 'requires_attention'];

/**
 * A repository in a Map that records every write it is asked for, with the SQL repository's
 * rules on the given clock (`test/contract` checks the two against each other): a lease is free
 * when `lockedUntil <= now`, a key when its TTL has run out, every write is fenced on `attempt`.
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
    options: { leaseMs: number; idempotency?: IdempotencyClaim },
  ): Promise<{ created: true } | { created: false; holder: KeyHolder }> {
    this.log.push({ name: 'repository.create', input: { checkout, ...options } });
    if (this.failWith.create) throw this.failWith.create;
    const claim = options.idempotency;
    const holder =
      claim && [...this.checkouts.values()].find((c) => c.idempotency?.key === claim.key);
    if (holder?.idempotency && holder.idempotency.expiresAt > this.clock.now()) {
      return {
        created: false,
        holder: {
          checkout: read(holder),
          requestHash: holder.idempotency.requestHash,
          response: holder.response ?? null,
          leaseRemainingMs: holder.lockedUntil ? holder.lockedUntil.getTime() - this.nowMs() : 0,
        },
      };
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
      idempotency: claim && {
        key: claim.key,
        requestHash: claim.requestHash,
        expiresAt: new Date(this.nowMs() + claim.ttlHours * 3_600_000),
      },
    });
    return { created: true };
  }

  async takeOver(id: string, leaseMs: number): Promise<Checkout | undefined> {
    this.log.push({ name: 'repository.takeOver', input: { id, leaseMs } });
    const stored = this.checkouts.get(id);
    if (!stored || !this.isAbandoned(stored)) return undefined;
    this.claim(stored, leaseMs);
    return read(stored);
  }

  async claimAbandoned(limit: number, leaseMs: number, settleDelayMs: number) {
    this.log.push({ name: 'repository.claimAbandoned', input: { limit, leaseMs, settleDelayMs } });
    // Oldest lease first, as the SQL orders them (`locked_until nulls first`).
    const due = [...this.checkouts.values()]
      .filter((c) => this.isAbandoned(c, settleDelayMs))
      .sort(
        (a, b) => (a.lockedUntil?.getTime() ?? -Infinity) - (b.lockedUntil?.getTime() ?? -Infinity),
      )
      .slice(0, limit);
    const claimed: Checkout[] = [];
    const unreadable: string[] = [];
    for (const stored of due) {
      this.claim(stored, leaseMs);
      if (!stored.unreadable) {
        claimed.push(read(stored));
        continue;
      }
      unreadable.push(stored.checkout.id);
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
    const { response, ...fields } = changes;
    if (changes.status !== stored.checkout.status) stored.checkout.settleTries = 0;
    stored.checkout = {
      ...stored.checkout,
      // null, like undefined, leaves a field as it is (the SQL's coalesce).
      ...Object.fromEntries(
        Object.entries(fields).filter(([, v]) => v !== undefined && v !== null),
      ),
      updatedAt: this.clock.now().toISOString(),
    };
    if (response) {
      stored.response = response;
      stored.lockedUntil = null;
    }
  }

  async recordSettleTry(checkout: Pick<Checkout, 'id' | 'attempt'>): Promise<number> {
    this.log.push({ name: 'repository.recordSettleTry', input: { id: checkout.id } });
    const stored = this.fenced(checkout);
    stored.checkout.settleTries += 1;
    stored.checkout.updatedAt = this.clock.now().toISOString();
    return stored.checkout.settleTries;
  }

  async findById(id: string): Promise<Checkout | undefined> {
    this.log.push({ name: 'repository.findById', input: { id } });
    if (this.failWith.findById) throw this.failWith.findById;
    const stored = this.checkouts.get(id);
    return stored && read(stored);
  }

  /** The stored checkout if `checkout.attempt` still holds it; an unknown id is lost too. */
  private fenced({ id, attempt }: Pick<Checkout, 'id' | 'attempt'>): StoredCheckout {
    const stored = this.checkouts.get(id);
    if (stored?.checkout.attempt !== attempt) throw new LeaseLostError(id);
    return stored;
  }

  private isAbandoned(stored: StoredCheckout, delayMs = 0): boolean {
    const expired = !stored.lockedUntil || stored.lockedUntil.getTime() <= this.nowMs() - delayMs;
    return expired && !FINAL.includes(stored.checkout.status);
  }

  private claim(stored: StoredCheckout, leaseMs: number): void {
    stored.checkout.attempt += 1;
    stored.checkout.updatedAt = this.clock.now().toISOString();
    stored.lockedUntil = this.leaseEnd(leaseMs);
  }

  private leaseEnd(leaseMs: number): Date {
    return new Date(this.nowMs() + leaseMs);
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }
}

function read(stored: StoredCheckout): Checkout {
  if (stored.unreadable) throw new RangeError(`checkout ${stored.checkout.id}: unreadable amount`);
  return structuredClone(stored.checkout);
}
