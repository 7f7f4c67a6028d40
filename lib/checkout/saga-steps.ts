import type { Checkout, CheckoutFailure, PaymentCard, SagaStep } from './checkout.ts';
import type { CheckoutChanges, InventoryService, OrderService, PaymentService } from './ports.ts';

/** The services a step talks to. */
export interface StepServices {
  payment: PaymentService;
  inventory: InventoryService;
  order: OrderService;
}

/** The recovery points a step starts from, in saga order. */
export type RecoveryPoint = 'pending' | 'payment_processed' | 'inventory_deducted';

/**
 * One saga step, described once: how it runs, how its outcome is settled by asking the service
 * (the outcome lookup), and how it is undone. The forward saga (`saga.ts`) and recovery
 * (`recovery.ts`) are two policies over these descriptions.
 */
export interface SagaStepDefinition {
  step: SagaStep;
  /** The recovery point the step starts from; the checkout's status while its outcome is open. */
  from: RecoveryPoint;
  /** Runs the step and returns the recovery point it reached. */
  run(
    services: StepServices,
    checkout: Checkout,
    card: PaymentCard,
    signal: AbortSignal,
  ): Promise<CheckoutChanges>;
  /**
   * Asks the service what its record says of the step (the outcome lookup). Throws when the
   * service cannot say: the outcome stays unknown.
   */
  settle(services: StepServices, checkout: Checkout, signal: AbortSignal): Promise<StepRecord>;
  /** Undoes the step (same key and body on every try); absent when it cannot be undone. */
  undo?: {
    name: string;
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
 * checkout go forward: one that happened and was undone since (a refund or a release made
 * outside the checkout, by an operator in a console) sends the checkout to undo the rest, and
 * a service that replays its stored success for the key must not hide that.
 */
export type StepRecord =
  /** The step happened and stands now (`success`, `deducted`, `created`). */
  | { kind: 'stands'; reached: CheckoutChanges }
  /** The step happened and was undone since (`refunded`, `released`). */
  | { kind: 'undone'; reached: CheckoutChanges }
  /** The service holds the step as refused (a declined charge): a refusal heard now is final. */
  | { kind: 'refused' }
  /** The service holds nothing of the step. */
  | { kind: 'absent' };

/** The cause of a recovery point found in a service's record rather than in its answer. */
const SETTLED = (step: SagaStep) => `settled: the ${step} service's record shows the step happened`;

/** Charge the card. Undone by a refund of the whole amount. */
const charge: SagaStepDefinition = {
  step: 'payment',
  from: 'pending',
  async run({ payment }, checkout, card, signal) {
    const { transactionId } = await payment.charge(
      {
        checkoutId: checkout.id,
        amountCents: checkout.totalCents,
        currency: checkout.currency,
        card,
        customerEmail: checkout.customerEmail,
      },
      { signal },
    );
    return { status: 'payment_processed', paymentId: transactionId, cause: 'charged' };
  },
  async settle({ payment }, checkout, signal) {
    const charges = await payment.findCharges(checkout.id, { signal });
    const reached = (transactionId: string): CheckoutChanges => ({
      status: 'payment_processed',
      paymentId: transactionId,
      cause: SETTLED('payment'),
    });
    const held = charges.find((c) => c.status === 'success');
    if (held) return { kind: 'stands', reached: reached(held.transactionId) };
    const refunded = charges.find((c) => c.status === 'refunded');
    if (refunded) return { kind: 'undone', reached: reached(refunded.transactionId) };
    return charges.length > 0 ? { kind: 'refused' } : { kind: 'absent' };
  },
  undo: {
    name: 'refund_payment',
    async run({ payment }, checkout, failure, signal) {
      // A row written before its charge was recorded (an older version's `compensating` row)
      // has no transaction id: the service's record says whether there is one to refund.
      const transactionId = checkout.paymentId ?? (await heldCharge(payment, checkout, signal));
      if (!transactionId) return; // never charged: nothing to refund
      await payment.refund(
        {
          checkoutId: checkout.id,
          transactionId,
          amountCents: checkout.totalCents,
          currency: checkout.currency,
          reason: `${failure.step}_${failure.reason}`,
        },
        { signal },
      );
    },
  },
};

/** Deduct the stock of every item. Undone by releasing the same items. */
const deduct: SagaStepDefinition = {
  step: 'inventory',
  from: 'payment_processed',
  async run({ inventory }, checkout, _card, signal) {
    await inventory.deduct({ checkoutId: checkout.id, items: checkout.items }, { signal });
    return { status: 'inventory_deducted', cause: 'stock deducted' };
  },
  async settle({ inventory }, checkout, signal) {
    const deductions = await inventory.findDeductions(checkout.id, { signal });
    const reached: CheckoutChanges = { status: 'inventory_deducted', cause: SETTLED('inventory') };
    if (deductions.some((d) => d.status === 'deducted')) return { kind: 'stands', reached };
    return deductions.length > 0 ? { kind: 'undone', reached } : { kind: 'absent' };
  },
  undo: {
    name: 'release_inventory',
    async run({ inventory }, checkout, _failure, signal) {
      await inventory.release({ checkoutId: checkout.id, items: checkout.items }, { signal });
    },
  },
};

/** Create the order of a paid, stocked checkout: the last step, which cannot be undone. */
const createOrder: SagaStepDefinition = {
  step: 'order',
  from: 'inventory_deducted',
  async run({ order }, checkout, _card, signal) {
    if (!checkout.paymentId) throw new Error(`checkout ${checkout.id} has no payment id`);
    const { orderId } = await order.create(
      {
        checkoutId: checkout.id,
        customerEmail: checkout.customerEmail,
        shippingAddress: checkout.shippingAddress,
        items: checkout.items,
        totalCents: checkout.totalCents,
        currency: checkout.currency,
        paymentId: checkout.paymentId,
      },
      { signal },
    );
    return { status: 'completed', orderId, cause: 'order created' };
  },
  async settle({ order }, checkout, signal) {
    const orders = await order.findOrders(checkout.id, { signal });
    const created = orders.find((o) => o.status === 'created');
    return created
      ? {
          kind: 'stands',
          reached: { status: 'completed', orderId: created.orderId, cause: SETTLED('order') },
        }
      : { kind: 'absent' };
  },
};

/** The saga, in order. */
export const SAGA_STEPS: readonly SagaStepDefinition[] = [charge, deduct, createOrder];

/** The step whose outcome is open while a checkout stands at `status`, if any. */
export function stepFrom(status: Checkout['status']): SagaStepDefinition | undefined {
  return SAGA_STEPS.find((s) => s.from === status);
}

/** The steps a checkout at `status` has done, in saga order (the open step excluded). */
export function stepsDone(status: Checkout['status']): SagaStepDefinition[] {
  const open = SAGA_STEPS.findIndex((s) => s.from === status);
  return open < 0 ? [] : SAGA_STEPS.slice(0, open);
}

/**
 * What a checkout's compensation undoes, latest first: the steps done before it started. A
 * `compensating` row that does not say where it started from (written before that was
 * recorded) undoes every step that can be undone: each undo first finds out from the service
 * whether there is anything to undo.
 */
export function stepsToUndo(checkout: Pick<Checkout, 'status' | 'compensationFrom'>) {
  if (checkout.compensationFrom) return stepsDone(checkout.compensationFrom).reverse();
  return checkout.status === 'compensating' ? [...SAGA_STEPS].reverse() : [];
}

/** The charge the payment service holds as standing for a checkout, if any. */
async function heldCharge(
  payment: PaymentService,
  checkout: Checkout,
  signal: AbortSignal,
): Promise<string | undefined> {
  const charges = await payment.findCharges(checkout.id, { signal });
  return charges.find((c) => c.status === 'success')?.transactionId;
}
