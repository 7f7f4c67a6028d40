import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Checkout,
  type CheckoutFailure,
  type CheckoutOrder,
  newCheckout,
} from '#lib/checkout/checkout.ts';
import {
  type CheckoutChanges,
  type CheckoutRepository,
  type IdempotencyClaim,
  LeaseLostError,
  type StoredResponse,
} from '#lib/checkout/ports.ts';
import { sampleOrder } from '../unit/fakes.ts';

/** One repository to check, holding no checkouts, with the few levers the contract needs. */
export interface RepositoryUnderTest {
  repository: CheckoutRepository;
  /** The repository's clock: the fake's, or the database's `now()`. */
  now(): Promise<Date>;
  /**
   * Lets `ms` pass for every lease and idempotency key it holds, as if its clock had moved on,
   * so that a test expires a lease exactly instead of sleeping and hoping.
   */
  elapse(ms: number): Promise<void>;
  /** Adds half a unit to a checkout's stored total, as an older release could (99.5 yen). */
  spoilAmount(id: string): Promise<void>;
  /** The stored status, read without reading the row as a checkout. */
  storedStatus(id: string): Promise<string | undefined>;
  /**
   * Runs `work` while another open transaction holds the row locked. Only where the driver
   * can run a second transaction beside it (not the fake, not the one-connection PGlite).
   */
  holdRow?: <T>(id: string, work: () => Promise<T>) => Promise<T>;
}

export interface ContractTarget {
  name: string;
  /** Whether `holdRow` exists, known before any test runs (the tests are registered by then). */
  locksRows: boolean;
  fresh(): Promise<RepositoryUnderTest>;
  close(): Promise<void>;
}

const LEASE = 60_000;
const HOUR = 3_600_000;
const ANSWER: StoredResponse = { code: 201, body: '{"status":"completed"}' };
const UNAVAILABLE: CheckoutFailure = {
  step: 'order',
  kind: 'unavailable',
  reason: 'http_503',
  message: 'The order service is unavailable',
};
const REFUSED: CheckoutFailure = {
  step: 'payment',
  kind: 'refused',
  reason: 'insufficient_funds',
  message: 'the payment service refused: insufficient_funds',
};

const claim = (key: string, requestHash: string, ttlHours = 24): IdempotencyClaim => ({
  key,
  requestHash,
  ttlHours,
});
const ids = (checkouts: Checkout[]) => checkouts.map((c) => c.id).sort();

/**
 * Registers the `CheckoutRepository` contract for `target`: what the port promises, as
 * behaviour the saga and recovery rely on. The SQL repository is the reference; the fake must
 * pass the same tests.
 */
export function checkoutRepositoryContract(target: ContractTarget): void {
  describe(`CheckoutRepository contract: ${target.name}`, () => {
    let subject: RepositoryUnderTest;
    let repository: CheckoutRepository;
    beforeEach(async () => {
      subject = await target.fresh();
      repository = subject.repository;
    });
    afterAll(() => target.close());

    /** A new checkout as the saga makes it, created on the repository's clock. */
    const newOne = async (order: Partial<CheckoutOrder> = {}) =>
      newCheckout({ ...sampleOrder(), ...order }, randomUUID(), await subject.now());
    /** A new checkout, recorded with a lease of LEASE (and the claim, if any). */
    const record = async (idempotency?: IdempotencyClaim, order?: Partial<CheckoutOrder>) => {
      const checkout = await newOne(order);
      await expect(repository.create(checkout, { leaseMs: LEASE, idempotency })).resolves.toEqual({
        created: true,
      });
      return checkout;
    };
    const finish = (checkout: Checkout) =>
      repository.update(checkout, { status: 'completed', orderId: 'ord_1', response: ANSWER });
    const claimAll = (settleDelayMs = 0) => repository.claimAbandoned(10, LEASE, settleDelayMs);
    const expectLost = (write: Promise<unknown>) =>
      expect(write).rejects.toBeInstanceOf(LeaseLostError);

    describe('create', () => {
      it('records a new checkout that findById reads back as it was given', async () => {
        const checkout = await record();
        expect(await repository.findById(checkout.id)).toEqual(checkout);
      });

      it('finds nothing for an id it never recorded', async () => {
        expect(await repository.findById(randomUUID())).toBeUndefined();
      });

      it('holds the new checkout for leaseMs: nobody takes it over before that', async () => {
        const checkout = await record();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE)).toBeUndefined();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE)).toMatchObject({ attempt: 2 });
      });

      it('records checkouts without a claim, or with different keys, side by side', async () => {
        const recorded = [await record(), await record(), await record(claim('a', 'h'))];
        recorded.push(await record(claim('b', 'h')));
        for (const checkout of recorded) {
          expect(await repository.findById(checkout.id)).toEqual(checkout);
        }
      });
    });

    describe('create with an idempotency claim', () => {
      it('returns the live holder instead, writing nothing: its checkout, request hash, no response, the lease it has left', async () => {
        const first = await record(claim('k1', 'hash-1'));
        await subject.elapse(20_000);
        const second = await newOne();

        const result = await repository.create(second, {
          leaseMs: LEASE,
          idempotency: claim('k1', 'hash-2'),
        });

        if (result.created) throw new Error('a live key was taken twice');
        expect(result.holder).toEqual({
          checkout: first,
          requestHash: 'hash-1',
          response: null,
          leaseRemainingMs: expect.any(Number),
        });
        expect(result.holder.leaseRemainingMs).toBeGreaterThan(30_000);
        expect(result.holder.leaseRemainingMs).toBeLessThanOrEqual(40_000);
        expect(await repository.findById(second.id)).toBeUndefined();
      });

      it('lets exactly one of two creates racing for one key record its checkout', async () => {
        const racers = [await newOne(), await newOne()];
        const results = await Promise.all(
          racers.map((c) => repository.create(c, { leaseMs: LEASE, idempotency: claim('k', 'h') })),
        );

        expect(results.filter((r) => r.created)).toHaveLength(1);
        const [winner, loser] = results[0]?.created ? racers : [...racers].reverse();
        expect(results).toContainEqual({
          created: false,
          holder: expect.objectContaining({ checkout: winner }),
        });
        expect(await repository.findById(loser?.id ?? '')).toBeUndefined();
      });

      it('returns a finished holder with its stored response and no lease left (the final state ended it)', async () => {
        const first = await record(claim('k1', 'hash-1'));
        await finish(first);

        const result = await repository.create(await newOne(), {
          leaseMs: LEASE,
          idempotency: claim('k1', 'hash-1'),
        });

        if (result.created) throw new Error('a live key was taken twice');
        expect(result.holder).toMatchObject({
          checkout: { id: first.id, status: 'completed' },
          response: ANSWER,
        });
        expect(result.holder.leaseRemainingMs).toBeLessThanOrEqual(0);
      });

      it('keeps a key for ttlHours, then releases it to the next checkout, even from a finished one', async () => {
        const first = await record(claim('k1', 'hash-1', 1));
        await finish(first);
        const second = await newOne();
        const create = (checkout: Checkout) =>
          repository.create(checkout, { leaseMs: LEASE, idempotency: claim('k1', 'hash-2', 1) });

        await subject.elapse(HOUR - 60_000);
        expect(await create(second)).toMatchObject({ created: false });
        await subject.elapse(60_000);
        expect(await create(second)).toEqual({ created: true });

        expect(await create(await newOne())).toMatchObject({
          created: false,
          holder: { checkout: { id: second.id }, requestHash: 'hash-2', response: null },
        });
        expect(await repository.findById(first.id)).toMatchObject({ status: 'completed' });
      });
    });

    describe('takeOver', () => {
      it('takes over an unfinished checkout whose lease ran out, bumping attempt and holding a new lease', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const taken = await repository.takeOver(checkout.id, LEASE);

        expect(taken).toEqual({ ...checkout, attempt: 2, updatedAt: expect.any(String) });
        expect(await repository.takeOver(checkout.id, LEASE)).toBeUndefined();
        await subject.elapse(LEASE);
        expect(await repository.takeOver(checkout.id, LEASE)).toMatchObject({ attempt: 3 });
      });

      it('fences the worker it took over from: its update and settle try throw LeaseLostError', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);
        const taken = await repository.takeOver(checkout.id, LEASE);
        if (!taken) throw new Error('the expired checkout was not taken over');

        await expectLost(
          repository.update(checkout, { status: 'payment_processed', paymentId: 'txn_old' }),
        );
        await expectLost(repository.recordSettleTry(checkout));
        await repository.update(taken, { status: 'payment_processed', paymentId: 'txn_new' });

        expect(await repository.findById(checkout.id)).toMatchObject({
          status: 'payment_processed',
          paymentId: 'txn_new',
          attempt: 2,
          settleTries: 0,
        });
      });

      it('never takes over a finished checkout, nor one it never recorded', async () => {
        const checkout = await record();
        await finish(checkout);
        await subject.elapse(2 * LEASE);

        expect(await repository.takeOver(checkout.id, LEASE)).toBeUndefined();
        expect(await repository.takeOver(randomUUID(), LEASE)).toBeUndefined();
      });

      it('lets exactly one of two workers racing for an expired checkout take it over', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const taken = await Promise.all([
          repository.takeOver(checkout.id, LEASE),
          repository.takeOver(checkout.id, LEASE),
        ]);

        expect(taken.filter(Boolean)).toEqual([expect.objectContaining({ attempt: 2 })]);
        expect(await repository.findById(checkout.id)).toMatchObject({ attempt: 2 });
      });
    });

    describe('update', () => {
      it('writes the fields given and leaves the absent ones as they are', async () => {
        const checkout = await record();

        await repository.update(checkout, { status: 'payment_processed', paymentId: 'txn_1' });
        await repository.update(checkout, { status: 'inventory_deducted' });
        await repository.update(checkout, {
          status: 'compensating',
          failure: UNAVAILABLE,
          compensationFrom: 'inventory_deducted',
        });

        expect(await repository.findById(checkout.id)).toEqual({
          ...checkout,
          status: 'compensating',
          paymentId: 'txn_1',
          failure: UNAVAILABLE,
          compensationFrom: 'inventory_deducted',
          updatedAt: expect.any(String),
        });
      });

      it('takes a null compensationFrom as absent, keeping the stored one', async () => {
        const checkout = await record();
        await repository.update(checkout, {
          status: 'compensating',
          failure: REFUSED,
          compensationFrom: 'payment_processed',
        });

        await repository.update(checkout, { status: 'compensating', compensationFrom: null });

        expect(await repository.findById(checkout.id)).toMatchObject({
          compensationFrom: 'payment_processed',
        });
      });

      it('keeps the lease as it was on an unfinished state', async () => {
        const checkout = await record();
        await subject.elapse(LEASE / 2);
        await repository.update(checkout, { status: 'payment_processed', paymentId: 'txn_1' });

        expect(await repository.takeOver(checkout.id, LEASE)).toBeUndefined();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE)).toMatchObject({ attempt: 2 });
      });

      it('refuses with LeaseLostError a checkout it does not hold, an unknown id included', async () => {
        const unknown = { id: randomUUID(), attempt: 1 };
        const checkout = await record();

        await expectLost(repository.update(unknown, { status: 'payment_processed' }));
        await expectLost(repository.recordSettleTry(unknown));
        await expectLost(repository.update({ ...checkout, attempt: 2 }, { status: 'failed' }));
        expect(await repository.findById(checkout.id)).toEqual(checkout);
      });
    });

    describe('recordSettleTry', () => {
      it('counts the tries at one recovery point, and counts afresh at the next', async () => {
        const checkout = await record();

        expect(await repository.recordSettleTry(checkout)).toBe(1);
        expect(await repository.recordSettleTry(checkout)).toBe(2);
        await repository.update(checkout, { status: 'pending' });
        expect(await repository.findById(checkout.id)).toMatchObject({ settleTries: 2 });
        await repository.update(checkout, { status: 'payment_processed', paymentId: 'txn_1' });
        expect(await repository.findById(checkout.id)).toMatchObject({ settleTries: 0 });
        expect(await repository.recordSettleTry(checkout)).toBe(1);
      });
    });

    describe('claimAbandoned', () => {
      it('claims only unfinished checkouts whose lease ran out at least settleDelayMs ago', async () => {
        const abandoned = await record();
        await finish(await record());
        await subject.elapse(LEASE + 5_000);
        await record(); // still leased

        expect(await claimAll(10_000)).toEqual({ claimed: [], unreadable: [] });
        await subject.elapse(5_000);
        expect(await claimAll(10_000)).toEqual({
          claimed: [{ ...abandoned, attempt: 2, updatedAt: expect.any(String) }],
          unreadable: [],
        });
      });

      it('holds what it claims: a new lease, and attempt bumped so the worker that left it is fenced', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const [mine] = (await claimAll()).claimed;
        if (!mine) throw new Error('the abandoned checkout was not claimed');

        expect(mine.attempt).toBe(2);
        expect(await claimAll()).toEqual({ claimed: [], unreadable: [] });
        expect(await repository.takeOver(checkout.id, LEASE)).toBeUndefined();
        await expectLost(repository.update(checkout, { status: 'failed', response: ANSWER }));
        await repository.update(mine, { status: 'payment_processed', paymentId: 'txn_1' });
        await subject.elapse(LEASE);
        expect((await claimAll()).claimed).toEqual([
          expect.objectContaining({ status: 'payment_processed', attempt: 3 }),
        ]);
      });

      it('claims at most limit, the oldest lease first, and the rest on the next call', async () => {
        // Leases of different lengths, so that the oldest lease is not the oldest checkout.
        const recordFor = async (leaseMs: number) => {
          const checkout = await newOne();
          await repository.create(checkout, { leaseMs });
          return checkout;
        };
        const longest = await recordFor(3 * LEASE);
        const shortest = await recordFor(LEASE);
        const middle = await recordFor(2 * LEASE);
        await subject.elapse(3 * LEASE);

        const first = await repository.claimAbandoned(2, LEASE, 0);
        const second = await repository.claimAbandoned(2, LEASE, 0);

        expect(ids(first.claimed)).toEqual(ids([shortest, middle]));
        expect(ids(second.claimed)).toEqual([longest.id]);
      });

      it('sets a row it cannot read to requires_attention and reports it, still claiming the others', async () => {
        const yen = { currency: 'JPY', items: [{ productId: 'p', quantity: 1, priceCents: 99 }] };
        const readable = await record(undefined, { ...yen, totalCents: 99 });
        const spoiled = await record(undefined, { ...yen, totalCents: 99 });
        await subject.spoilAmount(spoiled.id);
        await subject.elapse(LEASE);

        const { claimed, unreadable } = await claimAll();

        expect(ids(claimed)).toEqual([readable.id]);
        expect(unreadable).toEqual([spoiled.id]);
        expect(await subject.storedStatus(spoiled.id)).toBe('requires_attention');
        await expect(repository.findById(spoiled.id)).rejects.toBeInstanceOf(RangeError);
        await subject.elapse(2 * LEASE);
        expect(await claimAll()).toMatchObject({ unreadable: [] });
        expect(await repository.takeOver(spoiled.id, LEASE)).toBeUndefined();
      });

      it('lets exactly one of a claim and a take-over racing for a checkout have it', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const [{ claimed }, taken] = await Promise.all([
          claimAll(),
          repository.takeOver(checkout.id, LEASE),
        ]);

        expect([...claimed, taken].filter(Boolean)).toEqual([
          expect.objectContaining({ id: checkout.id, attempt: 2 }),
        ]);
      });

      if (target.locksRows) {
        it('skips a row another open transaction holds, without waiting for it', async () => {
          const held = await record();
          const free = await record();
          await subject.elapse(LEASE);

          const during = await subject.holdRow?.(held.id, () => claimAll());

          expect(during).toMatchObject({ claimed: [{ id: free.id }], unreadable: [] });
          expect(ids((await claimAll()).claimed)).toEqual([held.id]);
        });
      }
    });

    describe('findById', () => {
      it.each([
        { currency: 'BRL', prices: [9990, 14_990], failure: REFUSED },
        { currency: 'JPY', prices: [1500, 999], failure: UNAVAILABLE },
        { currency: 'KWD', prices: [1234, 5], failure: REFUSED },
        // 999 999 999 999.999 dinars, the most `numeric(15, 3)` holds.
        { currency: 'KWD', prices: [999_999_999_999_999], failure: UNAVAILABLE },
      ])(
        'round-trips every field of a checkout in $currency $prices, money exact to its minor unit',
        async ({ currency, prices, failure }) => {
          const items = prices.map((priceCents, i) => ({
            productId: `p${i}`,
            quantity: 1,
            priceCents,
          }));
          const totalCents = prices.reduce((sum, price) => sum + price, 0);
          const checkout = await record(undefined, { currency, items, totalCents });

          const changes = {
            status: 'compensating',
            paymentId: 'txn_9',
            orderId: 'ord_9',
            failure,
            compensationFrom: 'inventory_deducted',
            undoFailures: ['release_inventory'],
          } as const satisfies CheckoutChanges;

          await repository.update(checkout, changes);
          expect(await repository.recordSettleTry(checkout)).toBe(1);

          expect(await repository.findById(checkout.id)).toEqual({
            ...checkout,
            ...changes,
            settleTries: 1,
            updatedAt: expect.any(String),
          });
        },
      );

      it("stamps updatedAt with the repository's clock at every write", async () => {
        const checkout = await record();
        const mine = { id: checkout.id, attempt: 2 };
        /** Whether `write` stamped the time it ran (the fake's clock moves first: a stale stamp shows). */
        const stamped = async (write: () => Promise<unknown>) => {
          await subject.elapse(LEASE);
          const before = (await subject.now()).getTime();
          await write();
          const after = (await subject.now()).getTime();
          const updatedAt = Date.parse((await repository.findById(checkout.id))?.updatedAt ?? '');
          return updatedAt >= before && updatedAt <= after;
        };

        expect({
          takeOver: await stamped(() => repository.takeOver(checkout.id, LEASE)),
          update: await stamped(() => repository.update(mine, { status: 'payment_processed' })),
          recordSettleTry: await stamped(() => repository.recordSettleTry(mine)),
          claimAbandoned: await stamped(() => claimAll()),
        }).toEqual({ takeOver: true, update: true, recordSettleTry: true, claimAbandoned: true });
      });
    });
  });
}
