import {
  type CardSummary,
  type Checkout,
  type CheckoutOrder,
  newCheckout,
  type PaymentInstructions,
  type PaymentSecrets,
  type RawCard,
} from '#lib/checkout/checkout.ts';
import { installmentPlan } from '#lib/checkout/installments.ts';
import type { WorkBudget } from '#lib/checkout/lease.ts';
import type {
  BacklogReport,
  ChargeRecord,
  CheckoutMetrics,
  Clock,
  DeductionRecord,
  InventoryService,
  OrderRecord,
  OrderService,
  PaymentService,
  RecoveryScheduler,
  SagaLogger,
} from '#lib/checkout/ports.ts';
import { type Cart, type PricingService, UnknownProductError } from '#lib/checkout/pricing.ts';
import type { CheckoutDeps } from '#lib/checkout/process-checkout.ts';
import {
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
  ServiceUnavailableError,
} from '#lib/checkout/service-errors.ts';
import { renderFinished } from '#lib/http/checkout-presenter.ts';
import { FakeCheckoutRepository } from '../support/fake-checkout-repository.ts';

export { FakeCheckoutRepository };

/** One call to a fake, in the order it happened across every fake of a test. */
export interface Call {
  name: string;
  input: unknown;
}

export type CallLog = Call[];

/** What a fake answers: by default it succeeds; a scripted error is thrown instead. */
type Failures<T> = Partial<Record<keyof T, Error>>;

/**
 * The fake services keep what they hold for each checkout, as the real ones do, and answer the
 * outcome lookups from it: a call that succeeds is recorded; a scripted failure is thrown and
 * records nothing (a test that wants "failed after acting" also sets what the service holds).
 */
export class FakePaymentService implements PaymentService {
  failWith: Failures<PaymentService> = {};
  transactionId = 'txn_0001';
  /** What the service holds, per checkout id. */
  readonly charges = new Map<string, ChargeRecord[]>();

  constructor(private readonly log: CallLog) {}

  async charge(input: Parameters<PaymentService['charge']>[0]) {
    this.log.push({ name: 'payment.charge', input });
    if (this.failWith.charge) throw this.failWith.charge;
    // The same key again: the stored answer, whatever happened to the charge since.
    const earlier = this.charges.get(input.checkoutId)?.find((c) => c.status !== 'failed');
    if (earlier) return { transactionId: earlier.transactionId };
    this.charges.set(input.checkoutId, [{ transactionId: this.transactionId, status: 'success' }]);
    return { transactionId: this.transactionId };
  }

  /** The card a token's authorization reports (a raw card's is known from its number). */
  tokenCard: CardSummary = { brand: 'visa', last4: '4242' };

  async authorize(input: Parameters<PaymentService['authorize']>[0]) {
    this.log.push({ name: 'payment.authorize', input });
    if (this.failWith.authorize) throw this.failWith.authorize;
    const earlier = this.charges.get(input.checkoutId)?.find((c) => c.status !== 'failed');
    const transactionId = earlier?.transactionId ?? this.transactionId;
    if (!earlier) this.charges.set(input.checkoutId, [{ transactionId, status: 'authorized' }]);
    const token = input.payment.instrument.type === 'card_token';
    return { transactionId, ...(token && { card: this.tokenCard }) };
  }

  /** Captures an authorization; as a strict service, refuses one voided or refunded. */
  async capture(input: Parameters<PaymentService['capture']>[0]) {
    this.log.push({ name: 'payment.capture', input });
    if (this.failWith.capture) throw this.failWith.capture;
    const held = this.held(input.checkoutId, input.transactionId);
    if (held.status === 'authorized') held.status = 'captured';
    else if (held.status !== 'captured') throw refused('payment', `authorization_${held.status}`);
  }

  /** Voids an authorization; as a strict service, refuses one captured (it needs a refund). */
  async void(input: Parameters<PaymentService['void']>[0]) {
    this.log.push({ name: 'payment.void', input });
    if (this.failWith.void) throw this.failWith.void;
    const held = this.held(input.checkoutId, input.transactionId);
    if (held.status === 'authorized') held.status = 'voided';
    else if (held.status !== 'voided') throw refused('payment', `authorization_${held.status}`);
  }

  private held(checkoutId: string, transactionId: string): ChargeRecord {
    const held = this.charges.get(checkoutId)?.find((c) => c.transactionId === transactionId);
    if (!held) throw refused('payment', 'unknown_transaction');
    return held;
  }

  /**
   * Refunds the charge of the transaction named (a one-shot charge, a paid Pix), and only it:
   * another charge of the checkout stays as it is. A test that set up no charge for the
   * transaction gets the checkout's charges refunded, as before charges had ids of their own.
   */
  async refund(input: Parameters<PaymentService['refund']>[0]) {
    this.log.push({ name: 'payment.refund', input });
    if (this.failWith.refund) throw this.failWith.refund;
    const charges = this.charges.get(input.checkoutId) ?? [];
    const named = charges.filter((c) => c.transactionId === input.transactionId);
    for (const charge of named.length > 0 ? named : charges) charge.status = 'refunded';
  }

  /** The instructions each checkout's Pix or boleto was issued with: a repeat gets them again. */
  readonly instructions = new Map<string, PaymentInstructions>();

  async createPix(input: Parameters<PaymentService['createPix']>[0]) {
    this.log.push({ name: 'payment.createPix', input });
    if (this.failWith.createPix) throw this.failWith.createPix;
    return this.issue(input, {
      method: 'pix',
      qrCode: `00020101021226850014br.gov.bcb.pix${this.transactionId}`,
      expiresAt: input.expiresAt,
    });
  }

  async createBoleto(input: Parameters<PaymentService['createBoleto']>[0]) {
    this.log.push({ name: 'payment.createBoleto', input });
    if (this.failWith.createBoleto) throw this.failWith.createBoleto;
    return this.issue(input, {
      method: 'boleto',
      barcode: '00191100000000349701234170000000000012345000',
      digitableLine: '00191.23417 00000.000001 00001.234505 1 10000000034970',
      url: `https://boleto.example.com/${this.transactionId}`,
      dueDate: input.dueDate,
    });
  }

  /**
   * Issues a Pix or boleto, `pending` for its amount in BRL. The same key again: the stored
   * answer (the same transaction and instructions), whatever happened to the charge since.
   */
  private issue(
    { checkoutId, amountCents }: { checkoutId: string; amountCents: number },
    instructions: PaymentInstructions,
  ) {
    const earlier = this.charges.get(checkoutId)?.find((c) => c.status !== 'failed');
    const transactionId = earlier?.transactionId ?? this.transactionId;
    if (!earlier)
      this.charges.set(checkoutId, [
        { transactionId, status: 'pending', amountCents, currency: 'BRL' },
      ]);
    if (!this.instructions.has(checkoutId)) this.instructions.set(checkoutId, instructions);
    return { transactionId, instructions: this.instructions.get(checkoutId) ?? instructions };
  }

  /** Cancels an unpaid Pix or boleto; as a strict service, refuses one paid or refunded. */
  async cancel(input: Parameters<PaymentService['cancel']>[0]) {
    this.log.push({ name: 'payment.cancel', input });
    if (this.failWith.cancel) throw this.failWith.cancel;
    const held = this.held(input.checkoutId, input.transactionId);
    if (held.status === 'paid' || held.status === 'refunded')
      throw refused('payment', `charge_${held.status}`);
    held.status = 'cancelled';
  }

  /**
   * The customer pays the checkout's Pix or boleto (a test's move, not the port's): the pending
   * one, or for a late payment the one cancelled or expired; `amountCents` when another amount
   * was paid.
   */
  pay(checkoutId: string, paid: { paidAt?: string; amountCents?: number } = {}) {
    const payable = ['pending', 'cancelled', 'expired'];
    const charge = this.charges.get(checkoutId)?.find((c) => payable.includes(c.status));
    if (!charge) throw new Error(`checkout ${checkoutId} has no Pix or boleto to pay`);
    charge.status = 'paid';
    charge.paidAt = paid.paidAt ?? FIXED_NOW.toISOString();
    if (paid.amountCents !== undefined) charge.amountCents = paid.amountCents;
  }

  async findCharges(checkoutId: string) {
    this.log.push({ name: 'payment.findCharges', input: { checkoutId } });
    if (this.failWith.findCharges) throw this.failWith.findCharges;
    return structuredClone(this.charges.get(checkoutId) ?? []);
  }
}

export class FakeInventoryService implements InventoryService {
  failWith: Failures<InventoryService> = {};
  readonly deductions = new Map<string, DeductionRecord[]>();

  constructor(private readonly log: CallLog) {}

  async deduct(input: Parameters<InventoryService['deduct']>[0]) {
    this.log.push({ name: 'inventory.deduct', input });
    if (this.failWith.deduct) throw this.failWith.deduct;
    this.deductions.set(input.checkoutId, [{ status: 'deducted' }]);
  }

  async release(input: Parameters<InventoryService['release']>[0]) {
    this.log.push({ name: 'inventory.release', input });
    if (this.failWith.release) throw this.failWith.release;
    for (const deduction of this.deductions.get(input.checkoutId) ?? [])
      deduction.status = 'released';
  }

  async findDeductions(checkoutId: string) {
    this.log.push({ name: 'inventory.findDeductions', input: { checkoutId } });
    if (this.failWith.findDeductions) throw this.failWith.findDeductions;
    return structuredClone(this.deductions.get(checkoutId) ?? []);
  }
}

export class FakeOrderService implements OrderService {
  failWith: Failures<OrderService> = {};
  orderId = 'ord_0001';
  readonly orders = new Map<string, OrderRecord[]>();

  constructor(private readonly log: CallLog) {}

  async create(input: Parameters<OrderService['create']>[0]) {
    this.log.push({ name: 'order.create', input });
    if (this.failWith.create) throw this.failWith.create;
    this.orders.set(input.checkoutId, [{ orderId: this.orderId, status: 'created' }]);
    return { orderId: this.orderId };
  }

  async findOrders(checkoutId: string) {
    this.log.push({ name: 'order.findOrders', input: { checkoutId } });
    if (this.failWith.findOrders) throw this.failWith.findOrders;
    return structuredClone(this.orders.get(checkoutId) ?? []);
  }
}

/**
 * A catalog that prices each product as the seed's order does (`sampleOrder`), or as a test
 * sets in `prices`; a product it does not know is refused, as the real one does.
 */
export class FakeCatalog implements PricingService {
  readonly source = 'catalog';
  failWith: Error | undefined;
  readonly prices = new Map<string, number>(
    sampleOrder().items.map((item) => [item.productId, item.priceCents]),
  );

  constructor(private readonly log: CallLog) {}

  async quote(cart: Cart) {
    this.log.push({ name: 'catalog.quote', input: cart });
    if (this.failWith) throw this.failWith;
    const unknown = cart.items.find((item) => !this.prices.has(item.productId));
    if (unknown) throw new UnknownProductError(unknown.productId);
    return new Map(this.prices);
  }
}

/** Metrics that keep every outcome reported, in order. */
export class FakeMetrics implements CheckoutMetrics {
  readonly outcomes: Array<{ status: string; failedStep?: string }> = [];

  readonly backlogs: BacklogReport[] = [];

  outcome(status: string, failedStep?: string) {
    this.outcomes.push(failedStep ? { status, failedStep } : { status });
  }

  backlog(report: BacklogReport) {
    this.backlogs.push(report);
  }

  refundsAfterCompletion = 0;

  refundedAfterCompletion() {
    this.refundsAfterCompletion++;
  }
}

/** Keeps the recovery schedules and the expiry checks asked for, each in order. */
export class FakeRecoveryScheduler implements RecoveryScheduler {
  readonly scheduled: Array<{ id: string; attempt: number; leaseEndsAt: string }> = [];
  readonly checks: Array<{ id: string; at: string }> = [];

  async scheduleRecovery(checkout: Pick<Checkout, 'id' | 'attempt'>, leaseEndsAt: Date) {
    const { id, attempt } = checkout;
    this.scheduled.push({ id, attempt, leaseEndsAt: leaseEndsAt.toISOString() });
  }

  async scheduleCheck(checkout: Pick<Checkout, 'id'>, at: Date) {
    this.checks.push({ id: checkout.id, at: at.toISOString() });
  }
}

/** A logger that keeps every line, so tests can look for what must (not) be logged. */
export class FakeLogger implements SagaLogger {
  readonly lines: Array<{ level: string; message: string; extra: Record<string, unknown>[] }> = [];

  info(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'info', message, extra });
  }

  warn(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'warn', message, extra });
  }

  error(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'error', message, extra });
  }
}

export const FIXED_NOW = new Date('2026-11-24T12:00:00.000Z');

export const fixedClock: Clock = { now: () => new Date(FIXED_NOW) };

/** Every fake of the saga's ports, sharing one call log, wired into `SagaDeps`. */
export function createSagaFakes(options: { leaseMs?: number; id?: string; clock?: Clock } = {}) {
  const log: CallLog = [];
  const clock = options.clock ?? fixedClock;
  const repository = new FakeCheckoutRepository(log, clock);
  const payment = new FakePaymentService(log);
  const inventory = new FakeInventoryService(log);
  const order = new FakeOrderService(log);
  const logger = new FakeLogger();
  const metrics = new FakeMetrics();
  const scheduler = new FakeRecoveryScheduler();
  const catalog = new FakeCatalog(log);
  const deps: CheckoutDeps & { newId: () => string } = {
    repository,
    payment,
    inventory,
    order,
    clock,
    logger,
    metrics,
    newId: () => options.id ?? '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f',
    // The real renderer: what a final state stores is what the HTTP layer would answer.
    renderAnswer: renderFinished,
    scheduler,
    pricing: catalog,
    // The seed's one-shot charge, as most tests were written for; `after_order` tests set it.
    paymentFlow: 'immediate',
  };
  /** A work budget whose deadline never fires unless the test aborts `deadline`. */
  const deadline = new AbortController();
  const budget: WorkBudget = {
    worker: 'request:test',
    leaseMs: options.leaseMs ?? 60_000,
    signal: deadline.signal,
  };
  /** The names of the saga's downstream calls only (payment, inventory, order), in order. */
  const serviceCalls = () =>
    log.map((c) => c.name).filter((name) => /^(payment|inventory|order)\./.test(name));
  return {
    log,
    repository,
    payment,
    inventory,
    order,
    logger,
    metrics,
    scheduler,
    catalog,
    deps,
    budget,
    deadline,
    serviceCalls,
  };
}

/** The seed's order as `parseCheckoutRequest` makes it: 2 × 99.90 + 1 × 149.90. */
export function sampleOrder(): CheckoutOrder {
  return {
    customerEmail: 'customer@example.com',
    currency: 'BRL',
    items: [
      { productId: 'prod_001', quantity: 2, priceCents: 9990 },
      { productId: 'prod_002', quantity: 1, priceCents: 14_990 },
    ],
    shippingAddress: {
      street: 'Rua das Flores',
      number: '123',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    totalCents: 34_970,
    card: { brand: 'visa', last4: '1111' },
    method: 'credit_card',
    installments: installmentPlan(34_970, 1),
    asyncPayment: null,
  };
}

/** The seed's cart as `parseCheckoutRequest` makes it: the prices the customer saw sent. */
export function sampleCart(): Cart {
  const { items, totalCents: _total, installments, asyncPayment: _async, ...rest } = sampleOrder();
  return {
    ...rest,
    installments: installments.count,
    asyncTerms: null,
    items: items.map(({ productId, quantity, priceCents }) => ({
      productId,
      quantity,
      priceSeenCents: priceCents,
    })),
  };
}

export function sampleCard(): RawCard {
  return {
    type: 'credit_card',
    cardNumber: '4111111111111111',
    cardExpiry: '12/30',
    cardCvv: '987',
  };
}

/** What the seed's request carries for the payment service: its raw card. */
export function sampleSecrets(): PaymentSecrets {
  return { instrument: sampleCard() };
}

type Service = 'payment' | 'inventory' | 'order';

/** The three ways a downstream call can fail, as the service clients report them. */
export const refused = (service: Service, reason: string) =>
  new ServiceRefusedError(service, reason, `the ${service} service refused: ${reason}`);
export const unavailable = (service: Service) =>
  new ServiceUnavailableError(service, 'http_503', `The ${service} service is unavailable`);
export const unknown = (service: Service) =>
  new ServiceOutcomeUnknownError(service, 'timeout', `The ${service} service did not answer`);

/** A checkout as the repository holds it after `fields` (default: nothing done yet). */
export function recordedCheckout(id: string, fields: Partial<Checkout> = {}): Checkout {
  // Unfinished since it was created, unless the test says otherwise.
  const since = fields.unfinishedSince ?? fields.createdAt;
  return {
    ...newCheckout(sampleOrder(), id, FIXED_NOW),
    ...fields,
    ...(since && { unfinishedSince: since }),
  };
}

/**
 * Makes the fake services hold what a checkout at its recovery point has done, as the real
 * ones would: a standing charge from `payment_processed` on, a deduction from
 * `inventory_deducted` on. A worker that takes a checkout over checks those records.
 */
export function holdStepsDone(fakes: SagaFakes, checkout: Checkout) {
  if (checkout.flow === 'pix' || checkout.flow === 'boleto')
    return holdAsyncStepsDone(fakes, checkout);
  const done = [
    'payment_processed',
    'payment_authorized',
    'inventory_deducted',
    'order_created',
    'compensating',
  ];
  if (done.includes(checkout.status) && checkout.paymentId) {
    const status = checkout.flow === 'after_order' ? 'authorized' : 'success';
    fakes.payment.charges.set(checkout.id, [{ transactionId: checkout.paymentId, status }]);
  }
  const deducted =
    checkout.status === 'inventory_deducted' ||
    checkout.status === 'order_created' ||
    checkout.compensationFrom === 'inventory_deducted';
  if (deducted) fakes.inventory.deductions.set(checkout.id, [{ status: 'deducted' }]);
  if (checkout.status === 'order_created' && checkout.orderId) {
    fakes.order.orders.set(checkout.id, [{ orderId: checkout.orderId, status: 'created' }]);
  }
}

/** A Pix's or boleto's payment at each recovery point it has one: issued, then paid. */
const ASYNC_PAYMENT: Partial<Record<string, ChargeRecord['status']>> = {
  awaiting_payment: 'pending',
  payment_processed: 'paid',
};

/**
 * `holdStepsDone` for a Pix or boleto, whose stock is held first: deducted from
 * `inventory_deducted` on, its charge `pending` while it waits, `paid` (its amount, in BRL) once
 * paid. A compensating checkout holds what its `compensationFrom` did.
 */
function holdAsyncStepsDone(fakes: SagaFakes, checkout: Checkout) {
  const point = checkout.status === 'compensating' ? checkout.compensationFrom : checkout.status;
  const status = point ? ASYNC_PAYMENT[point] : undefined;
  if (status && checkout.paymentId) {
    const { paymentId: transactionId, totalCents: amountCents, currency } = checkout;
    fakes.payment.charges.set(checkout.id, [{ transactionId, status, amountCents, currency }]);
  }
  const stockHeld = ['inventory_deducted', 'awaiting_payment', 'payment_processed'];
  if (point && stockHeld.includes(point))
    fakes.inventory.deductions.set(checkout.id, [{ status: 'deducted' }]);
}

/**
 * Stores `checkout` as a first worker left it under the caller's key `claim`, its lease expired,
 * and makes the services hold what it has done.
 */
export function leftBehindWithKey(
  fakes: SagaFakes,
  checkout: Checkout,
  claim: import('#lib/checkout/ports.ts').IdempotencyClaim,
): Checkout {
  fakes.repository.checkouts.set(checkout.id, {
    checkout: structuredClone(checkout),
    lockedUntil: new Date(FIXED_NOW.getTime() - 1),
    idempotency: {
      key: `${claim.caller}\u001f${claim.key}`,
      requestHash: claim.requestHash,
      expiresAt: new Date(FIXED_NOW.getTime() + 3_600_000),
    },
  });
  holdStepsDone(fakes, checkout);
  return checkout;
}

/** The fakes of one test, as `createSagaFakes` wires them. */
export type SagaFakes = ReturnType<typeof createSagaFakes>;

type Outcome = import('#lib/checkout/checkout-outcome.ts').CheckoutOutcome;

/** `outcome`, checked to be of `kind` and typed as such. */
export function outcomeOfKind<K extends Outcome['kind']>(
  outcome: Outcome,
  kind: K,
): Outcome & { kind: K } {
  if (outcome.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(outcome)}`);
  return outcome as Outcome & { kind: K };
}

/** The row the fake repository holds for `id`: the checkout, its lease and its stored answer. */
export function storedRow(fakes: SagaFakes, id: string) {
  const row = fakes.repository.checkouts.get(id);
  if (!row) throw new Error(`checkout ${id} was not recorded`);
  return row;
}

/** The statuses the updates wrote, in order. */
export const updatedStatuses = (fakes: SagaFakes) =>
  fakes.repository.writes.flatMap((w) => (w.kind === 'update' ? [w.changes.status] : []));

/** The calls among `names`, in the order they were made (each as often as it was made). */
export const callOrder = (fakes: SagaFakes, ...names: string[]) =>
  fakes.log.map((c) => c.name).filter((name) => names.includes(name));

/** A promise with the function that resolves it: an event a test waits for or sends. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** Makes the forward call to the error's service (charge, deduct or create) throw it. */
export function failForward(
  fakes: SagaFakes,
  error: ReturnType<typeof refused | typeof unavailable | typeof unknown>,
) {
  if (error.service === 'payment') fakes.payment.failWith.charge = error;
  if (error.service === 'inventory') fakes.inventory.failWith.deduct = error;
  if (error.service === 'order') fakes.order.failWith.create = error;
}
