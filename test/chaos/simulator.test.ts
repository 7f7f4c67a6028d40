import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Fault } from './fault-schedule.ts';
import { type Simulator, startSimulator } from './simulator.ts';

/* The simulated services must be as strict as a real provider, or the chaos run proves nothing. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 0 });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.reset();
  sim.faults = null;
});

type Service = 'payment' | 'inventory' | 'order';
interface Answer {
  status: number | 'reset';
  json: Record<string, unknown>;
  text: string;
}

async function call(service: Service, path: string, body?: unknown, key?: string): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers['idempotency-key'] = key;
  try {
    const res = await fetch(`${sim.urls[service]}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, json, text };
  } catch {
    return { status: 'reset', json: {}, text: '' };
  }
}

const CARD = '4000056655665556';
const charge = (checkoutId: string, overrides: Record<string, unknown> = {}) => ({
  amount: 349.7,
  currency: 'BRL',
  payment_method: {
    type: 'credit_card',
    card_number: CARD,
    card_expiry: '12/30',
    card_cvv: '7391',
  },
  customer_email: 'sim@example.com',
  checkout_id: checkoutId,
  ...overrides,
});
const items = [{ product_id: 'prod_1', quantity: 2 }];
const faultOnce = (fault: Fault) => {
  sim.faults = ({ nth }) => (nth === 1 ? fault : null);
};

describe('the simulator, per Idempotency-Key', () => {
  it('answers the same key and body with the stored answer, and charges once', async () => {
    const first = await call('payment', '/payments/process', charge('c1'), 'c1:charge');
    const again = await call('payment', '/payments/process', charge('c1'), 'c1:charge');
    expect(first.status).toBe(200);
    expect(again).toEqual(first);
    expect(sim.ledger.charges).toHaveLength(1);
    expect(sim.ledger.charges[0]).toMatchObject({ amount: 34970, status: 'success' });
  });

  it('refuses the same key with a different body (400 idempotency_error), and nothing happens', async () => {
    await call('payment', '/payments/process', charge('c2'), 'c2:charge');
    const replay = await call(
      'payment',
      '/payments/process',
      charge('c2', { payment_method: null }),
      'c2:charge',
    );
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('idempotency_error');
    const other = await call(
      'payment',
      '/payments/process',
      charge('c2', { amount: 1 }),
      'c2:charge',
    );
    expect(other.json.error).toBe('idempotency_error');
    expect(sim.ledger.charges).toHaveLength(1);
    expect(sim.ledger.charges[0]?.amount).toBe(34970);
  });

  it('answers a same-key request while the first is being processed with 409', async () => {
    faultOnce({ kind: 'delay', ms: 150 });
    const first = call('inventory', '/inventory/deduct', { checkout_id: 'c3', items }, 'c3:deduct');
    await sleep(40);
    const concurrent = await call(
      'inventory',
      '/inventory/deduct',
      { checkout_id: 'c3', items },
      'c3:deduct',
    );
    expect(concurrent.status).toBe(409);
    expect(concurrent.json.error).toBe('idempotency_key_in_use');
    expect((await first).status).toBe(200);
    expect(sim.ledger.deductions).toHaveLength(1);
  });

  it('requires a key, and a card on a charge (400, nothing stored under the key)', async () => {
    expect((await call('payment', '/payments/process', charge('c4'))).status).toBe(400);
    const cardless = charge('c4', { payment_method: null });
    const refused = await call('payment', '/payments/process', cardless, 'c4:charge');
    expect(refused.status).toBe(400);
    expect(refused.json.error).toBe('payment_method_required');
    expect(sim.cardlessCharges).toBe(1);
    expect(sim.ledger.charges).toEqual([]);
    // Nothing was stored: the charge with its card goes through under the same key.
    expect((await call('payment', '/payments/process', charge('c4'), 'c4:charge')).status).toBe(
      200,
    );
  });
});

describe('the simulator ledgers and lookups', () => {
  it('refunds what was charged, refuses unknown transactions and refunds beyond the charge', async () => {
    const { json } = await call('payment', '/payments/process', charge('c5'), 'c5:charge');
    const txn = String(json.transactionId);
    const refund = { amount: 349.7, currency: 'BRL', checkout_id: 'c5', reason: 'test' };
    expect((await call('payment', '/payments/txn_nope/refund', refund, 'c5:refund')).status).toBe(
      404,
    );
    const tooMuch = { ...refund, amount: 400 };
    expect(
      (await call('payment', `/payments/${txn}/refund`, tooMuch, 'c5:refund-big')).status,
    ).toBe(422);
    const lookupBefore = await call('payment', '/payments?checkout_id=c5');
    expect(lookupBefore.json.payments).toEqual([
      { transactionId: txn, status: 'success', amount: 349.7, currency: 'BRL' },
    ]);
    expect((await call('payment', `/payments/${txn}/refund`, refund, 'c5:refund2')).status).toBe(
      200,
    );
    const lookup = await call('payment', '/payments?checkout_id=c5');
    expect(lookup.json.payments).toEqual([
      { transactionId: txn, status: 'refunded', amount: 349.7, currency: 'BRL' },
    ]);
    const again = { ...refund, amount: 0.01 };
    expect((await call('payment', `/payments/${txn}/refund`, again, 'c5:refund3')).status).toBe(
      422,
    );
    expect((await call('payment', '/payments?checkout_id=other')).json.payments).toEqual([]);
  });

  it('deducts and releases stock, refuses a release with nothing deducted, and looks it up', async () => {
    const body = { checkout_id: 'c6', items };
    expect((await call('inventory', '/inventory/release', body, 'c6:release')).status).toBe(409);
    expect((await call('inventory', '/inventory/deduct', body, 'c6:deduct')).status).toBe(200);
    expect((await call('inventory', '/inventory/deductions?checkout_id=c6')).json).toEqual({
      deductions: [{ status: 'deducted', items }],
    });
    expect((await call('inventory', '/inventory/release', body, 'c6:release-2')).status).toBe(200);
    expect((await call('inventory', '/inventory/deductions?checkout_id=c6')).json).toEqual({
      deductions: [{ status: 'released', items }],
    });
  });

  it('creates orders and looks them up', async () => {
    const order = {
      checkout_id: 'c7',
      customer_email: 'sim@example.com',
      shipping_address: { street: 'Rua' },
      items: [{ product_id: 'prod_1', quantity: 1, price: 10.5 }],
      total_amount: 10.5,
      currency: 'BRL',
      payment_id: 'txn_1',
    };
    const created = await call('order', '/orders', order, 'c7:order');
    expect(created.status).toBe(201);
    expect((await call('order', '/orders?checkout_id=c7')).json).toEqual({
      orders: [{ orderId: created.json.orderId, status: 'created' }],
    });
    expect(sim.ledger.orders[0]).toMatchObject({ totalAmount: 1050, currency: 'BRL' });
  });

  it('keeps amounts in each currency’s minor units (JPY 0 decimals, KWD 3)', async () => {
    await call(
      'payment',
      '/payments/process',
      charge('c8', { amount: 1500, currency: 'JPY' }),
      'c8:charge',
    );
    await call(
      'payment',
      '/payments/process',
      charge('c9', { amount: 1.234, currency: 'KWD' }),
      'c9:charge',
    );
    const wrong = charge('c10', { amount: 1.5, currency: 'JPY' });
    expect((await call('payment', '/payments/process', wrong, 'c10:charge')).status).toBe(400);
    expect(sim.ledger.charges.map((c) => c.amount)).toEqual([1500, 1234]);
  });
});

describe('the simulator faults', () => {
  const deduct = (id: string) =>
    call('inventory', '/inventory/deduct', { checkout_id: id, items }, `${id}:deduct`);

  it('a 5xx before acting does nothing; a 5xx after acting has acted', async () => {
    faultOnce({ kind: '5xx_before', status: 503 });
    expect((await deduct('f1')).status).toBe(503);
    expect(sim.ledger.deductions).toHaveLength(0);
    sim.reset();
    faultOnce({ kind: '5xx_after', status: 504 });
    expect((await deduct('f2')).status).toBe(504);
    expect(sim.ledger.deductions).toHaveLength(1);
    expect((await deduct('f2')).status).toBe(200); // the retry gets the stored answer
    expect(sim.ledger.deductions).toHaveLength(1);
  });

  it('resets the connection before or after acting, and garbles a body after acting', async () => {
    faultOnce({ kind: 'reset_before' });
    expect((await deduct('f3')).status).toBe('reset');
    expect(sim.ledger.deductions).toHaveLength(0);
    faultOnce({ kind: 'reset_after' });
    expect((await deduct('f4')).status).toBe('reset');
    await sim.idle();
    expect(sim.ledger.deductions).toHaveLength(1);
    faultOnce({ kind: 'garbled', body: '<html>' });
    const garbled = await deduct('f5');
    expect(garbled).toMatchObject({ status: 200, text: '<html>' });
    expect(sim.ledger.deductions).toHaveLength(2);
  });

  it('a refusal is stored: the same key gets it again', async () => {
    faultOnce({ kind: 'refusal', reason: 'out_of_stock' });
    const refused = await deduct('f6');
    expect(refused.status).toBe(409);
    expect(refused.json.error).toBe('out_of_stock');
    expect(await deduct('f6')).toEqual(refused);
    expect(sim.ledger.deductions).toHaveLength(0);
  });

  it('counts the faults it injected, by kind', async () => {
    const before = sim.faultCounts.get('5xx_before') ?? 0;
    faultOnce({ kind: '5xx_before', status: 500 });
    await deduct('f7');
    expect(sim.faultCounts.get('5xx_before')).toBe(before + 1);
  });
});

describe('the simulator and card data', () => {
  it('keeps no card number, and notes card data sent to another service', async () => {
    await call('payment', '/payments/process', charge('k1'), 'k1:charge');
    expect(JSON.stringify(sim.ledger.snapshot())).not.toContain(CARD);
    expect(JSON.stringify(sim.events)).not.toContain(CARD);
    await call(
      'inventory',
      '/inventory/deduct',
      { checkout_id: 'k1', items, card_number: CARD },
      'k1:deduct',
    );
    expect(sim.cardLeaks).toHaveLength(1);
  });
});
