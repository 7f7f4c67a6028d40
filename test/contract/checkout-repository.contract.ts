import { randomUUID } from 'node:crypto';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AsyncMethod,
  type Checkout,
  type CheckoutFailure,
  type CheckoutOrder,
  type CheckoutStatus,
  newCheckout,
  type PaymentInstructions,
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
   * Lets `ms` pass for every lease, idempotency key and next check it holds, as if its clock had
   * moved on, so that a test expires a lease exactly instead of sleeping and hoping. Not for
   * what a checkout reads back (`createdAt`, a Pix's `expiresAt`): a test sets those in the past.
   */
  elapse(ms: number): Promise<void>;
  /** Adds half a unit to a checkout's stored total, as an older release could (99.5 yen). */
  spoilAmount(id: string): Promise<void>;
  /** The stored status, read without reading the row as a checkout. */
  storedStatus(id: string): Promise<string | undefined>;
  /** Makes a checkout a row from before the history: no transitions, no worker. */
  forgetHistory(id: string): Promise<void>;
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
const MINUTE = 60_000;
/** The workers of the contract: the request that records, another that takes over, recovery. */
const REQUEST = 'request:req-1';
const TAKER = 'request:req-2';
const RECOVERY = 'recovery:run-1';
const OPERATOR = 'operator:ana';
const STEP = 'a saga step';
const NO_ANSWER = 'no answer from the order service';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ANSWER: StoredResponse = { code: 201, body: '{"status":"completed"}' };
const ATTENTION: StoredResponse = { code: 409, body: '{"status":"requires_attention"}' };
const EXPIRED: StoredResponse = { code: 200, body: '{"status":"expired"}' };
const PIX: PaymentInstructions = {
  method: 'pix',
  qrCode: '00020126580014br.gov.bcb.pix0136a1b2c3',
  expiresAt: '2026-11-24T13:00:00.000Z',
};
const DUE_DATE = '2026-11-27';
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

const claim = (
  key: string,
  requestHash: string,
  ttlHours = 24,
  caller = 'api-key:shop-a',
): IdempotencyClaim => ({ key, caller, requestHash, ttlHours });
const ids = (checkouts: Checkout[]) => checkouts.map((c) => c.id).sort();
/** The seed's order, paid by card: no Pix or boleto terms. */
const seedOrder = (): CheckoutOrder => ({ ...sampleOrder(), asyncPayment: null });

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
      newCheckout({ ...seedOrder(), ...order }, randomUUID(), await subject.now());
    /** A new checkout recorded as created `ms` ago (its `createdAt`), leased from now. */
    const recordCreatedAgo = async (ms: number, flow: Checkout['flow'] = 'immediate') => {
      const createdAt = new Date((await subject.now()).getTime() - ms);
      const terms = { flow, pricing: 'catalog' as const };
      const checkout = newCheckout(seedOrder(), randomUUID(), createdAt, null, terms);
      await repository.create(checkout, { leaseMs: LEASE, worker: REQUEST });
      return checkout;
    };
    /** A new checkout, recorded with a lease of LEASE (and the claim, if any). */
    const record = async (idempotency?: IdempotencyClaim, order?: Partial<CheckoutOrder>) => {
      const checkout = await newOne(order);
      await expect(
        repository.create(checkout, { leaseMs: LEASE, idempotency, worker: REQUEST }),
      ).resolves.toEqual({
        created: true,
      });
      return checkout;
    };
    const finish = (checkout: Checkout) =>
      repository.update(checkout, {
        status: 'completed',
        cause: STEP,
        orderId: 'ord_1',
        response: ANSWER,
      });
    const claimAll = (settleDelayMs = 0) =>
      repository.claimAbandoned(10, LEASE, settleDelayMs, RECOVERY);
    /** Moves a checkout to undoing a payment after its service refused: something to undo. */
    const compensateRefused = (checkout: Checkout) =>
      repository.update(checkout, {
        status: 'compensating',
        cause: STEP,
        failure: REFUSED,
        compensationFrom: 'payment_processed',
      });
    /** Ends a checkout in `requires_attention`, as the saga does when an undo keeps failing. */
    const giveUp = (checkout: Checkout) =>
      repository.update(checkout, {
        status: 'requires_attention',
        cause: 'the refund kept failing',
        undoFailures: ['refund_payment'],
        response: ATTENTION,
      });
    /** The checkout's history without the times, which `at` tests check apart. */
    const moves = async (id: string) =>
      (await repository.history(id)).map(({ at: _, ...move }) => move);
    const expectLost = (write: Promise<unknown>) =>
      expect(write).rejects.toBeInstanceOf(LeaseLostError);
    /** The repository's clock `ms` from now (before it, if negative), as ISO 8601. */
    const fromNow = async (ms: number) =>
      new Date((await subject.now()).getTime() + ms).toISOString();
    /** A Pix (or a boleto, due on DUE_DATE) recorded to expire `expiresInMs` from now. */
    const recordAsync = async (
      method: AsyncMethod = 'pix',
      expiresInMs = HOUR,
      idempotency?: IdempotencyClaim,
    ) => {
      const asyncPayment = {
        expiresAt: await fromNow(expiresInMs),
        ...(method === 'boleto' && { dueDate: DUE_DATE }),
        instructions: null,
      };
      const order = { ...seedOrder(), card: null, method, asyncPayment };
      const terms = { flow: method, pricing: 'catalog' as const };
      const checkout = newCheckout(order, randomUUID(), await subject.now(), null, terms);
      await repository.create(checkout, { leaseMs: LEASE, idempotency, worker: REQUEST });
      return checkout;
    };
    /** Issues its Pix: the checkout waits for the customer, looked up next at `nextCheckAt`. */
    const awaitPayment = (checkout: Checkout, nextCheckAt: string | null = null) =>
      repository.update(checkout, {
        status: 'awaiting_payment',
        cause: 'pix issued',
        paymentId: `pix_${checkout.id}`,
        instructions: PIX,
        nextCheckAt,
      });
    /** Ends a waiting checkout unpaid, a late payment looked up next at `nextCheckAt`. */
    const expire = (checkout: Checkout, nextCheckAt: string | null = null) =>
      repository.update(checkout, {
        status: 'expired',
        cause: 'never paid',
        response: EXPIRED,
        nextCheckAt,
      });
    const claimDue = (limit = 10) => repository.claimWaiting(limit, LEASE, RECOVERY);

    describe('create', () => {
      it('records a new checkout that findById reads back as it was given', async () => {
        const checkout = await record();
        expect(await repository.findById(checkout.id)).toEqual(checkout);
      });

      it('records who recorded the checkout and keeps it through a takeover and a final write', async () => {
        const now = await subject.now();
        const checkout = newCheckout(sampleOrder(), randomUUID(), now, 'api-key:shop-a');
        await repository.create(checkout, {
          leaseMs: LEASE,
          idempotency: claim('k-caller', 'h'),
          worker: REQUEST,
        });
        expect(await repository.findById(checkout.id)).toEqual(checkout);

        await subject.elapse(LEASE);
        const taken = await repository.takeOver(checkout.id, LEASE, TAKER);
        expect(taken?.caller).toBe('api-key:shop-a');
        await finish(taken ?? expect.fail('the expired checkout was not taken over'));

        expect(await repository.findById(checkout.id)).toMatchObject({
          caller: 'api-key:shop-a',
          status: 'completed',
        });
      });

      it('reads a checkout recorded without a caller back with none', async () => {
        const checkout = await record();
        expect(await repository.findById(checkout.id)).toMatchObject({ caller: null });
      });

      it('finds nothing for an id it never recorded', async () => {
        expect(await repository.findById(randomUUID())).toBeUndefined();
      });

      it('holds the new checkout for leaseMs: nobody takes it over before that', async () => {
        const checkout = await record();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toMatchObject({ attempt: 2 });
      });

      it('records checkouts without a claim, or with different keys, side by side', async () => {
        const recorded = [await record(), await record(), await record(claim('a', 'h'))];
        recorded.push(await record(claim('b', 'h')));
        for (const checkout of recorded) {
          expect(await repository.findById(checkout.id)).toEqual(checkout);
        }
      });

      it("records a Pix's and a boleto's terms, then the instructions issued and a late payment", async () => {
        const pix = await recordAsync('pix');
        const boleto = await recordAsync('boleto');
        for (const checkout of [pix, boleto]) {
          expect(await repository.findById(checkout.id)).toEqual(checkout);
        }

        await awaitPayment(pix);
        await repository.update(pix, { status: 'payment_processed', cause: STEP, paidLate: true });
        await repository.update(pix, { status: 'inventory_deducted', cause: STEP });

        expect(await repository.findById(pix.id)).toEqual({
          ...pix,
          status: 'inventory_deducted',
          paymentId: `pix_${pix.id}`,
          asyncPayment: { ...pix.asyncPayment, instructions: PIX },
          paidLate: true,
          unfinishedSince: expect.any(String),
          updatedAt: expect.any(String),
        });
      });

      it('dates a checkout unfinished from when it moves on from waiting, not from its creation', async () => {
        const card = await record();
        await repository.update(card, { status: 'payment_processed', cause: STEP });
        const pix = await recordAsync('pix');
        await awaitPayment(pix);
        await subject.elapse(DAY);
        const paidAt = await subject.now();
        await repository.update(pix, { status: 'payment_processed', cause: STEP });

        expect((await repository.findById(card.id))?.unfinishedSince).toBe(card.createdAt);
        const since = (await repository.findById(pix.id))?.unfinishedSince ?? '';
        expect(Date.parse(since)).toBeGreaterThanOrEqual(paidAt.getTime());
        expect((await repository.backlog()).oldestUnfinishedAt).toBe(card.createdAt);
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
          worker: TAKER,
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
          racers.map((c) =>
            repository.create(c, { leaseMs: LEASE, idempotency: claim('k', 'h'), worker: REQUEST }),
          ),
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
          worker: TAKER,
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
          repository.create(checkout, {
            leaseMs: LEASE,
            idempotency: claim('k1', 'hash-2', 1),
            worker: TAKER,
          });

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

      it('keeps the key of a checkout not final past its TTL, then for ttlHours from its final write', async () => {
        const boleto = await recordAsync('boleto', 3 * DAY, claim('k-boleto', 'h', 24));
        const holder = () => repository.findKeyHolder(claim('k-boleto', 'h', 24));
        await awaitPayment(boleto);

        // A retry on day 2 of a boleto still finds its checkout.
        await subject.elapse(2 * DAY);
        expect(await holder()).toMatchObject({ checkout: { id: boleto.id }, response: null });
        await expire(boleto);
        await subject.elapse(DAY - MINUTE);
        expect(await holder()).toMatchObject({ checkout: { id: boleto.id }, response: EXPIRED });
        await subject.elapse(MINUTE);
        expect(await holder()).toBeUndefined();
      });

      it('keeps the key again, and drops the stored answer, of a checkout moved out of a final state', async () => {
        const pix = await recordAsync('pix', HOUR, claim('k-late', 'h', 24));
        const holder = () => repository.findKeyHolder(claim('k-late', 'h', 24));
        await awaitPayment(pix);
        await expire(pix);
        await subject.elapse(HOUR);
        // Paid late: no longer final, its key kept however long the order takes.
        await repository.update(pix, { status: 'payment_processed', cause: STEP, paidLate: true });
        await subject.elapse(2 * DAY);
        expect(await holder()).toMatchObject({ checkout: { id: pix.id }, response: null });
      });

      it('keeps keys apart by caller: the same key from another caller records another checkout', async () => {
        const shopA = await record(claim('order-1001', 'hash-a', 24, 'api-key:shop-a'));
        const shopB = await record(claim('order-1001', 'hash-b', 24, 'api-key:shop-b'));
        const anonymous = await record(claim('order-1001', 'hash-c', 24, 'anonymous'));

        const again = await repository.create(await newOne(), {
          leaseMs: LEASE,
          idempotency: claim('order-1001', 'hash-b', 24, 'api-key:shop-b'),
          worker: TAKER,
        });

        expect(new Set([shopA.id, shopB.id, anonymous.id]).size).toBe(3);
        expect(again).toMatchObject({
          created: false,
          holder: { checkout: { id: shopB.id }, requestHash: 'hash-b' },
        });
      });
    });

    describe('takeOver', () => {
      it('takes over an unfinished checkout whose lease ran out, bumping attempt and holding a new lease', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const taken = await repository.takeOver(checkout.id, LEASE, TAKER);

        expect(taken).toEqual({ ...checkout, attempt: 2, updatedAt: expect.any(String) });
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        await subject.elapse(LEASE);
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toMatchObject({ attempt: 3 });
      });

      it('fences the worker it took over from: its update and settle try throw LeaseLostError', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);
        const taken = await repository.takeOver(checkout.id, LEASE, TAKER);
        if (!taken) throw new Error('the expired checkout was not taken over');

        await expectLost(
          repository.update(checkout, {
            status: 'payment_processed',
            cause: STEP,
            paymentId: 'txn_old',
          }),
        );
        await expectLost(repository.recordSettleTry(checkout, NO_ANSWER));
        await repository.update(taken, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_new',
        });

        expect(await repository.findById(checkout.id)).toMatchObject({
          status: 'payment_processed',
          paymentId: 'txn_new',
          attempt: 2,
          settleTries: 0,
        });
      });

      it('takes over a checkout awaiting payment at once (it holds no lease), never an expired one', async () => {
        const waiting = await recordAsync();
        await awaitPayment(waiting);
        const expired = await recordAsync();
        await expire(expired);

        expect(await repository.takeOver(waiting.id, LEASE, TAKER)).toMatchObject({
          status: 'awaiting_payment',
          attempt: 2,
        });
        expect(await repository.takeOver(expired.id, LEASE, TAKER)).toBeUndefined();
      });

      it('never takes over a finished checkout, nor one it never recorded', async () => {
        const checkout = await record();
        await finish(checkout);
        await subject.elapse(2 * LEASE);

        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        expect(await repository.takeOver(randomUUID(), LEASE, TAKER)).toBeUndefined();
      });

      it('lets exactly one of two workers racing for an expired checkout take it over', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const taken = await Promise.all([
          repository.takeOver(checkout.id, LEASE, TAKER),
          repository.takeOver(checkout.id, LEASE, TAKER),
        ]);

        expect(taken.filter(Boolean)).toEqual([expect.objectContaining({ attempt: 2 })]);
        expect(await repository.findById(checkout.id)).toMatchObject({ attempt: 2 });
      });
    });

    describe('update', () => {
      it('writes the fields given and leaves the absent ones as they are', async () => {
        const checkout = await record();

        await repository.update(checkout, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_1',
        });
        await repository.update(checkout, { status: 'inventory_deducted', cause: STEP });
        await repository.update(checkout, {
          status: 'compensating',
          cause: STEP,
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
        await compensateRefused(checkout);

        await repository.update(checkout, {
          status: 'compensating',
          cause: STEP,
          compensationFrom: null,
        });

        expect(await repository.findById(checkout.id)).toMatchObject({
          compensationFrom: 'payment_processed',
        });
      });

      it('keeps the lease as it was on an unfinished state', async () => {
        const checkout = await record();
        await subject.elapse(LEASE / 2);
        await repository.update(checkout, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_1',
        });

        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        await subject.elapse(LEASE / 2);
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toMatchObject({ attempt: 2 });
      });

      it('refuses with LeaseLostError a checkout it does not hold, an unknown id included', async () => {
        const unknown = { id: randomUUID(), attempt: 1 };
        const checkout = await record();

        await expectLost(repository.update(unknown, { status: 'payment_processed', cause: STEP }));
        await expectLost(repository.recordSettleTry(unknown, NO_ANSWER));
        await expectLost(
          repository.update({ ...checkout, attempt: 2 }, { status: 'failed', cause: STEP }),
        );
        expect(await repository.findById(checkout.id)).toEqual(checkout);
      });
    });

    describe('recordSettleTry', () => {
      it('counts the tries at one recovery point, and counts afresh at the next', async () => {
        const checkout = await record();

        expect(await repository.recordSettleTry(checkout, NO_ANSWER)).toBe(1);
        expect(await repository.recordSettleTry(checkout, NO_ANSWER)).toBe(2);
        await repository.update(checkout, { status: 'pending', cause: STEP });
        expect(await repository.findById(checkout.id)).toMatchObject({ settleTries: 2 });
        await repository.update(checkout, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_1',
        });
        expect(await repository.findById(checkout.id)).toMatchObject({ settleTries: 0 });
        expect(await repository.recordSettleTry(checkout, NO_ANSWER)).toBe(1);
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

      it('never claims a checkout awaiting payment or expired: the sweep looks those up', async () => {
        await awaitPayment(await recordAsync());
        await expire(await recordAsync(), await fromNow(0));
        const card = await record();
        await subject.elapse(LEASE);

        expect(ids((await claimAll()).claimed)).toEqual([card.id]);
      });

      it('holds what it claims: a new lease, and attempt bumped so the worker that left it is fenced', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const [mine] = (await claimAll()).claimed;
        if (!mine) throw new Error('the abandoned checkout was not claimed');

        expect(mine.attempt).toBe(2);
        expect(await claimAll()).toEqual({ claimed: [], unreadable: [] });
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        await expectLost(
          repository.update(checkout, { status: 'failed', cause: STEP, response: ANSWER }),
        );
        await repository.update(mine, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_1',
        });
        await subject.elapse(LEASE);
        expect((await claimAll()).claimed).toEqual([
          expect.objectContaining({ status: 'payment_processed', attempt: 3 }),
        ]);
      });

      it('claims at most limit, the oldest lease first, and the rest on the next call', async () => {
        // Leases of different lengths, so that the oldest lease is not the oldest checkout.
        const recordFor = async (leaseMs: number) => {
          const checkout = await newOne();
          await repository.create(checkout, { leaseMs, worker: REQUEST });
          return checkout;
        };
        const longest = await recordFor(3 * LEASE);
        const shortest = await recordFor(LEASE);
        const middle = await recordFor(2 * LEASE);
        await subject.elapse(3 * LEASE);

        const first = await repository.claimAbandoned(2, LEASE, 0, RECOVERY);
        const second = await repository.claimAbandoned(2, LEASE, 0, RECOVERY);

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
        expect((await moves(spoiled.id)).slice(1)).toEqual([
          { from: 'pending', to: 'pending', cause: 'claimed by recovery', by: RECOVERY },
          {
            from: 'pending',
            to: 'requires_attention',
            cause: 'its row cannot be read',
            by: RECOVERY,
          },
        ]);
        await expect(repository.findById(spoiled.id)).rejects.toBeInstanceOf(RangeError);
        await subject.elapse(2 * LEASE);
        expect(await claimAll()).toMatchObject({ unreadable: [] });
        expect(await repository.takeOver(spoiled.id, LEASE, TAKER)).toBeUndefined();
      });

      it('lets exactly one of a claim and a take-over racing for a checkout have it', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const [{ claimed }, taken] = await Promise.all([
          claimAll(),
          repository.takeOver(checkout.id, LEASE, TAKER),
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

    describe('claimWaiting', () => {
      it('claims the waiting and expired checkouts whose next check is due, under a lease, fencing the worker before', async () => {
        const waiting = await recordAsync();
        await awaitPayment(waiting, await fromNow(0));
        const expired = await recordAsync();
        await expire(expired, await fromNow(0));
        await awaitPayment(await recordAsync(), await fromNow(10 * MINUTE));
        await awaitPayment(await recordAsync());
        await expire(await recordAsync());
        await record();
        await subject.elapse(LEASE);

        const claimed = await claimDue();

        expect(ids(claimed)).toEqual(ids([waiting, expired]));
        expect(claimed.map((c) => c.attempt)).toEqual([2, 2]);
        expect(await claimDue()).toEqual([]);
        await expectLost(repository.leaveWaiting(waiting, { nextCheckAt: null, cause: STEP }));
        await expectLost(repository.update(expired, { status: 'payment_processed', cause: STEP }));
        expect((await moves(expired.id)).at(-1)).toEqual({
          from: 'expired',
          to: 'expired',
          cause: 'looked up by the sweep',
          by: RECOVERY,
        });
      });

      it('claims at most limit, the earliest check first, and the rest on the next call', async () => {
        const dueAgo = async (ms: number) => {
          const checkout = await recordAsync();
          await awaitPayment(checkout, await fromNow(-ms));
          return checkout;
        };
        const second = await dueAgo(2 * MINUTE);
        const third = await dueAgo(MINUTE);
        const first = await dueAgo(3 * MINUTE);

        expect(ids(await claimDue(2))).toEqual(ids([first, second]));
        expect(ids(await claimDue(2))).toEqual([third.id]);
      });

      if (target.locksRows) {
        it('skips a row another open transaction holds, without waiting for it', async () => {
          const [held, free] = [await recordAsync(), await recordAsync()];
          for (const checkout of [held, free]) await awaitPayment(checkout, await fromNow(0));

          const during = await subject.holdRow?.(held.id, () => claimDue());

          expect(ids(during ?? [])).toEqual([free.id]);
          expect(ids(await claimDue())).toEqual([held.id]);
        });
      }
    });

    describe('takeWaiting', () => {
      it('takes a checkout awaiting payment or expired, unless held, and none in another state', async () => {
        const waiting = await recordAsync();
        await awaitPayment(waiting);
        const expired = await recordAsync();
        await expire(expired);
        const pending = await record();
        const completed = await record();
        await finish(completed);
        await subject.elapse(LEASE);
        const take = (id: string) => repository.takeWaiting(id, LEASE, TAKER, 'payment webhook');

        expect(await take(waiting.id)).toMatchObject({ status: 'awaiting_payment', attempt: 2 });
        expect(await take(waiting.id)).toBeUndefined();
        expect(await take(expired.id)).toMatchObject({ status: 'expired', attempt: 2 });
        for (const { id } of [pending, completed]) expect(await take(id)).toBeUndefined();
        expect(await take(randomUUID())).toBeUndefined();
        await expectLost(repository.update(waiting, { status: 'payment_processed', cause: STEP }));
        expect((await moves(waiting.id)).at(-1)).toEqual({
          from: 'awaiting_payment',
          to: 'awaiting_payment',
          cause: 'payment webhook',
          by: TAKER,
        });
      });
    });

    describe('leaveWaiting', () => {
      it('gives the lease back with when to look next, fenced like update, kept in the history', async () => {
        const pix = await recordAsync();
        await awaitPayment(pix);
        const taken = await repository.takeWaiting(pix.id, LEASE, TAKER, 'payment webhook');
        if (!taken) throw new Error('the waiting checkout was not taken');

        const due = { nextCheckAt: await fromNow(0), cause: 'still pending' };
        await expectLost(repository.leaveWaiting(pix, due));
        await expectLost(repository.leaveWaiting({ id: randomUUID(), attempt: 1 }, due));
        await repository.leaveWaiting(taken, due);
        // Its lease given back and its check due: the sweep takes it at once.
        const [looked] = await claimDue();
        expect(looked).toEqual({ ...taken, attempt: 3, updatedAt: expect.any(String) });
        await repository.leaveWaiting(looked ?? taken, { nextCheckAt: null, cause: 'no more' });
        await subject.elapse(DAY);

        expect(await claimDue()).toEqual([]);
        expect((await moves(pix.id)).slice(-3)).toEqual([
          { from: 'awaiting_payment', to: 'awaiting_payment', cause: 'still pending', by: TAKER },
          {
            from: 'awaiting_payment',
            to: 'awaiting_payment',
            cause: 'looked up by the sweep',
            by: RECOVERY,
          },
          { from: 'awaiting_payment', to: 'awaiting_payment', cause: 'no more', by: RECOVERY },
        ]);
      });
    });

    describe('eventApplied', () => {
      it('is true only for an event a write applied; a duplicate applied twice is harmless', async () => {
        const pix = await recordAsync();
        const event = 'evt_1 "quoted" \\ ünicode';
        const issued = { status: 'awaiting_payment', cause: STEP, eventId: event } as const;
        expect(await repository.eventApplied(pix.id, event)).toBe(false);

        await repository.update(pix, issued);
        await repository.update(pix, issued);
        await repository.update(pix, { status: 'awaiting_payment', cause: STEP });
        await expectLost(
          repository.update({ ...pix, attempt: 2 }, { ...issued, eventId: 'evt_2' }),
        );

        expect(await repository.eventApplied(pix.id, event)).toBe(true);
        expect(await repository.eventApplied(pix.id, 'evt_2')).toBe(false);
        expect(await repository.eventApplied(pix.id, 'evt_1')).toBe(false);
        expect(await repository.eventApplied(randomUUID(), event)).toBe(false);
        expect(await repository.findById(pix.id)).toMatchObject({ status: 'awaiting_payment' });
      });
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
            cause: STEP,
            paymentId: 'txn_9',
            orderId: 'ord_9',
            failure,
            compensationFrom: 'inventory_deducted',
            undoFailures: ['release_inventory'],
          } as const satisfies CheckoutChanges;

          await repository.update(checkout, changes);
          expect(await repository.recordSettleTry(checkout, NO_ANSWER)).toBe(1);

          const { cause: _, ...fields } = changes;
          expect(await repository.findById(checkout.id)).toEqual({
            ...checkout,
            ...fields,
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
          takeOver: await stamped(() => repository.takeOver(checkout.id, LEASE, TAKER)),
          update: await stamped(() =>
            repository.update(mine, { status: 'payment_processed', cause: STEP }),
          ),
          recordSettleTry: await stamped(() => repository.recordSettleTry(mine, NO_ANSWER)),
          claimAbandoned: await stamped(() => claimAll()),
          takeForOperator: await stamped(() =>
            repository.takeForOperator(checkout.id, {
              leaseMs: LEASE,
              worker: OPERATOR,
              reopen: false,
              settleDelayMs: 0,
            }),
          ),
        }).toEqual({
          takeOver: true,
          update: true,
          recordSettleTry: true,
          claimAbandoned: true,
          takeForOperator: true,
        });
      });
    });

    describe('history', () => {
      it('keeps every write as a move, oldest first: from, to, its cause and the worker holding the checkout', async () => {
        const checkout = await record();
        await repository.update(checkout, {
          status: 'payment_processed',
          cause: 'payment charged',
          paymentId: 'txn_1',
        });
        await repository.recordSettleTry(checkout, NO_ANSWER);
        await subject.elapse(LEASE);
        const taken = await repository.takeOver(checkout.id, LEASE, TAKER);
        if (!taken) throw new Error('the expired checkout was not taken over');
        await repository.update(taken, {
          status: 'compensating',
          cause: 'stock refused',
          failure: REFUSED,
          compensationFrom: 'payment_processed',
        });
        await subject.elapse(LEASE);
        const [claimed] = (await claimAll()).claimed;
        if (!claimed) throw new Error('the abandoned checkout was not claimed');
        await repository.update(claimed, { status: 'failed', cause: 'refunded', response: ANSWER });

        expect(await moves(checkout.id)).toEqual([
          { from: null, to: 'pending', cause: 'recorded', by: REQUEST },
          { from: 'pending', to: 'payment_processed', cause: 'payment charged', by: REQUEST },
          { from: 'payment_processed', to: 'payment_processed', cause: NO_ANSWER, by: REQUEST },
          { from: 'payment_processed', to: 'payment_processed', cause: 'taken over', by: TAKER },
          { from: 'payment_processed', to: 'compensating', cause: 'stock refused', by: TAKER },
          { from: 'compensating', to: 'compensating', cause: 'claimed by recovery', by: RECOVERY },
          { from: 'compensating', to: 'failed', cause: 'refunded', by: RECOVERY },
        ]);
      });

      it("stamps each move with the repository's clock, as an ISO 8601 instant in UTC", async () => {
        const before = (await subject.now()).getTime();
        const checkout = await record();
        await subject.elapse(LEASE);
        await repository.takeOver(checkout.id, LEASE, TAKER);
        const after = (await subject.now()).getTime();

        const times = (await repository.history(checkout.id)).map((move) => move.at);

        expect(times).toHaveLength(2);
        for (const at of times) {
          expect(new Date(at).toISOString()).toBe(at);
          expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
          expect(Date.parse(at)).toBeLessThanOrEqual(after);
        }
        expect(Date.parse(times[1] ?? '')).toBeGreaterThanOrEqual(Date.parse(times[0] ?? ''));
      });

      it('adds nothing for a write it refuses, nor for a create that found its key taken', async () => {
        const checkout = await record(claim('k1', 'hash-1'));
        const refused = await newOne();
        await repository.create(refused, {
          leaseMs: LEASE,
          idempotency: claim('k1', 'hash-1'),
          worker: TAKER,
        });
        await subject.elapse(LEASE);
        await repository.takeOver(checkout.id, LEASE, TAKER);

        await expectLost(repository.update(checkout, { status: 'failed', cause: STEP }));
        await expectLost(repository.recordSettleTry(checkout, NO_ANSWER));

        expect(await moves(checkout.id)).toEqual([
          { from: null, to: 'pending', cause: 'recorded', by: REQUEST },
          { from: 'pending', to: 'pending', cause: 'taken over', by: TAKER },
        ]);
        expect(await repository.history(refused.id)).toEqual([]);
      });

      it('is empty for an id it never recorded', async () => {
        expect(await repository.history(randomUUID())).toEqual([]);
      });

      it("continues the history of a row from before it, naming an unknown worker for that row's holder", async () => {
        const checkout = await record();
        await subject.forgetHistory(checkout.id);

        await repository.update(checkout, {
          status: 'payment_processed',
          cause: 'payment charged',
        });

        expect(await moves(checkout.id)).toEqual([
          { from: 'pending', to: 'payment_processed', cause: 'payment charged', by: 'unknown' },
        ]);
      });
    });

    describe('list', () => {
      it('lists the checkouts in any of the statuses asked, oldest created first, at most limit', async () => {
        const oldest = await recordCreatedAgo(30 * MINUTE);
        const completed = await recordCreatedAgo(25 * MINUTE);
        await finish(completed);
        const attention = await recordCreatedAgo(20 * MINUTE);
        await giveUp(attention);
        const newest = await recordCreatedAgo(5 * MINUTE);
        await repository.update(newest, { status: 'payment_processed', cause: STEP });
        const list = async (statuses: CheckoutStatus[], limit = 10) =>
          (await repository.list({ statuses, limit })).checkouts;

        const open = await list(['pending', 'payment_processed', 'requires_attention']);

        expect(open).toEqual([
          await repository.findById(oldest.id),
          await repository.findById(attention.id),
          await repository.findById(newest.id),
        ]);
        expect(
          (await list(['pending', 'payment_processed', 'requires_attention'], 2)).map((c) => c.id),
        ).toEqual([oldest.id, attention.id]);
        expect((await list(['requires_attention'])).map((c) => c.id)).toEqual([attention.id]);
        expect((await list(['completed', 'failed'])).map((c) => c.id)).toEqual([completed.id]);
        expect(await list(['compensating'])).toEqual([]);
        expect(await list([])).toEqual([]);
      });

      it('lists only checkouts created at least olderThanMs ago', async () => {
        const old = await recordCreatedAgo(20 * MINUTE);
        await recordCreatedAgo(10 * MINUTE);
        await record();

        const listed = await repository.list({
          statuses: ['pending'],
          olderThanMs: 15 * MINUTE,
          limit: 10,
        });

        expect(listed.checkouts.map((c) => c.id)).toEqual([old.id]);
        expect(
          (await repository.list({ statuses: ['pending'], olderThanMs: 0, limit: 10 })).checkouts,
        ).toHaveLength(3);
      });

      it('names a row it cannot read instead of failing the list', async () => {
        const yen = { currency: 'JPY', items: [{ productId: 'p', quantity: 1, priceCents: 99 }] };
        const spoiled = await record(undefined, { ...yen, totalCents: 99 });
        const fine = await record(undefined, { ...yen, totalCents: 99 });
        await subject.spoilAmount(spoiled.id);

        const listed = await repository.list({ statuses: ['pending'], limit: 10 });

        expect(listed.checkouts.map((c) => c.id)).toEqual([fine.id]);
        expect(listed.unreadable).toEqual([spoiled.id]);
      });
    });

    describe('backlog', () => {
      it('counts the checkouts not final and dates the oldest of them', async () => {
        expect(await repository.backlog()).toEqual({
          unfinished: 0,
          oldestUnfinishedAt: null,
          oldestAuthorizedAt: null,
          waiting: 0,
          oldestWaitingAt: null,
          waitingPastExpiry: 0,
        });

        await finish(await recordCreatedAgo(60 * MINUTE));
        await giveUp(await recordCreatedAgo(50 * MINUTE));
        const oldestOpen = await recordCreatedAgo(40 * MINUTE);
        await repository.update(oldestOpen, { status: 'compensating', cause: STEP });
        const paid = await recordCreatedAgo(30 * MINUTE);
        await repository.update(paid, { status: 'payment_processed', cause: STEP });
        await record();

        expect(await repository.backlog()).toEqual({
          unfinished: 3,
          oldestUnfinishedAt: oldestOpen.createdAt,
          oldestAuthorizedAt: null,
          waiting: 0,
          oldestWaitingAt: null,
          waitingPastExpiry: 0,
        });
      });

      it('counts what waits well past its expiry, and nothing waiting or expired as unfinished', async () => {
        const first = await recordAsync('pix', -63 * MINUTE);
        await awaitPayment(first);
        await awaitPayment(await recordAsync('boleto', -61 * MINUTE));
        await expire(await recordAsync('pix', -2 * HOUR));
        const open = await record();

        expect(await repository.backlog()).toEqual({
          unfinished: 1,
          oldestUnfinishedAt: open.createdAt,
          oldestAuthorizedAt: null,
          waiting: 2,
          oldestWaitingAt: first.createdAt,
          waitingPastExpiry: 1,
        });
      });

      it('dates the oldest authorization that may be open: after_order, authorized, not completed or failed, its payment not undone outside', async () => {
        const authorize = (checkout: Checkout) =>
          repository.update(checkout, {
            status: 'payment_authorized',
            paymentId: `txn_${checkout.id}`,
            cause: STEP,
          });
        const captured = await recordCreatedAgo(90 * MINUTE, 'after_order');
        await authorize(captured);
        await finish(captured);
        // Its authorization voided in the console under its order: nothing left open.
        const undoneOutside = await recordCreatedAgo(85 * MINUTE, 'after_order');
        await authorize(undoneOutside);
        await repository.update(undoneOutside, {
          status: 'requires_attention',
          undoFailures: ['payment_undone_under_order'],
          cause: STEP,
          response: ATTENTION,
        });
        const voidFailed = await recordCreatedAgo(80 * MINUTE, 'after_order');
        await authorize(voidFailed);
        await repository.update(voidFailed, {
          status: 'requires_attention',
          undoFailures: ['void_payment'],
          cause: STEP,
          response: ATTENTION,
        });
        const open = await recordCreatedAgo(70 * MINUTE, 'after_order');
        await authorize(open);
        // A one-shot charge is no authorization, and a checkout not yet authorized holds none.
        const charged = await recordCreatedAgo(100 * MINUTE);
        await repository.update(charged, {
          status: 'payment_processed',
          paymentId: 'txn_c',
          cause: STEP,
        });
        await recordCreatedAgo(110 * MINUTE, 'after_order');

        const backlog = await repository.backlog();
        expect(backlog.oldestAuthorizedAt).toBe(voidFailed.createdAt);
        expect(backlog.unfinished).toBe(3);
      });
    });

    describe('takeForOperator', () => {
      const operate = (id: string, reopen = false, settleDelayMs = 0) =>
        repository.takeForOperator(id, { leaseMs: LEASE, worker: OPERATOR, reopen, settleDelayMs });
      /** A checkout given up while refunding a refused payment: it has something to undo. */
      const givenUpCompensating = async () => {
        const checkout = await record();
        await compensateRefused(checkout);
        await giveUp(checkout);
        return checkout;
      };
      /** The checkout an operator took, or a failure naming why it was refused. */
      const taken = async (id: string, reopen = false) => {
        const result = await operate(id, reopen);
        if ('refused' in result) throw new Error(`the operator was refused: ${result.refused}`);
        return result.taken;
      };

      it('refuses an id it never recorded, and a completed or failed checkout, writing nothing', async () => {
        const completed = await record();
        await finish(completed);
        const failed = await record();
        await repository.update(failed, {
          status: 'failed',
          cause: STEP,
          failure: REFUSED,
          response: ANSWER,
        });
        await subject.elapse(LEASE);

        expect(await operate(randomUUID())).toEqual({ refused: 'not_found' });
        for (const reopen of [false, true]) {
          expect(await operate(completed.id, reopen)).toEqual({ refused: 'finished' });
          expect(await operate(failed.id, reopen)).toEqual({ refused: 'finished' });
        }
        expect(await repository.findById(failed.id)).toMatchObject({
          status: 'failed',
          attempt: 1,
        });
        expect(await repository.history(completed.id)).toHaveLength(2);
      });

      it('refuses a checkout whose lease still runs or ended less than the settle delay ago, and takes it as it is after that', async () => {
        const checkout = await record();
        await repository.update(checkout, {
          status: 'payment_processed',
          cause: STEP,
          paymentId: 'txn_1',
        });

        expect(await operate(checkout.id)).toEqual({ refused: 'held' });
        await subject.elapse(LEASE);
        // A request the worker sent may still land: recovery would not ask the services yet.
        expect(await operate(checkout.id, true, 10 * MINUTE)).toEqual({ refused: 'settling' });
        expect(await claimAll(10 * MINUTE)).toEqual({ claimed: [], unreadable: [] });
        await subject.elapse(10 * MINUTE);

        // Reopening concerns requires_attention only: an unfinished checkout is taken as it is.
        expect(await operate(checkout.id, true, 10 * MINUTE)).toEqual({
          taken: {
            ...checkout,
            status: 'payment_processed',
            paymentId: 'txn_1',
            attempt: 2,
            updatedAt: expect.any(String),
          },
        });
        expect((await moves(checkout.id)).at(-1)).toEqual({
          from: 'payment_processed',
          to: 'payment_processed',
          cause: 'taken by operator',
          by: OPERATOR,
        });
      });

      it('holds what it takes: a new lease, and attempt bumped so the worker before is fenced', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const mine = await taken(checkout.id);

        expect(await operate(checkout.id)).toEqual({ refused: 'held' });
        expect(await repository.takeOver(checkout.id, LEASE, TAKER)).toBeUndefined();
        expect(await claimAll()).toEqual({ claimed: [], unreadable: [] });
        await expectLost(repository.update(checkout, { status: 'payment_processed', cause: STEP }));
        await expectLost(repository.recordSettleTry(checkout, NO_ANSWER));
        await repository.update(mine, { status: 'failed', cause: 'resolved', response: ANSWER });
        expect((await moves(checkout.id)).slice(1)).toEqual([
          { from: 'pending', to: 'pending', cause: 'taken by operator', by: OPERATOR },
          { from: 'pending', to: 'failed', cause: 'resolved', by: OPERATOR },
        ]);
      });

      it('takes a requires_attention checkout as it is when not asked to reopen it', async () => {
        const checkout = await givenUpCompensating();
        const given = await repository.findById(checkout.id);

        expect(await operate(checkout.id)).toEqual({
          taken: { ...given, attempt: 2, updatedAt: expect.any(String) },
        });
        expect((await moves(checkout.id)).at(-1)).toEqual({
          from: 'requires_attention',
          to: 'requires_attention',
          cause: 'taken by operator',
          by: OPERATOR,
        });
      });

      it.each([
        { givenUpAt: 'compensating', compensationFrom: 'inventory_deducted' },
        { givenUpAt: 'payment_processed', compensationFrom: null },
      ] as const)(
        'reopens a requires_attention checkout given up at $givenUpAt at that state, its undo failures and settle tries cleared',
        async ({ givenUpAt, compensationFrom }) => {
          const checkout = await record();
          await repository.update(checkout, {
            status: givenUpAt,
            cause: STEP,
            paymentId: 'txn_1',
            failure: UNAVAILABLE,
            compensationFrom,
          });
          await giveUp(checkout);
          await repository.recordSettleTry(checkout, NO_ANSWER);

          const reopened = await taken(checkout.id, true);

          expect(reopened).toEqual({
            ...checkout,
            status: givenUpAt,
            paymentId: 'txn_1',
            failure: UNAVAILABLE,
            compensationFrom,
            undoFailures: [],
            settleTries: 0,
            attempt: 2,
            updatedAt: expect.any(String),
          });
          expect(await repository.findById(checkout.id)).toEqual(reopened);
          expect((await moves(checkout.id)).at(-1)).toEqual({
            from: 'requires_attention',
            to: givenUpAt,
            cause: 'reopened by operator',
            by: OPERATOR,
          });
          await expectLost(repository.update(checkout, { status: 'failed', cause: STEP }));
        },
      );

      it('forgets the answer stored with requires_attention when it reopens it, and only then', async () => {
        /** The answer a repeat of `key` would be given now (`null`: none stored). */
        const storedAnswer = async (key: string) => {
          const repeat = await repository.create(await newOne(), {
            leaseMs: LEASE,
            idempotency: claim(key, 'h'),
            worker: TAKER,
          });
          if (repeat.created) throw new Error(`the key ${key} was taken twice`);
          return repeat.holder.response;
        };
        const givenUpWithKey = async (key: string) => {
          const checkout = await record(claim(key, 'h'));
          await compensateRefused(checkout);
          await giveUp(checkout);
          return checkout;
        };
        const kept = await givenUpWithKey('k-kept');
        const reopened = await givenUpWithKey('k-reopened');
        expect(await storedAnswer('k-reopened')).toEqual(ATTENTION);

        await taken(kept.id);
        await taken(reopened.id, true);

        // Not final any more: a repeat of its key must not be told how it ended before.
        expect(await storedAnswer('k-reopened')).toBeNull();
        expect(await storedAnswer('k-kept')).toEqual(ATTENTION);
      });

      it('keeps the key of a checkout it reopens until that checkout is final again', async () => {
        const checkout = await record(claim('k-reopen', 'h', 1));
        await compensateRefused(checkout);
        await giveUp(checkout);
        await subject.elapse(HOUR - MINUTE);

        await taken(checkout.id, true);
        await subject.elapse(2 * HOUR);

        expect(await repository.findKeyHolder(claim('k-reopen', 'h', 1))).toMatchObject({
          checkout: { id: checkout.id, status: 'compensating' },
          response: null,
        });
      });

      it('reopens at the state before requires_attention even after an operator took it as it was', async () => {
        const checkout = await record();
        await repository.update(checkout, { status: 'inventory_deducted', cause: STEP });
        await giveUp(checkout);
        await taken(checkout.id);

        expect(await operate(checkout.id, true)).toEqual({ refused: 'held' });
        await subject.elapse(LEASE);
        expect(await taken(checkout.id, true)).toMatchObject({
          status: 'inventory_deducted',
          attempt: 3,
        });
      });

      it('reopens a row from before the history at compensating if it has something to undo, and refuses one that has nothing', async () => {
        const toUndo = await givenUpCompensating();
        const nothingToUndo = await record();
        await giveUp(nothingToUndo);
        for (const { id } of [toUndo, nothingToUndo]) await subject.forgetHistory(id);

        expect(await taken(toUndo.id, true)).toMatchObject({
          status: 'compensating',
          compensationFrom: 'payment_processed',
          undoFailures: [],
        });
        expect(await operate(nothingToUndo.id, true)).toEqual({ refused: 'no_recovery_point' });
        expect(await repository.findById(nothingToUndo.id)).toMatchObject({
          status: 'requires_attention',
          attempt: 1,
        });
        expect(await repository.history(nothingToUndo.id)).toEqual([]);
        expect(await taken(nothingToUndo.id)).toMatchObject({
          status: 'requires_attention',
          attempt: 2,
        });
      });

      it('lets exactly one of two operators racing for a checkout take it', async () => {
        const checkout = await record();
        await subject.elapse(LEASE);

        const results = await Promise.all([operate(checkout.id), operate(checkout.id)]);

        expect(results).toContainEqual({ refused: 'held' });
        expect(results).toContainEqual({ taken: expect.objectContaining({ attempt: 2 }) });
        expect(await repository.history(checkout.id)).toHaveLength(2);
      });

      it('throws on a row it cannot read, before writing anything', async () => {
        const yen = { currency: 'JPY', items: [{ productId: 'p', quantity: 1, priceCents: 99 }] };
        const spoiled = await record(undefined, { ...yen, totalCents: 99 });
        await subject.spoilAmount(spoiled.id);
        await subject.elapse(LEASE);

        await expect(operate(spoiled.id)).rejects.toBeInstanceOf(RangeError);
        expect(await repository.history(spoiled.id)).toHaveLength(1);
        expect(await claimAll()).toEqual({ claimed: [], unreadable: [spoiled.id] });
      });
    });
  });
}
