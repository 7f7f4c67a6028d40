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
   * Asks the service whether the step happened: the recovery point it reached if it did,
   * `null` if it did not. Throws when the service cannot say (the outcome stays unknown).
   */
  settle(
    services: StepServices,
    checkout: Checkout,
    signal: AbortSignal,
  ): Promise<CheckoutChanges | null>;
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
    // A refunded charge happened too: its undo is already done, and repeating it is a no-op.
    const held = charges.find((c) => c.status === 'success' || c.status === 'refunded');
    return held
      ? { status: 'payment_processed', paymentId: held.transactionId, cause: SETTLED('payment') }
      : null;
  },
  undo: {
    name: 'refund_payment',
    async run({ payment }, checkout, failure, signal) {
      if (!checkout.paymentId) return; // never charged: nothing to refund
      await payment.refund(
        {
          checkoutId: checkout.id,
          transactionId: checkout.paymentId,
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
    return deductions.length > 0
      ? { status: 'inventory_deducted', cause: SETTLED('inventory') }
      : null;
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
      ? { status: 'completed', orderId: created.orderId, cause: SETTLED('order') }
      : null;
  },
};

/** The saga, in order. */
export const SAGA_STEPS: readonly SagaStepDefinition[] = [charge, deduct, createOrder];

/** The step whose outcome is open while a checkout stands at `status`, if any. */
export function stepFrom(status: Checkout['status']): SagaStepDefinition | undefined {
  return SAGA_STEPS.find((s) => s.from === status);
}

/**
 * The steps done before compensation started from `point`, latest first: what to undo.
 */
export function stepsToUndo(point: Checkout['compensationFrom']): SagaStepDefinition[] {
  const done = SAGA_STEPS.findIndex((s) => s.from === point);
  return done < 0 ? [] : SAGA_STEPS.slice(0, done).reverse();
}
