import { describe, expect, it } from 'vitest';
import { readPaymentWebhook } from '#lib/http/payment-webhook-request.ts';
import { signWebhook } from '#lib/http/webhook-signature.ts';
import { ID } from './after-order-fakes.ts';
import {
  asyncFakes,
  calls,
  charge,
  DAY,
  event,
  issued,
  MINUTE,
  post,
  status,
  stock,
  sweep,
  webhook,
} from './async-payment-fakes.ts';
import {
  deferred,
  FIXED_NOW,
  outcomeOfKind,
  refused,
  type SagaFakes,
  storedRow,
  unavailable,
  unknown,
} from './fakes.ts';

/*
 * The edges of Pix and boleto (design §4a) an adversarial review tried: each test asserts what
 * the contract says must happen (a blip is not a refusal, a late deduction is never left taken,
 * a key holds until its checkout is final again, a webhook never answers 500 for a lost lease).
 */

async function expiredPix() {
  const fakes = await issued();
  fakes.at(32 * MINUTE + 1000);
  await sweep(fakes);
  expect(status(fakes)).toBe('expired');
  expect(stock(fakes)).toEqual(['released']);
  return fakes;
}

/** Makes the inventory's next deduct act, then lose its answer. */
function deductActsThenTimesOut(fakes: SagaFakes) {
  const real = fakes.inventory.deduct.bind(fakes.inventory);
  let once = true;
  fakes.inventory.deduct = async (input) => {
    await real(input);
    if (once) {
      once = false;
      throw unknown('inventory');
    }
  };
}

describe('Pix and boleto edges, the order step after payment', () => {
  it('a paid Pix whose order service is briefly unreachable is not refunded (create_order is repeatable)', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    fakes.order.failWith.create = unavailable('order');
    await webhook(fakes);
    // The customer paid and was promised the order: a 503 from the order service is a retry,
    // not a refusal.
    expect(charge(fakes)).toBe('paid');
    expect(stock(fakes)).toEqual(['deducted']);
    expect(status(fakes)).toBe('payment_processed');
    delete fakes.order.failWith.create;
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    await sweep(fakes);
    expect(status(fakes)).toBe('completed');
  });

  it('a boleto paid on day 4 whose order gets one 503 in recovery is repeated, not given up by age', async () => {
    const fakes = await issued(asyncFakes(), true);
    fakes.at(4 * DAY);
    fakes.payment.pay(ID);
    fakes.order.failWith.create = unknown('order');
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'payment_processed' });
    fakes.order.failWith.create = unavailable('order');
    fakes.at(4 * DAY + 2 * MINUTE); // the webhook's lease is over
    await sweep(fakes);
    // One try without an answer: the order is repeated later, not handed to a person.
    expect(status(fakes)).toBe('payment_processed');
    delete fakes.order.failWith.create;
    fakes.at(4 * DAY + 4 * MINUTE);
    await sweep(fakes);
    expect(status(fakes)).toBe('completed');
  });

  it('a boleto expiring on day 9 whose release gets one 503 is repeated, not given up by age', async () => {
    const fakes = await issued(asyncFakes(), true);
    fakes.inventory.failWith.release = unavailable('inventory');
    fakes.at(12 * DAY);
    await sweep(fakes);
    expect(status(fakes)).toBe('compensating');
    fakes.at(12 * DAY + 2 * MINUTE);
    await sweep(fakes);
    // Still undoing (one failed try): not requires_attention because the boleto is days old.
    expect(status(fakes)).toBe('compensating');
    delete fakes.inventory.failWith.release;
    fakes.at(12 * DAY + 4 * MINUTE);
    await sweep(fakes);
    expect(status(fakes)).toBe('expired');
    expect(stock(fakes)).toEqual(['released']);
  });
});

describe('Pix and boleto edges, late payments', () => {
  it('a late deduct without an answer is released when the late window then closes (no stock held forever)', async () => {
    const fakes = await expiredPix();
    const windowEnds = 30 * MINUTE + 7 * DAY;
    fakes.at(windowEnds - 10_000);
    fakes.payment.pay(ID, {
      paidAt: new Date(FIXED_NOW.getTime() + windowEnds - 10_000).toISOString(),
    });
    deductActsThenTimesOut(fakes);
    expect(await webhook(fakes)).toMatchObject({ kind: 'not_yet' });
    expect(stock(fakes)).toEqual(['deducted']); // the late deduction happened
    fakes.at(windowEnds + 2 * MINUTE);
    await sweep(fakes);
    // Either it completes (the payment was in the window) or the late deduction is released.
    const end = { status: status(fakes), stock: stock(fakes), charge: charge(fakes) };
    const completed = end.status === 'completed' && end.charge === 'paid';
    const undone = end.stock?.[0] === 'released' && end.charge === 'refunded';
    expect({ ...end, ok: completed || undone }).toMatchObject({ ok: true });
  });

  it('a late deduct whose lease is lost, then refunded by a worker after the window, is released', async () => {
    const fakes = await expiredPix();
    const windowEnds = 30 * MINUTE + 7 * DAY;
    fakes.at(windowEnds - 10_000);
    fakes.payment.pay(ID, {
      paidAt: new Date(FIXED_NOW.getTime() + windowEnds - 10_000).toISOString(),
    });
    const gate = deferred();
    const reached = deferred();
    const real = fakes.inventory.deduct.bind(fakes.inventory);
    let first = true;
    fakes.inventory.deduct = async (input) => {
      await real(input);
      if (first) {
        first = false;
        reached.resolve();
        await gate.promise; // the answer is slow: the lease runs out meanwhile
      }
    };
    const hook = webhook(fakes).catch((error: unknown) => error);
    await reached.promise;
    fakes.at(windowEnds + 2 * MINUTE);
    await sweep(fakes); // takes it over: past the window, so it refunds
    gate.resolve();
    await hook;
    const end = { status: status(fakes), stock: stock(fakes), charge: charge(fakes) };
    const completed = end.status === 'completed' && end.charge === 'paid';
    const undone = end.stock?.[0] === 'released' && end.charge === 'refunded';
    expect({ ...end, ok: completed || undone }).toMatchObject({ ok: true });
  });

  it('a same-key retry while a late payment completes does not replay the stale expired answer', async () => {
    const fakes = await expiredPix();
    fakes.at(DAY / 2);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + DAY / 2).toISOString() });
    fakes.order.failWith.create = unknown('order');
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'payment_processed' });
    const retry = await post(fakes);
    // It is paid and its order is on the way: not "expired, start a new checkout" (422).
    expect(retry.kind === 'replay' ? retry.stored.code : retry.kind).not.toBe(422);
  });

  it('the key of a checkout moved out of expired by a late payment is held again (no second checkout)', async () => {
    const fakes = await expiredPix();
    // Paid late on day 2, within the window, past the key's 24 h after the expiry.
    fakes.at(2 * DAY);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + 2 * DAY).toISOString() });
    fakes.order.failWith.create = unknown('order');
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'payment_processed' });
    fakes.deps.newId = () => '11111111-2222-4333-8444-555555555555';
    const retry = await post(fakes);
    // The checkout is not final: its key must still name it.
    expect(retry.kind).not.toBe('awaiting');
    expect(calls(fakes, 'payment.createPix')).toHaveLength(1);
  });

  it('a late payment of another amount is not silently kept (a person is asked)', async () => {
    const fakes = await expiredPix();
    fakes.at(DAY / 2);
    fakes.payment.pay(ID, { amountCents: 100 });
    await webhook(fakes);
    expect(status(fakes)).toBe('requires_attention');
  });

  it('an order refused after a late payment releases the late deduction under release_late and refunds under refund_late', async () => {
    const fakes = await expiredPix();
    fakes.at(DAY / 2);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + DAY / 2).toISOString() });
    fakes.order.failWith.create = refused('order', 'invalid_address');
    await webhook(fakes);
    expect(status(fakes)).toBe('failed');
    const releases = fakes.log.filter((c) => c.name === 'inventory.release');
    expect(releases).toHaveLength(2);
    const refunds = fakes.log.filter((c) => c.name === 'payment.refund');
    expect(refunds).toHaveLength(1);
  });

  it('a late payment completes and never re-enters expired', async () => {
    const fakes = await expiredPix();
    fakes.at(DAY / 2);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + DAY / 2).toISOString() });
    await webhook(fakes);
    expect(status(fakes)).toBe('completed');
    fakes.at(DAY);
    await sweep(fakes);
    await webhook(fakes, event('payment.expired', 'evt_2'));
    expect(status(fakes)).toBe('completed');
    expect(storedRow(fakes, ID).response?.code).toBe(200);
  });
});

describe('Pix and boleto edges, keys of the late path', () => {
  it('uses deduct_late, release_late and refund_late rounds after a late payment whose order is refused', async () => {
    const fakes = await expiredPix();
    const rounds: string[] = [];
    const spy =
      <A extends unknown[]>(name: string, fn: (...a: A) => Promise<unknown>) =>
      async (...args: A) => {
        const options = args[1] as { round?: string } | undefined;
        rounds.push(`${name}${options?.round ? `_${options.round}` : ''}`);
        return fn(...args);
      };
    fakes.inventory.deduct = spy('deduct', fakes.inventory.deduct.bind(fakes.inventory)) as never;
    fakes.inventory.release = spy(
      'release',
      fakes.inventory.release.bind(fakes.inventory),
    ) as never;
    fakes.payment.refund = spy('refund', fakes.payment.refund.bind(fakes.payment)) as never;
    fakes.at(DAY / 2);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + DAY / 2).toISOString() });
    fakes.order.failWith.create = refused('order', 'invalid_address');
    await webhook(fakes);
    expect(rounds).toEqual(['deduct_late', 'refund_late', 'release_late']);
  });
});

describe('Pix and boleto edges, the expiry check and the creation', () => {
  it('a same-key retry that finds the Pix only in the record still gets a next check (stock not held forever)', async () => {
    const fakes = asyncFakes();
    const real = fakes.payment.createPix.bind(fakes.payment);
    let tries = 0;
    fakes.payment.createPix = async (input) => {
      tries++;
      if (tries === 1) {
        await real(input);
        throw unknown('payment'); // issued, the answer lost
      }
      throw unavailable('payment'); // the retry does not reach it
    };
    outcomeOfKind(await post(fakes), 'incomplete');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    await post(fakes);
    // Whatever it answered, the Pix must not wait unseen past its expiry.
    for (const day of [1, 2, 3]) {
      fakes.at(day * DAY);
      await sweep(fakes);
    }
    // Recovery settles it as a creation whose answer was lost: cancelled, stock released.
    expect({ status: status(fakes), stock: stock(fakes) }).toEqual({
      status: 'failed',
      stock: ['released'],
    });
  });

  it('a same-key retry that finds the Pix only in the record does not answer 202 without instructions', async () => {
    const fakes = asyncFakes();
    const real = fakes.payment.createPix.bind(fakes.payment);
    let tries = 0;
    fakes.payment.createPix = async (input) => {
      tries++;
      if (tries === 1) {
        await real(input);
        throw unknown('payment');
      }
      throw unavailable('payment');
    };
    outcomeOfKind(await post(fakes), 'incomplete');
    storedRow(fakes, ID).lockedUntil = new Date(FIXED_NOW.getTime() - 1);
    const retry = await post(fakes);
    const instructions =
      retry.kind === 'awaiting' ? retry.checkout.asyncPayment?.instructions : 'n/a';
    expect(instructions).not.toBeNull();
  });

  it('a payment landing between the lookup (expired) and the cancel is not left to a person', async () => {
    const fakes = await issued();
    fakes.at(32 * MINUTE + 1000);
    // The provider expired it; the customer's payment lands a moment later (a late payment).
    const own = fakes.payment.charges.get(ID)?.[0];
    if (own) own.status = 'expired';
    const realCancel = fakes.payment.cancel.bind(fakes.payment);
    let once = true;
    fakes.payment.cancel = async (input) => {
      if (once) {
        once = false;
        fakes.payment.pay(ID, {
          paidAt: new Date(FIXED_NOW.getTime() + 32 * MINUTE).toISOString(),
        });
      }
      return realCancel(input);
    };
    await sweep(fakes);
    for (let i = 1; i <= 5; i++) {
      fakes.at(32 * MINUTE + i * 5 * MINUTE);
      await sweep(fakes);
    }
    // Paid late within the window: completed (or refunded), never a paid charge for a person.
    expect(['completed', 'failed']).toContain(status(fakes));
    if (status(fakes) === 'failed') expect(charge(fakes)).toBe('refunded');
  });

  it('a paid event whose lookup still shows the charge expired is not stored as applied', async () => {
    const fakes = await issued();
    const own = fakes.payment.charges.get(ID)?.[0];
    if (own) own.status = 'expired'; // the provider's record lags behind the payment
    fakes.at(31 * MINUTE);
    const first = await webhook(fakes);
    // The lookup does not show `paid`: 503 and the event is not remembered...
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + 29 * MINUTE).toISOString() });
    const again = await webhook(fakes);
    // ...so its redelivery, now shown paid, is applied.
    expect({ first: first.kind, again }).toEqual({
      first: 'not_yet',
      again: { kind: 'applied', status: 'completed' },
    });
  });

  it('a boleto is never cancelled before the end of its last São Paulo day + 120 s', async () => {
    const fakes = await issued(asyncFakes(), true);
    const { asyncPayment } = storedRow(fakes, ID).checkout;
    const expiresAt = Date.parse(asyncPayment?.expiresAt ?? '');
    // Midnight in São Paulo (UTC-3): 03:00 UTC.
    expect(new Date(expiresAt).getUTCHours()).toBe(3);
    fakes.at(expiresAt - FIXED_NOW.getTime() + 119_000);
    storedRow(fakes, ID).nextCheckAt = new Date(FIXED_NOW.getTime());
    await sweep(fakes);
    expect(calls(fakes, 'payment.cancel')).toEqual([]);
  });
});

describe('Pix and boleto edges, interleavings and leases', () => {
  it('a webhook whose lease is taken over mid-lookup answers not_yet (503), not an error', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    const gate = deferred();
    const reached = deferred();
    const real = fakes.payment.findCharges.bind(fakes.payment);
    let first = true;
    fakes.payment.findCharges = async (id) => {
      if (first) {
        first = false;
        reached.resolve();
        await gate.promise;
      }
      return real(id);
    };
    const hook = webhook(fakes).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error: (error as Error).name }),
    );
    await reached.promise;
    fakes.at(2 * MINUTE); // the webhook's lease ran out
    outcomeOfKind(await post(fakes), 'completed'); // a same-key retry took it and completed it
    gate.resolve();
    const result = await hook;
    expect(result).not.toHaveProperty('error');
    expect(calls(fakes, 'order.create')).toHaveLength(1);
  });

  it('a webhook and the sweep racing at the expiry check settle it once', async () => {
    const fakes = await issued();
    fakes.at(32 * MINUTE + 1000);
    const gate = deferred();
    const reached = deferred();
    const realCancel = fakes.payment.cancel.bind(fakes.payment);
    let first = true;
    fakes.payment.cancel = async (input) => {
      if (first) {
        first = false;
        reached.resolve();
        await gate.promise;
      }
      return realCancel(input);
    };
    const swept = sweep(fakes);
    await reached.promise;
    expect(await webhook(fakes, event('payment.expired'))).toMatchObject({
      kind: 'not_yet',
      reason: 'held',
    });
    gate.resolve();
    await swept;
    expect(status(fakes)).toBe('expired');
    expect(calls(fakes, 'inventory.release')).toHaveLength(1);
  });

  it('a stray paid charge for the checkout is not kept without an order or a person', async () => {
    const fakes = await issued();
    fakes.payment.charges.get(ID)?.push({
      transactionId: 'pix_stray',
      status: 'paid',
      amountCents: 34_970,
      currency: 'BRL',
      paidAt: FIXED_NOW.toISOString(),
    });
    await webhook(fakes, event('payment.paid', 'evt_s', 'pix_stray'));
    fakes.at(32 * MINUTE + 1000);
    await sweep(fakes);
    const stray = fakes.payment.charges.get(ID)?.find((c) => c.transactionId === 'pix_stray');
    // Money taken on another charge of this checkout: refunded, or a person told.
    const handled = stray?.status === 'refunded' || status(fakes) === 'requires_attention';
    expect({ stray: stray?.status, status: status(fakes), handled }).toMatchObject({
      handled: true,
    });
  });

  it('an expired checkout whose charge we cancelled answers a late payment.expired event 200, not 503 forever', async () => {
    const fakes = await expiredPix();
    expect(charge(fakes)).toBe('cancelled');
    const answer = await webhook(fakes, event('payment.expired', 'evt_x'));
    expect(answer.kind).not.toBe('not_yet');
  });

  it('after completion a refund is logged and counted', async () => {
    const fakes = await issued();
    fakes.payment.pay(ID);
    await webhook(fakes);
    expect(status(fakes)).toBe('completed');
    await fakes.payment.refund({
      checkoutId: ID,
      transactionId: 'pix_0001',
      amountCents: 34_970,
      currency: 'BRL',
      reason: 'console',
    });
    expect(await webhook(fakes, event('payment.refunded', 'evt_r'))).toMatchObject({
      kind: 'applied',
    });
    expect(fakes.logger.lines.some((l) => l.message.includes('REFUNDED AFTER COMPLETION'))).toBe(
      true,
    );
    expect(
      (fakes.metrics as unknown as { refundsAfterCompletion: number }).refundsAfterCompletion,
    ).toBe(1);
  });
});

describe('Pix and boleto edges, webhook parsing', () => {
  const secret = 'whsec_test';
  const now = Math.floor(FIXED_NOW.getTime() / 1000);
  const body = (checkoutId: string) =>
    JSON.stringify({
      event_id: 'evt_1',
      type: 'payment.paid',
      transactionId: 'pix_0001',
      checkout_id: checkoutId,
      occurred_at: FIXED_NOW.toISOString(),
    });
  const read = (text: string, headers: Record<string, string>, base64 = false) =>
    readPaymentWebhook(
      {
        body: base64 ? Buffer.from(text).toString('base64') : text,
        isBase64Encoded: base64,
        headers,
      },
      async () => secret,
      now,
    );

  it('reads an upper-case checkout UUID as ours', async () => {
    const text = body(ID.toUpperCase());
    const result = await read(text, { 'x-signature': signWebhook(secret, text, now) });
    expect(result.kind).toBe('event');
  });

  it('refuses a stale signature and a signature from the future beyond 300 s', async () => {
    const text = body(ID);
    expect((await read(text, { 'x-signature': signWebhook(secret, text, now - 301) })).kind).toBe(
      'unsigned',
    );
    expect((await read(text, { 'x-signature': signWebhook(secret, text, now + 301) })).kind).toBe(
      'unsigned',
    );
  });

  it('refuses a huge body before asking for the key', async () => {
    let asked = false;
    const text = 'x'.repeat(64 * 1024 + 1);
    const result = await readPaymentWebhook(
      { body: text, isBase64Encoded: false, headers: {} },
      async () => {
        asked = true;
        return secret;
      },
      now,
    );
    expect(result.kind).toBe('too_large');
    expect(asked).toBe(false);
  });

  it('accepts a base64 body signed over its bytes', async () => {
    const text = body(ID);
    const result = await read(text, { 'x-signature': signWebhook(secret, text, now) }, true);
    expect(result.kind).toBe('event');
  });

  it('a signature header with two times is refused', async () => {
    const text = body(ID);
    const good = signWebhook(secret, text, now);
    const result = await read(text, { 'x-signature': `t=${now - 1000},${good}` });
    expect(result.kind).toBe('unsigned');
  });
});

describe('Pix and boleto edges, found by the chaos harness', () => {
  it('a late refund whose answer was lost ends failed paid_after_expiry on the next delivery', async () => {
    const fakes = await issued();
    fakes.at(32 * MINUTE + 1000);
    await sweep(fakes);
    expect(status(fakes)).toBe('expired');
    fakes.at(9 * DAY);
    fakes.payment.pay(ID, { paidAt: new Date(FIXED_NOW.getTime() + 9 * DAY).toISOString() });
    const real = fakes.payment.refund.bind(fakes.payment);
    fakes.payment.refund = async (input) => {
      await real(input);
      throw unknown('payment'); // refunded, the answer lost
    };
    expect(await webhook(fakes)).toMatchObject({ kind: 'not_yet' });
    expect(status(fakes)).toBe('expired');
    expect(charge(fakes)).toBe('refunded');
    expect(await webhook(fakes)).toEqual({ kind: 'applied', status: 'failed' });
    expect(storedRow(fakes, ID).checkout.failure?.reason).toBe('paid_after_expiry');
  });
});
