import { describe, expect, it } from 'vitest';
import { retryCheckout } from '#lib/checkout/operations/retry-checkout.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import type { RecoveryOptions } from '#lib/checkout/recovery.ts';
import { ValidationError } from '#lib/errors.ts';
import {
  afterOrder,
  ID,
  leftBehind,
  payments,
  post,
  recover as recoverAfterOrder,
} from './after-order-fakes.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  outcomeOfKind,
  refused,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  storedRow,
  unavailable,
  unknown,
  updatedStatuses,
} from './fakes.ts';

/**
 * Cards as payment services take them (`PAYMENT_CAPTURE=after_order`, design §4a): authorize,
 * deduct, order, capture. Before the order an undo voids (free for the customer), never
 * refunds; once the order exists nothing is undone and only a capture completes the checkout;
 * every policy follows the flow recorded on the row.
 */

const OPTIONS: RecoveryOptions = {
  batchSize: 10,
  maxAttempts: 3,
  maxAgeHours: 24,
  settleDelayMs: 0,
};
const recover = (fakes: SagaFakes) => recoverAfterOrder(fakes, OPTIONS);

describe('after_order: authorize, deduct, order, capture', () => {
  it('authorizes first, tells the order the payment is authorized, and completes only on the capture (5 writes)', async () => {
    const fakes = afterOrder();
    const outcome = outcomeOfKind(await post(fakes), 'completed');
    expect(fakes.serviceCalls()).toEqual([
      'payment.authorize',
      'inventory.deduct',
      'order.create',
      'payment.capture',
    ]);
    expect(fakes.log.find((c) => c.name === 'order.create')?.input).toMatchObject({
      paymentId: 'auth_0001',
      paymentStatus: 'authorized',
    });
    expect(fakes.log.find((c) => c.name === 'payment.capture')?.input).toEqual({
      checkoutId: ID,
      transactionId: 'auth_0001',
      amountCents: 34_970,
      currency: 'BRL',
    });
    expect(updatedStatuses(fakes)).toEqual([
      'payment_authorized',
      'inventory_deducted',
      'order_created',
      'completed',
    ]);
    expect(fakes.repository.writes).toHaveLength(5); // the insert and four recovery points
    expect(outcome.checkout).toMatchObject({ flow: 'after_order', paymentId: 'auth_0001' });
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });

  it.each([
    {
      at: 'the stock',
      fail: (f: SagaFakes) => (f.inventory.failWith.deduct = refused('inventory', 'out_of_stock')),
    },
    {
      at: 'the order',
      fail: (f: SagaFakes) => (f.order.failWith.create = refused('order', 'invalid_address')),
    },
    {
      at: 'an unreachable order service',
      fail: (f: SagaFakes) => (f.order.failWith.create = unavailable('order')),
    },
  ])(
    'a checkout that fails at $at voids the authorization and refunds nothing',
    async ({ fail }) => {
      const fakes = afterOrder();
      fail(fakes);
      const outcome = await post(fakes);
      expect(['refused', 'unavailable']).toContain(outcome.kind);
      expect(fakes.serviceCalls()).toContain('payment.void');
      expect(fakes.serviceCalls()).not.toContain('payment.refund');
      expect(fakes.serviceCalls()).not.toContain('payment.capture');
      expect(payments(fakes)).toEqual([['auth_0001', 'voided']]);
      expect(storedRow(fakes, ID).checkout.status).toBe('failed');
    },
  );

  it('a declined authorization ends failed with nothing to undo', async () => {
    const fakes = afterOrder();
    fakes.payment.failWith.authorize = refused('payment', 'card_declined');
    const outcome = outcomeOfKind(await post(fakes), 'refused');
    expect(outcome.failure).toMatchObject({ step: 'payment', reason: 'card_declined' });
    expect(fakes.serviceCalls()).toEqual(['payment.authorize']);
  });

  it('a refused capture asks for a person: nothing undone under the order, the authorization left for them', async () => {
    const fakes = afterOrder();
    fakes.payment.failWith.capture = refused('payment', 'authorization_expired');
    const outcome = outcomeOfKind(await post(fakes), 'refused');
    expect(outcome.checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['capture_payment'],
      orderId: 'ord_0001',
    });
    expect(fakes.serviceCalls()).not.toContain('payment.void');
    expect(fakes.serviceCalls()).not.toContain('inventory.release');
    expect(storedRow(fakes, ID).response?.code).toBe(409);
  });

  it('a capture without an answer leaves the checkout at order_created; a same-key retry captures it with the same key and body', async () => {
    const fakes = afterOrder();
    fakes.payment.failWith.capture = unknown('payment');
    const first = outcomeOfKind(await post(fakes), 'incomplete');
    expect(first.checkout.status).toBe('order_created');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    fakes.payment.failWith = {};

    const retried = outcomeOfKind(await post(fakes), 'completed');
    expect(retried.checkout.status).toBe('completed');
    // The retry did not authorize, deduct or order again.
    expect(fakes.serviceCalls().filter((n) => n === 'payment.authorize')).toHaveLength(1);
    expect(fakes.serviceCalls().filter((n) => n === 'order.create')).toHaveLength(1);
    const captures = fakes.log.filter((c) => c.name === 'payment.capture').map((c) => c.input);
    expect(captures).toHaveLength(2);
    expect(captures[1]).toEqual(captures[0]);
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });

  it('an unreachable payment service at the capture undoes nothing: the order stands and the capture waits', async () => {
    const fakes = afterOrder();
    fakes.payment.failWith.capture = unavailable('payment');
    const outcome = outcomeOfKind(await post(fakes), 'incomplete');
    expect(outcome.checkout.status).toBe('order_created');
    expect(fakes.serviceCalls()).not.toContain('payment.void');
  });
});

describe('recovery of an after_order checkout', () => {
  it('captures an order_created checkout (no card needed) and completes it', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    const outcome = outcomeOfKind(await recover(fakes), 'completed');
    expect(outcome.checkout.status).toBe('completed');
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });

  it('records the order it finds, then captures: an order alone never completes the checkout', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'inventory_deducted' });
    fakes.order.orders.set(ID, [{ orderId: 'ord_late', status: 'created' }]);
    outcomeOfKind(await recover(fakes), 'completed');
    expect(updatedStatuses(fakes)).toEqual(['order_created', 'completed']);
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });

  it('completes on a capture the service already holds, without capturing again', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.charges.set(ID, [{ transactionId: 'auth_0001', status: 'captured' }]);
    outcomeOfKind(await recover(fakes), 'completed');
    expect(fakes.serviceCalls()).not.toContain('payment.capture');
  });

  it('voids an abandoned authorization with no order, and refunds nothing', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'payment_authorized' });
    const outcome = outcomeOfKind(await recover(fakes), 'unavailable');
    expect(outcome.checkout).toMatchObject({ status: 'failed', failure: { reason: 'abandoned' } });
    expect(payments(fakes)).toEqual([['auth_0001', 'voided']]);
    expect(fakes.serviceCalls()).not.toContain('payment.refund');
  });

  it('asks for a person after its tries when a capture keeps getting no answer', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.failWith.capture = unknown('payment');
    for (let run = 1; run < OPTIONS.maxAttempts; run++) {
      outcomeOfKind(await recover(fakes), 'incomplete');
    }
    const outcome = await recover(fakes);
    expect(outcome.kind).not.toBe('incomplete');
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['capture_payment'],
    });
    expect(fakes.serviceCalls()).not.toContain('payment.void');
  });

  it('a refused capture in recovery asks for a person at once', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.failWith.capture = refused('payment', 'authorization_expired');
    await recover(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['capture_payment'],
    });
  });

  it('an authorization voided outside under an order is for a person, never captured or completed', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.charges.set(ID, [{ transactionId: 'auth_0001', status: 'voided' }]);
    await recover(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['payment_undone_under_order'],
    });
    expect(fakes.serviceCalls()).not.toContain('payment.capture');
  });

  it('stock released outside under an order is for a person, never captured', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.inventory.deductions.set(ID, [{ status: 'released' }]);
    await recover(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['inventory_undone_under_order'],
    });
    expect(fakes.serviceCalls()).not.toContain('payment.capture');
  });

  it('a void that keeps failing ends requires_attention void_payment, never refunds', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'payment_authorized' });
    fakes.payment.failWith.void = unknown('payment');
    for (let run = 1; run < OPTIONS.maxAttempts; run++) await recover(fakes);
    await recover(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['void_payment'],
    });
    expect(fakes.serviceCalls()).not.toContain('payment.refund');
  });
});

describe('an operator retry of an after_order checkout given up', () => {
  it('reopens one given up at order_created there, and recovery captures it: never a void under the order', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.failWith.capture = unknown('payment');
    for (let run = 0; run < OPTIONS.maxAttempts; run++) await recover(fakes);
    expect(storedRow(fakes, ID).checkout.status).toBe('requires_attention');
    fakes.payment.failWith = {};
    storedRow(fakes, ID).lockedUntil = null;

    const outcome = await retryCheckout(fakes.deps, ID, OPTIONS, fakes.budget);

    expect(outcome).toMatchObject({ kind: 'completed', checkout: { status: 'completed' } });
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
    expect(fakes.serviceCalls()).not.toContain('payment.void');
  });

  it('reopens one given up at payment_authorized there, and recovery voids it', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'payment_authorized' });
    fakes.inventory.failWith.findDeductions = unknown('inventory');
    for (let run = 0; run < OPTIONS.maxAttempts; run++) await recover(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['settle_inventory'],
    });
    fakes.inventory.failWith = {};
    storedRow(fakes, ID).lockedUntil = null;

    const outcome = await retryCheckout(fakes.deps, ID, OPTIONS, fakes.budget);

    expect(outcome).toMatchObject({ kind: 'unavailable', checkout: { status: 'failed' } });
    expect(payments(fakes)).toEqual([['auth_0001', 'voided']]);
  });
});

describe('a same-key retry takes an after_order checkout over', () => {
  it('at order_created, with the authorization voided outside, asks for a person and never captures', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    fakes.payment.charges.set(ID, [{ transactionId: 'auth_0001', status: 'voided' }]);
    await post(fakes);
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      status: 'requires_attention',
      undoFailures: ['payment_undone_under_order'],
    });
    expect(fakes.serviceCalls()).not.toContain('payment.capture');
  });

  it('at order_created, captures and completes', async () => {
    const fakes = afterOrder();
    leftBehind(fakes, { status: 'order_created', orderId: 'ord_0001' });
    outcomeOfKind(await post(fakes), 'completed');
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });
});

describe('every policy follows the flow on the row, never the current setting', () => {
  it('a checkout recorded under after_order is resumed with authorize and capture after the setting changed to immediate', async () => {
    const fakes = afterOrder();
    fakes.payment.failWith.authorize = unknown('payment');
    outcomeOfKind(await post(fakes), 'incomplete');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    fakes.payment.failWith = {};
    fakes.deps.paymentFlow = 'immediate';

    outcomeOfKind(await post(fakes), 'completed');
    expect(fakes.serviceCalls()).not.toContain('payment.charge');
    expect(payments(fakes)).toEqual([['auth_0001', 'captured']]);
  });

  it('a checkout recorded under immediate is charged, and undone by a refund, after the setting changed to after_order', async () => {
    const fakes = createSagaFakes(); // immediate
    fakes.inventory.failWith.deduct = unknown('inventory');
    outcomeOfKind(await post(fakes), 'incomplete');
    fakes.deps.paymentFlow = 'after_order';
    fakes.inventory.failWith = {};
    outcomeOfKind(await recover(fakes), 'unavailable');
    expect(fakes.serviceCalls()).toContain('payment.refund');
    expect(fakes.serviceCalls()).not.toContain('payment.void');
    expect(storedRow(fakes, ID).checkout.flow).toBe('immediate');
  });
});

describe('tokens, raw cards and installments', () => {
  const token = { instrument: { type: 'card_token' as const, token: 'tok_visa' } };
  const tokenCart = () => ({ ...sampleCart(), card: null, method: 'card_token' as const });

  it('a token checkout keeps the brand and last 4 the authorization tells, and nothing else of the card', async () => {
    const fakes = afterOrder();
    fakes.payment.tokenCard = { brand: 'elo', last4: '1234' };
    outcomeOfKind(await post(fakes, token, tokenCart()), 'completed');
    expect(storedRow(fakes, ID).checkout).toMatchObject({
      method: 'card_token',
      card: { brand: 'elo', last4: '1234' },
    });
    expect(JSON.stringify(fakes.repository.writes)).not.toContain('tok_visa');
  });

  it('refuses a raw card where only tokens are taken, writing and calling nothing; a token goes through', async () => {
    const fakes = afterOrder();
    fakes.deps.acceptRawCards = false;
    const refusedOutcome = await post(fakes);
    expect(refusedOutcome).toEqual({ kind: 'raw_card_not_accepted' });
    expect(fakes.repository.writes).toHaveLength(0);
    expect(fakes.serviceCalls()).toEqual([]);
    outcomeOfKind(await post(fakes, token, tokenCart()), 'completed');
  });

  it('stores the plan and sends the count to the authorization: the total authorized, leftover cents first', async () => {
    const fakes = afterOrder();
    const cart = { ...sampleCart(), installments: 3 };
    outcomeOfKind(await post(fakes, sampleSecrets(), cart), 'completed');
    expect(storedRow(fakes, ID).checkout.installments).toEqual({
      count: 3,
      firstCents: 11_658,
      otherCents: 11_656,
    });
    expect(fakes.log.find((c) => c.name === 'payment.authorize')?.input).toMatchObject({
      amountCents: 34_970,
      installments: { count: 3 },
    });
  });

  it('refuses installments under the minimum of the total actually charged, before anything is written', async () => {
    const fakes = afterOrder();
    fakes.deps.minInstallmentCents = 5_000; // 50.00: 349.70 allows at most 6
    const cart = { ...sampleCart(), installments: 7 };
    await expect(
      processCheckout(fakes.deps, { cart, secrets: sampleSecrets() }, fakes.budget),
    ).rejects.toThrow(ValidationError);
    expect(fakes.repository.writes).toHaveLength(0);
    expect(fakes.serviceCalls()).toEqual([]);
  });
});
