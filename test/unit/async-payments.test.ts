import { describe, expect, it } from 'vitest';
import { ID } from './after-order-fakes.ts';
import {
  asyncFakes,
  calls,
  charge,
  DAY,
  DOCUMENT,
  event,
  issued,
  MINUTE,
  post,
  status,
  stock,
  sweep,
  webhook,
} from './async-payment-fakes.ts';
import { FIXED_NOW, outcomeOfKind, refused, storedRow, unknown } from './fakes.ts';

/*
 * Pix and boleto (design §4a) over the fakes: stock held, the charge issued (202), then moved
 * only by what the payment service's record says, by whoever holds the lease: the webhook, a
 * same-key retry, the sweep.
 */

describe('a Pix checkout', () => {
  it('holds the stock, issues the Pix, and answers awaiting with its instructions', async () => {
    const fakes = asyncFakes();
    const { checkout } = outcomeOfKind(await post(fakes), 'awaiting');
    expect(fakes.serviceCalls()).toEqual(['inventory.deduct', 'payment.createPix']);
    expect(checkout.status).toBe('awaiting_payment');
    expect(checkout.asyncPayment?.instructions).toMatchObject({ method: 'pix' });
    const expiresAt = new Date(FIXED_NOW.getTime() + 30 * MINUTE).toISOString();
    expect(checkout.asyncPayment?.expiresAt).toBe(expiresAt);
    expect(calls(fakes, 'payment.createPix')[0]).toMatchObject({
      amountCents: 34_970,
      customerDocument: DOCUMENT,
      expiresAt,
    });
    const row = storedRow(fakes, ID);
    expect(row.lockedUntil).toBeNull(); // waiting holds no lease
    expect(row.checkout.asyncPayment?.instructions).toEqual(checkout.asyncPayment?.instructions);
    // The sweep is woken at the expiry check, never before expires_at + 120 s.
    expect(fakes.scheduler.checks.map((c) => c.at)).toEqual([
      new Date(Date.parse(expiresAt) + 2 * MINUTE).toISOString(),
    ]);
  });

  it('completes on a paid webhook, creating the order, and does nothing for its duplicate', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'completed' });
    expect(status(fakes)).toBe('completed');
    expect(calls(fakes, 'order.create')).toHaveLength(1);
    expect(calls(fakes, 'order.create')[0]).toMatchObject({ paymentId: 'pix_0001' });
    const before = fakes.log.length;
    expect(await webhook(fakes)).toEqual({ kind: 'duplicate' });
    expect(fakes.log.slice(before).filter((c) => !c.name.startsWith('repository.'))).toEqual([]);
    expect(storedRow(fakes, ID).response?.code).toBe(200);
  });

  it('asks for a paid event again while the lookup does not show it paid, writing nothing', async () => {
    const fakes = await issued();
    expect(await webhook(fakes)).toMatchObject({ kind: 'not_yet', reason: 'not_shown_yet' });
    expect(status(fakes)).toBe('awaiting_payment');
    expect(storedRow(fakes, ID).lockedUntil).toBeNull();
    expect(await fakes.repository.eventApplied(ID, 'evt_1')).toBe(false);
    // Redelivered once paid: applied.
    fakes.payment.pay(ID);
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'completed' });
  });

  it('answers a same-key retry with the state the payment service gives it', async () => {
    const fakes = await issued();
    const waiting = outcomeOfKind(await post(fakes), 'awaiting');
    expect(waiting.checkout.asyncPayment?.instructions).not.toBeNull();
    expect(calls(fakes, 'payment.createPix')).toHaveLength(1); // nothing issued twice
    fakes.payment.pay(ID);
    outcomeOfKind(await post(fakes), 'completed');
    expect(status(fakes)).toBe('completed');
  });

  it('is never cancelled by the sweep before expires_at + 120 s', async () => {
    const fakes = await issued();
    fakes.at(30 * MINUTE + 119_000);
    await fakes.repository.leaveWaiting(storedRow(fakes, ID).checkout, {
      nextCheckAt: new Date(FIXED_NOW.getTime()).toISOString(),
      cause: 'due now (test)',
    });
    await sweep(fakes);
    expect(calls(fakes, 'payment.cancel')).toEqual([]);
    expect(status(fakes)).toBe('awaiting_payment');
  });

  it('expires unpaid: the charge cancelled, then the stock released, answered payment_expired', async () => {
    const fakes = await issued();
    fakes.at(32 * MINUTE + 1000);
    await sweep(fakes);
    expect(status(fakes)).toBe('expired');
    expect(charge(fakes)).toBe('cancelled');
    expect(stock(fakes)).toEqual(['released']);
    expect(JSON.parse(storedRow(fakes, ID).response?.body ?? '{}')).toMatchObject({
      status: 'expired',
      error: 'payment_expired',
    });
    // A retry with the key gets the same answer.
    expect(outcomeOfKind(await post(fakes), 'replay').stored.code).toBe(422);
  });

  it('completes at the expiry check when it was paid just before the cancel', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    fakes.at(32 * MINUTE + 1000);
    await sweep(fakes);
    expect(status(fakes)).toBe('completed');
    expect(stock(fakes)).toEqual(['deducted']);
  });

  it('keeps waiting when the cancel gets no answer and the charge is still pending', async () => {
    const fakes = await issued();
    fakes.payment.failWith.cancel = unknown('payment');
    fakes.at(32 * MINUTE + 1000);
    await sweep(fakes);
    expect(status(fakes)).toBe('awaiting_payment');
    expect(stock(fakes)).toEqual(['deducted']);
    delete fakes.payment.failWith.cancel;
    fakes.at(40 * MINUTE);
    await sweep(fakes);
    expect(status(fakes)).toBe('expired');
  });

  it('refunds and releases when the order is refused after payment', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    fakes.order.failWith.create = refused('order', 'invalid_address');
    await webhook(fakes);
    expect(status(fakes)).toBe('failed');
    expect(charge(fakes)).toBe('refunded');
    expect(stock(fakes)).toEqual(['released']);
    expect(calls(fakes, 'payment.cancel')).toEqual([]); // refunded, not also cancelled
  });

  it('leaves a paid order without an answer to recovery, which repeats it', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    fakes.order.failWith.create = unknown('order');
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'payment_processed' });
    delete fakes.order.failWith.create;
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    await sweep(fakes);
    expect(status(fakes)).toBe('completed');
    expect(charge(fakes)).toBe('paid');
  });

  it('after completion, logs and counts a refund made outside it, and moves nothing', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    await webhook(fakes);
    const charged = fakes.payment.charges.get(ID)?.[0];
    if (charged) charged.status = 'refunded'; // in the payment console
    expect(await webhook(fakes, event('payment.refunded', 'evt_2'))).toEqual({
      kind: 'applied',
      status: 'completed',
    });
    expect(status(fakes)).toBe('completed');
    expect(fakes.metrics.refundsAfterCompletion).toBe(1);
    expect(fakes.logger.lines.some((l) => l.message.includes('REFUNDED AFTER COMPLETION'))).toBe(
      true,
    );
  });

  it('asks for a person when it was paid with another amount', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID, { amountCents: 100 });
    await webhook(fakes);
    expect(status(fakes)).toBe('requires_attention');
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual(['paid_amount_differs']);
  });
});

describe('a payment after expiry', () => {
  async function expiredPix(boleto = false) {
    const fakes = await issued(asyncFakes(), boleto);
    fakes.at(boleto ? 12 * DAY : 32 * MINUTE + 1000);
    await sweep(fakes);
    expect(status(fakes)).toBe('expired');
    return fakes;
  }

  it('within the late window deducts the stock again under its own key and completes', async () => {
    const fakes = await expiredPix();
    fakes.at(2 * DAY);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + 2 * DAY).toISOString() });
    await webhook(fakes);
    expect(status(fakes)).toBe('completed');
    expect(storedRow(fakes, ID).checkout.paidLate).toBe(true);
    expect(storedRow(fakes, ID).checkout.failure).toBeNull(); // it did not fail after all
    expect(fakes.log.filter((c) => c.name === 'inventory.deduct').length).toBe(2);
    expect(storedRow(fakes, ID).response?.code).toBe(200);
  });

  it('is refunded under its own key when the stock is gone', async () => {
    const fakes = await expiredPix();
    fakes.at(DAY);
    fakes.payment.pay(ID);
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    await webhook(fakes);
    expect(status(fakes)).toBe('failed');
    expect(storedRow(fakes, ID).checkout.failure?.reason).toBe('paid_after_expiry');
    expect(charge(fakes)).toBe('refunded');
  });

  it('past the late window is refunded', async () => {
    const fakes = await expiredPix();
    fakes.at(9 * DAY);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + 9 * DAY).toISOString() });
    await webhook(fakes);
    expect(status(fakes)).toBe('failed');
    expect(charge(fakes)).toBe('refunded');
    expect(fakes.log.filter((c) => c.name === 'inventory.deduct').length).toBe(1);
  });

  it('of a boleto whose stock is gone is left to a person: its refund needs a bank account', async () => {
    const fakes = await expiredPix(true);
    fakes.payment.pay(ID);
    fakes.inventory.failWith.deduct = refused('inventory', 'out_of_stock');
    await webhook(fakes);
    expect(status(fakes)).toBe('requires_attention');
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual(['refund_boleto']);
  });
});

describe('a boleto checkout', () => {
  it('is due on a business day in São Paulo and survives recovery runs for days', async () => {
    const fakes = await issued(asyncFakes(), true);
    const { asyncPayment } = storedRow(fakes, ID).checkout;
    expect(asyncPayment?.dueDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(calls(fakes, 'payment.createBoleto')[0]).toMatchObject({
      customerName: 'Maria Silva',
      dueDate: asyncPayment?.dueDate,
    });
    for (let day = 1; day <= 5; day++) {
      fakes.at(day * DAY);
      const report = await sweep(fakes);
      expect(report.outcomes.requires_attention).toBeUndefined();
      expect(status(fakes)).toBe('awaiting_payment');
    }
    expect(calls(fakes, 'payment.cancel')).toEqual([]);
  });

  it('whose order is refused after payment releases the stock and asks a person to refund', async () => {
    const fakes = await issued(asyncFakes(), true);
    fakes.payment.pay(ID);
    fakes.order.failWith.create = refused('order', 'invalid_address');
    await webhook(fakes);
    expect(status(fakes)).toBe('requires_attention');
    expect(storedRow(fakes, ID).checkout.undoFailures).toEqual(['refund_boleto']);
    expect(stock(fakes)).toEqual(['released']);
    expect(charge(fakes)).toBe('paid');
  });
});

describe('a Pix whose creation answer was lost', () => {
  it('is cancelled by recovery, its stock released: recovery has no QR code to hand out', async () => {
    const fakes = asyncFakes();
    fakes.payment.createPix = async (input) => {
      await fakes.payment.constructor.prototype.createPix.call(fakes.payment, input);
      throw unknown('payment');
    };
    outcomeOfKind(await post(fakes), 'incomplete');
    expect(status(fakes)).toBe('inventory_deducted');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    await sweep(fakes);
    expect(status(fakes)).toBe('failed');
    expect(storedRow(fakes, ID).checkout.failure?.reason).toBe('abandoned');
    expect(charge(fakes)).toBe('cancelled');
    expect(stock(fakes)).toEqual(['released']);
  });

  it('moves to awaiting_payment on a same-key retry, with the same instructions', async () => {
    const fakes = asyncFakes();
    const real = fakes.payment.createPix.bind(fakes.payment);
    let first = true;
    fakes.payment.createPix = async (input) => {
      const answer = await real(input);
      if (first) {
        first = false;
        throw unknown('payment');
      }
      return answer;
    };
    outcomeOfKind(await post(fakes), 'incomplete');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    const { checkout } = outcomeOfKind(await post(fakes), 'awaiting');
    expect(checkout.asyncPayment?.instructions).toEqual(fakes.payment.instructions.get(ID));
    expect(charge(fakes)).toBe('pending');
  });
});
