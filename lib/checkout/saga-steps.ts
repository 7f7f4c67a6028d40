import type {
  AsyncInstrument,
  AsyncMethod,
  Checkout,
  CheckoutFailure,
  CheckoutStatus,
  PaymentFlow,
  PaymentSecrets,
  SagaStep,
} from './checkout.ts';
import type {
  CallOptions,
  ChargeRecord,
  CheckoutChanges,
  InventoryService,
  OrderService,
  PaymentService,
} from './ports.ts';
import { ServiceOutcomeUnknownError } from './service-errors.ts';

/** The services a step talks to. */
export interface StepServices {
  payment: PaymentService;
  inventory: InventoryService;
  order: OrderService;
}

/** The recovery points a step starts from, in saga order. */
export type RecoveryPoint =
  | 'pending'
  | 'payment_processed'
  | 'payment_authorized'
  | 'inventory_deducted'
  | 'awaiting_payment'
  | 'order_created';

/**
 * One saga step, described once: how it runs, how its outcome is settled by asking the service
 * (the outcome lookup), and how it is undone. The forward saga (`saga.ts`) and recovery
 * (`recovery.ts`) are two policies over these descriptions; a payment flow is a table of them
 * (`stepsOf`).
 */
export interface SagaStepDefinition {
  /** The step's own name: what logs, timings and a person's attention name. */
  name:
    | 'charge'
    | 'authorize'
    | 'deduct'
    | 'create_order'
    | 'capture'
    | AsyncMethod
    | 'await_payment';
  /** The service it calls: what a failure of the step names (`payment_failed`). */
  step: SagaStep;
  /** The recovery point the step starts from; the checkout's status while its outcome is open. */
  from: RecoveryPoint;
  /**
   * Where the step stands against the order, the point of no return:
   * - `undoable`: before the order; undone (`undo`) when the checkout cannot complete.
   * - `commits`: the order itself. Once it stands nothing is undone: the checkout only goes on.
   * - `finishes`: after the order (the capture). It needs nothing the request carried, so a
   *   same-key retry or recovery repeats it (same key and body) until it stands; a refusal
   *   asks for a person (`attention`), since nothing may be undone any more.
   */
  phase: 'undoable' | 'commits' | 'finishes';
  /** What a `finishes` step that the service refuses leaves for a person: `capture_payment`. */
  attention?: string;
  /**
   * The customer acts next (pays a Pix or boleto): the forward saga stops before this step and
   * answers `awaiting`; the payment's webhook, a same-key retry or the sweep settle it by lookup
   * (`awaiting-payment.ts`). It is never run.
   */
  waits?: true;
  /**
   * Its answer is what the customer pays with (a Pix's QR code, a slip): a record that shows the
   * step happened cannot stand in for that answer when a same-key retry repeats it.
   */
  handsOut?: true;
  /**
   * Needs nothing the request carried, and the customer was told to expect it (an order for a
   * paid Pix): recovery repeats it (same key and body) until it stands, rather than undo.
   */
  repeatable?: true;
  /**
   * Runs the step and returns the recovery point it reached. `secrets` (the card or token, the
   * payer's document) comes only with the request that carries it: a step that needs it is never
   * run without it (recovery settles such a step by asking the service instead).
   */
  run(
    services: StepServices,
    checkout: Checkout,
    secrets: PaymentSecrets | undefined,
    signal: AbortSignal,
  ): Promise<CheckoutChanges>;
  /**
   * Asks the service what its record says of the step (the outcome lookup). Throws when the
   * service cannot say: the outcome stays unknown.
   */
  settle(services: StepServices, checkout: Checkout, signal: AbortSignal): Promise<StepRecord>;
  /**
   * Undoes the step (same key and body on every try); absent when it cannot be undone. Each
   * service undoes only the latest step done to it (a paid Pix is refunded, not also cancelled).
   */
  undo?: {
    name: string;
    /**
     * Only a person can undo it (a boleto's refund needs the payer's bank account): it is never
     * run, and the checkout ends `requires_attention` naming it once the rest is undone.
     */
    byPerson?: true;
    run(
      services: StepServices,
      checkout: Checkout,
      failure: CheckoutFailure,
      signal: AbortSignal,
    ): Promise<void>;
  };
}

/**
 * What a service's record says of a step (design §4a). Only a step that `stands` lets a
 * checkout go forward: one that happened and was undone since (a refund, a void or a release
 * made outside the checkout, by an operator in a console) sends the checkout to undo the rest,
 * and a service that replays its stored success for the key must not hide that.
 */
export type StepRecord =
  /** The step happened and stands now (`success`, `authorized`, `captured`, `deducted`, `created`). */
  | { kind: 'stands'; reached: CheckoutChanges }
  /** The step happened and was undone since (`refunded`, `voided`, `released`). */
  | { kind: 'undone'; reached: CheckoutChanges }
  /** The service holds the step as refused (a declined charge): a refusal heard now is final. */
  | { kind: 'refused' }
  /** The service holds nothing of the step. */
  | { kind: 'absent' };

/** The cause of a recovery point found in a service's record rather than in its answer. */
const SETTLED = (step: SagaStep) => `settled: the ${step} service's record shows the step happened`;

/** What the payment service's record says of the checkout's charge or authorization. */
async function paymentRecord(
  { payment }: StepServices,
  checkout: Checkout,
  signal: AbortSignal,
  stands: readonly string[],
  status: RecoveryPoint,
): Promise<StepRecord> {
  const charges = await payment.findCharges(checkout.id, { signal });
  const reached = (transactionId: string): CheckoutChanges => ({
    status,
    paymentId: transactionId,
    cause: SETTLED('payment'),
  });
  const held = charges.find((c) => stands.includes(c.status));
  if (held) return { kind: 'stands', reached: reached(held.transactionId) };
  const undone = charges.find((c) => UNDONE.includes(c.status));
  if (undone) return { kind: 'undone', reached: reached(undone.transactionId) };
  if (charges.length === 0) return { kind: 'absent' };
  if (charges.every((c) => c.status === 'failed')) return { kind: 'refused' };
  // A payment of the other flow's kind (a hold under `immediate`, money taken at once under
  // `after_order`): nothing this step can go on from or undo. A person must look.
  throw new ServiceOutcomeUnknownError(
    'payment',
    'record_disagrees',
    `The payment service holds a ${charges[0]?.status} payment where this checkout's flow makes none`,
  );
}

/** The secrets a step cannot run without: only the request that carries them has them. */
function needed(secrets: PaymentSecrets | undefined, checkout: Checkout): PaymentSecrets {
  if (!secrets) throw new Error(`checkout ${checkout.id}: the payment step needs the request`);
  return secrets;
}

/** The transaction a step after the payment acts on. */
function paymentOf(checkout: Checkout): string {
  if (!checkout.paymentId) throw new Error(`checkout ${checkout.id} has no payment id`);
  return checkout.paymentId;
}

/** A payment that happened and was undone since: refunded, voided, or cancelled unpaid. */
const UNDONE: readonly ChargeRecord['status'][] = ['refunded', 'voided', 'cancelled', 'expired'];

/** A step repeated for a late payment has keys of its own (`<id>:release_late`). */
function roundOf(checkout: Checkout, signal: AbortSignal): CallOptions {
  return checkout.paidLate ? { signal, round: 'late' } : { signal };
}

/** Refunds the whole amount of the checkout's payment `transactionId`, naming the failure. */
function refundWhole(
  payment: PaymentService,
  checkout: Checkout,
  transactionId: string,
  failure: CheckoutFailure,
  options: CallOptions,
): Promise<void> {
  const { id: checkoutId, totalCents: amountCents, currency } = checkout;
  const reason = `${failure.step}_${failure.reason}`;
  return payment.refund({ checkoutId, transactionId, amountCents, currency, reason }, options);
}

/** A one-shot charge that stands: a service that also captures reports one as `captured`. */
const CHARGE_STANDS: readonly string[] = ['success', 'captured'];

/** Charge the card at once (`immediate`). Undone by a refund of the whole amount. */
const charge: SagaStepDefinition = {
  name: 'charge',
  step: 'payment',
  from: 'pending',
  phase: 'undoable',
  async run({ payment }, checkout, secrets, signal) {
    const { instrument, customerDocument } = needed(secrets, checkout);
    if (instrument.type === 'pix' || instrument.type === 'boleto') {
      throw new Error(`checkout ${checkout.id}: a ${instrument.type} is not charged to a card`);
    }
    const { count } = checkout.installments;
    const { transactionId } = await payment.charge(
      {
        checkoutId: checkout.id,
        amountCents: checkout.totalCents,
        currency: checkout.currency,
        card: instrument,
        customerEmail: checkout.customerEmail,
        ...(count > 1 && { installments: count }),
        ...(customerDocument && { customerDocument }),
      },
      { signal },
    );
    return { status: 'payment_processed', paymentId: transactionId, cause: 'charged' };
  },
  settle: (services, checkout, signal) =>
    paymentRecord(services, checkout, signal, CHARGE_STANDS, 'payment_processed'),
  undo: {
    name: 'refund_payment',
    async run({ payment }, checkout, failure, signal) {
      // A row written before its charge was recorded (an older version's `compensating` row)
      // has no transaction id: the service's record says whether there is one to refund.
      const transactionId = checkout.paymentId ?? (await heldCharge(payment, checkout, signal));
      if (!transactionId) return; // never charged: nothing to refund
      await refundWhole(payment, checkout, transactionId, failure, { signal });
    },
  },
};

/**
 * Authorize the amount (`after_order`): held on the customer's card, taken only by the capture
 * once the order exists. Undone by a void, which costs the customer nothing (a refund takes
 * days to reach the statement and can cost a fee).
 */
const authorize: SagaStepDefinition = {
  name: 'authorize',
  step: 'payment',
  from: 'pending',
  phase: 'undoable',
  async run({ payment }, checkout, secrets, signal) {
    const { transactionId, card } = await payment.authorize(
      {
        checkoutId: checkout.id,
        amountCents: checkout.totalCents,
        currency: checkout.currency,
        installments: checkout.installments,
        customerEmail: checkout.customerEmail,
        payment: needed(secrets, checkout),
      },
      { signal },
    );
    // A token's card is known only from the authorization; a raw card's, from its number.
    const told = checkout.card ? {} : card && { card };
    return { status: 'payment_authorized', paymentId: transactionId, ...told, cause: 'authorized' };
  },
  settle: (services, checkout, signal) =>
    paymentRecord(services, checkout, signal, ['authorized', 'captured'], 'payment_authorized'),
  undo: {
    name: 'void_payment',
    async run({ payment }, checkout, failure, signal) {
      const transactionId = checkout.paymentId;
      if (!transactionId) return; // every authorization is recorded before anything follows it
      await payment.void(
        { checkoutId: checkout.id, transactionId, reason: `${failure.step}_${failure.reason}` },
        { signal },
      );
    },
  },
};

/** Deduct the stock of every item. Undone by releasing the same items. */
function deduct(from: 'pending' | 'payment_processed' | 'payment_authorized'): SagaStepDefinition {
  return {
    name: 'deduct',
    step: 'inventory',
    from,
    phase: 'undoable',
    async run({ inventory }, checkout, _secrets, signal) {
      await inventory.deduct({ checkoutId: checkout.id, items: checkout.items }, { signal });
      return { status: 'inventory_deducted', cause: 'stock deducted' };
    },
    async settle({ inventory }, checkout, signal) {
      const deductions = await inventory.findDeductions(checkout.id, { signal });
      const reached: CheckoutChanges = {
        status: 'inventory_deducted',
        cause: SETTLED('inventory'),
      };
      if (deductions.some((d) => d.status === 'deducted')) return { kind: 'stands', reached };
      return deductions.length > 0 ? { kind: 'undone', reached } : { kind: 'absent' };
    },
    undo: {
      name: 'release_inventory',
      async run({ inventory }, checkout, _failure, signal) {
        const items = { checkoutId: checkout.id, items: checkout.items };
        await inventory.release(items, roundOf(checkout, signal));
      },
    },
  };
}

/**
 * Create the order of a paid (or authorized), stocked checkout: the point of no return. With a
 * one-shot charge it completes the checkout; with an authorization it does not (the capture
 * does), and the order is told the payment is only `authorized` yet.
 */
function createOrder(
  reaches: 'completed' | 'order_created',
  from: RecoveryPoint = 'inventory_deducted',
  repeatable?: true,
): SagaStepDefinition {
  return {
    name: 'create_order',
    step: 'order',
    from,
    phase: 'commits',
    ...(repeatable && { repeatable }),
    async run({ order }, checkout, _secrets, signal) {
      const { orderId } = await order.create(
        {
          checkoutId: checkout.id,
          customerEmail: checkout.customerEmail,
          shippingAddress: checkout.shippingAddress,
          items: checkout.items,
          totalCents: checkout.totalCents,
          currency: checkout.currency,
          paymentId: paymentOf(checkout),
          ...(reaches === 'order_created' && { paymentStatus: 'authorized' as const }),
        },
        { signal },
      );
      return { status: reaches, orderId, cause: 'order created' };
    },
    async settle({ order }, checkout, signal) {
      const orders = await order.findOrders(checkout.id, { signal });
      const created = orders.find((o) => o.status === 'created');
      return created
        ? {
            kind: 'stands',
            reached: { status: reaches, orderId: created.orderId, cause: SETTLED('order') },
          }
        : { kind: 'absent' };
    },
  };
}

/**
 * Capture the authorized amount once the order exists: what completes an `after_order`
 * checkout. Needs no card, so a retry or recovery repeats it until the record says `captured`.
 */
const capture: SagaStepDefinition = {
  name: 'capture',
  step: 'payment',
  from: 'order_created',
  phase: 'finishes',
  attention: 'capture_payment',
  async run({ payment }, checkout, _secrets, signal) {
    await payment.capture(
      {
        checkoutId: checkout.id,
        transactionId: paymentOf(checkout),
        amountCents: checkout.totalCents,
        currency: checkout.currency,
      },
      { signal },
    );
    return { status: 'completed', cause: 'captured' };
  },
  async settle({ payment }, checkout, signal) {
    const charges = await payment.findCharges(checkout.id, { signal });
    const own = charges.find((c) => c.transactionId === checkout.paymentId);
    const reached: CheckoutChanges = { status: 'completed', cause: 'settled: captured' };
    switch (own?.status) {
      case 'captured':
        return { kind: 'stands', reached };
      case 'authorized':
        return { kind: 'absent' };
      case 'voided':
      case 'refunded':
        return { kind: 'undone', reached };
      default:
        // The authorization this checkout recorded is not in the record: nothing to go on.
        throw new ServiceOutcomeUnknownError(
          'payment',
          'record_disagrees',
          "The payment service's record does not show this checkout's authorization",
        );
    }
  },
};

/** The payer's details a Pix or boleto is issued with: only the request carries them. */
function payer(secrets: PaymentSecrets | undefined, checkout: Checkout) {
  const { instrument, customerDocument } = needed(secrets, checkout);
  if (!customerDocument || (instrument.type !== 'pix' && instrument.type !== 'boleto')) {
    throw new Error(`checkout ${checkout.id}: a ${checkout.flow} needs the payer's document`);
  }
  return { instrument: instrument as AsyncInstrument, customerDocument };
}

/** A Pix's or boleto's terms, fixed when the checkout was recorded. */
function termsOf(checkout: Checkout): NonNullable<Checkout['asyncPayment']> {
  if (!checkout.asyncPayment) throw new Error(`checkout ${checkout.id} has no payment terms`);
  return checkout.asyncPayment;
}

/** How long after creation a waiting checkout is looked up at the latest, and after each look. */
export const RECHECK_WAITING_MS = 3_600_000;
/** Never cancel a Pix or boleto before this long after its expiry (design §4a). */
export const EXPIRY_GRACE_MS = 120_000;

/** When a waiting checkout's expiry is checked: its expiry plus the grace. */
export function expiryCheckAt(checkout: Checkout): Date {
  return new Date(Date.parse(termsOf(checkout).expiresAt) + EXPIRY_GRACE_MS);
}

/**
 * Issue the Pix or boleto once the stock is held. Its answer (the QR code, the slip) is what the
 * customer pays with; only a same-key retry, answered with the same instructions, can hand it
 * out again, so recovery, which settles it by lookup, cancels what it finds (design §4a).
 * Undone by a cancel, which a paid charge refuses.
 */
function issue(method: AsyncMethod): SagaStepDefinition {
  return {
    name: method,
    step: 'payment',
    from: 'inventory_deducted',
    phase: 'undoable',
    handsOut: true,
    async run({ payment }, checkout, secrets, signal) {
      const { instrument, customerDocument } = payer(secrets, checkout);
      const terms = termsOf(checkout);
      const common = {
        checkoutId: checkout.id,
        amountCents: checkout.totalCents,
        customerEmail: checkout.customerEmail,
        customerDocument,
      };
      const { transactionId, instructions } =
        instrument.type === 'boleto'
          ? await payment.createBoleto(
              {
                ...common,
                customerName: instrument.payerName,
                customerAddress: checkout.shippingAddress,
                dueDate: terms.dueDate ?? '',
              },
              { signal },
            )
          : await payment.createPix({ ...common, expiresAt: terms.expiresAt }, { signal });
      const firstLook = Date.parse(checkout.createdAt) + RECHECK_WAITING_MS;
      const nextCheckAt = Math.min(expiryCheckAt(checkout).getTime(), firstLook);
      return {
        status: 'awaiting_payment',
        paymentId: transactionId,
        instructions,
        nextCheckAt: new Date(nextCheckAt).toISOString(),
        cause: `${method} issued`,
      };
    },
    settle: (services, checkout, signal) =>
      paymentRecord(services, checkout, signal, ['pending', 'paid'], 'awaiting_payment'),
    undo: {
      name: 'cancel_payment',
      async run({ payment }, checkout, failure, signal) {
        const transactionId = checkout.paymentId;
        if (!transactionId) return; // recorded before anything follows it
        const reason = `${failure.step}_${failure.reason}`;
        await payment.cancel({ checkoutId: checkout.id, transactionId, reason }, { signal });
      },
    },
  };
}

/**
 * What the payment service's record says of a waiting checkout's own Pix or boleto (design
 * §4a): paid with its amount in BRL, still pending, over unpaid, paid and refunded since,
 * refused, paid with another amount (a person looks), or not there at all. Other pending
 * charges for the checkout (`strays`) are to be cancelled.
 */
export type Arrival =
  | { kind: 'paid'; paidAt?: string }
  | { kind: 'pending' }
  | { kind: 'ended' }
  | { kind: 'refunded' }
  | { kind: 'refused' }
  | { kind: 'differs' }
  | { kind: 'absent' };

export async function arrivalOf(
  { payment }: StepServices,
  checkout: Checkout,
  signal: AbortSignal,
): Promise<{ arrival: Arrival; seen?: ChargeRecord['status']; strays: ChargeRecord[] }> {
  const charges = await payment.findCharges(checkout.id, { signal });
  const own = charges.find((c) => c.transactionId === checkout.paymentId);
  const strays = charges.filter(
    (c) =>
      c.transactionId !== checkout.paymentId && (c.status === 'pending' || c.status === 'paid'),
  );
  const seen = own?.status;
  return { arrival: arrivalFrom(checkout, own), ...(seen && { seen }), strays };
}

function arrivalFrom(checkout: Checkout, own: ChargeRecord | undefined): Arrival {
  switch (own?.status) {
    case undefined:
      return { kind: 'absent' };
    case 'paid': {
      // An amount the record does not state is not taken as ours.
      const same = own.amountCents === checkout.totalCents && own.currency === checkout.currency;
      if (!same) return { kind: 'differs' };
      return { kind: 'paid', ...(own.paidAt && { paidAt: own.paidAt }) };
    }
    case 'pending':
      return { kind: 'pending' };
    case 'cancelled':
    case 'expired':
      return { kind: 'ended' };
    case 'refunded':
      return { kind: 'refunded' };
    case 'failed':
      return { kind: 'refused' };
    default:
      throw new ServiceOutcomeUnknownError(
        'payment',
        'record_disagrees',
        `The payment service holds a ${own?.status} payment where this checkout issued a ${checkout.flow}`,
      );
  }
}

/**
 * The customer pays: nothing to run, the forward saga stops here (`waits`). Settled by lookup:
 * paid moves the checkout to `payment_processed` (paid, stock held, order open). Undone by a
 * refund (a Pix's) or by a person (a boleto's: its refund needs the payer's bank account).
 */
function awaitPayment(method: AsyncMethod): SagaStepDefinition {
  return {
    name: 'await_payment',
    step: 'payment',
    from: 'awaiting_payment',
    phase: 'undoable',
    waits: true,
    async run(_services, checkout) {
      throw new Error(`checkout ${checkout.id}: a ${method} is paid by the customer, not run`);
    },
    async settle(services, checkout, signal) {
      const { arrival } = await arrivalOf(services, checkout, signal);
      const reached: CheckoutChanges = { status: 'payment_processed', cause: SETTLED('payment') };
      switch (arrival.kind) {
        case 'paid':
          return { kind: 'stands', reached };
        case 'ended':
        case 'refunded':
          return { kind: 'undone', reached };
        case 'refused':
          return { kind: 'refused' };
        case 'differs':
          throw new ServiceOutcomeUnknownError(
            'payment',
            'paid_amount_differs',
            'The payment service holds this checkout paid with another amount',
          );
        default:
          return { kind: 'absent' };
      }
    },
    undo:
      method === 'boleto'
        ? { name: 'refund_boleto', byPerson: true, run: async () => {} }
        : {
            name: 'refund_payment',
            run: ({ payment }, checkout, failure, signal) =>
              refundWhole(
                payment,
                checkout,
                paymentOf(checkout),
                failure,
                roundOf(checkout, signal),
              ),
          },
  };
}

/** A Pix's or boleto's saga: stock held first, the charge issued, paid by the customer, the order. */
function asyncFlow(method: AsyncMethod): readonly SagaStepDefinition[] {
  return [
    deduct('pending'),
    issue(method),
    awaitPayment(method),
    createOrder('completed', 'payment_processed', true),
  ];
}

/** Each payment flow's saga, in order: a flow is a table of steps, never a branch in a policy. */
const FLOWS: Readonly<Record<PaymentFlow, readonly SagaStepDefinition[]>> = {
  immediate: [charge, deduct('payment_processed'), createOrder('completed')],
  after_order: [authorize, deduct('payment_authorized'), createOrder('order_created'), capture],
  pix: asyncFlow('pix'),
  boleto: asyncFlow('boleto'),
};

/** The steps of a flow, in saga order. */
export function stepsOf(flow: PaymentFlow): readonly SagaStepDefinition[] {
  return FLOWS[flow];
}

type Position = Pick<Checkout, 'flow' | 'status'>;

/** The step whose outcome is open while a checkout stands at its status, if any. */
export function stepFrom({ flow, status }: Position): SagaStepDefinition | undefined {
  return FLOWS[flow].find((s) => s.from === status);
}

/** The steps a checkout at its status has done, in saga order (the open step excluded). */
export function stepsDone({ flow, status }: Position): SagaStepDefinition[] {
  const steps = FLOWS[flow];
  const open = steps.findIndex((s) => s.from === status);
  return open < 0 ? [] : steps.slice(0, open);
}

/** Whether a checkout at its status has something done that an undo could take back. */
export function hasUndoableSteps(checkout: Position): boolean {
  return (
    !hasCommitted(checkout) && stepsDone(checkout).some((s) => s.phase === 'undoable' && s.undo)
  );
}

/** Whether the order of a checkout at `status` exists: from there on nothing is undone. */
export function hasCommitted(checkout: Position): boolean {
  return stepsDone(checkout).some((s) => s.phase === 'commits');
}

/** Whether `status` is a point the order has been passed in `flow` (the order step reached). */
export function reachesPastOrder(flow: PaymentFlow, status: CheckoutStatus): boolean {
  return status === 'completed' || hasCommitted({ flow, status });
}

/**
 * What a checkout's compensation undoes, latest first: the steps done before it started. A
 * `compensating` row that does not say where it started from (written before that was
 * recorded, always a one-shot charge) undoes every step that can be undone: each undo first
 * finds out from the service whether there is anything to undo.
 */
export function stepsToUndo(checkout: Pick<Checkout, 'flow' | 'status' | 'compensationFrom'>) {
  let done: SagaStepDefinition[] = [];
  if (checkout.compensationFrom) {
    done = stepsDone({ flow: checkout.flow, status: checkout.compensationFrom }).reverse();
  } else if (checkout.status === 'compensating') {
    done = [...FLOWS[checkout.flow]].reverse();
  }
  // Each service undoes only the latest step done to it: a paid Pix is refunded, not cancelled.
  const undone = new Set<SagaStep>();
  return done.filter((step) => {
    if (!step.undo || undone.has(step.step)) return false;
    undone.add(step.step);
    return true;
  });
}

/** The charge the payment service holds as standing for a checkout, if any. */
async function heldCharge(
  payment: PaymentService,
  checkout: Checkout,
  signal: AbortSignal,
): Promise<string | undefined> {
  const charges = await payment.findCharges(checkout.id, { signal });
  return charges.find((c) => CHARGE_STANDS.includes(c.status))?.transactionId;
}
