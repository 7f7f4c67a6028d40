import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type Fault,
  keptFailingLookups,
  MISQUOTES,
  type RequestContext,
  scheduledFaults,
} from './fault-schedule.ts';
import { fromMinor } from './ledger.ts';
import { describeCapture, planScenario, requestBody } from './scenario-plan.ts';
import { type Simulator, startSimulator } from './simulator.ts';
import { installTwoAddressLookup, TWO_ADDRESS_HOST } from './two-address-host.ts';

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

/**
 * One exchange on Node's own client through `agent`, as the app's clients make them (kept-alive
 * sockets): the status and body the client read, or the error it raised.
 */
function viaAgent(
  agent: http.Agent,
  baseUrl: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key) headers['idempotency-key'] = key;
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}${path}`,
      { method: body === undefined ? 'GET' : 'POST', headers, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

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
      { transactionId: txn, checkout_id: 'c5', status: 'success', amount: 349.7, currency: 'BRL' },
    ]);
    expect((await call('payment', `/payments/${txn}/refund`, refund, 'c5:refund2')).status).toBe(
      200,
    );
    const lookup = await call('payment', '/payments?checkout_id=c5');
    expect(lookup.json.payments).toEqual([
      { transactionId: txn, checkout_id: 'c5', status: 'refunded', amount: 349.7, currency: 'BRL' },
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
      deductions: [{ checkout_id: 'c6', status: 'deducted', items }],
    });
    expect((await call('inventory', '/inventory/release', body, 'c6:release-2')).status).toBe(200);
    expect((await call('inventory', '/inventory/deductions?checkout_id=c6')).json).toEqual({
      deductions: [{ checkout_id: 'c6', status: 'released', items }],
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
      orders: [{ orderId: created.json.orderId, checkout_id: 'c7', status: 'created' }],
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

describe('the simulator echoes each request in its answer (design §3)', () => {
  it('a charge, accepted or refused, echoes the checkout id, the amount as sent and the currency', async () => {
    const ok = await call('payment', '/payments/process', charge('e1'), 'e1:charge');
    expect(ok.json).toMatchObject({ status: 'success', checkout_id: 'e1', currency: 'BRL' });
    expect(ok.text).toContain('"amount":349.7');
    faultOnce({ kind: 'refusal', reason: 'card_declined' });
    const jpy = charge('e2', { amount: 1500, currency: 'JPY' });
    const refused = await call('payment', '/payments/process', jpy, 'e2:charge');
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ checkout_id: 'e2', amount: 1500, currency: 'JPY' });
    const invalid = charge('e3', { payment_method: null });
    expect((await call('payment', '/payments/process', invalid, 'e3:charge')).json).toMatchObject({
      error: 'payment_method_required',
      checkout_id: 'e3',
      amount: 349.7,
    });
  });

  it('a refund, accepted or refused, also echoes the transaction id of its path', async () => {
    const { json } = await call('payment', '/payments/process', charge('e4'), 'e4:charge');
    const txn = String(json.transactionId);
    const refund = { amount: 349.7, currency: 'BRL', checkout_id: 'e4', reason: 'test' };
    const done = await call('payment', `/payments/${txn}/refund`, refund, 'e4:refund');
    expect(done.json).toMatchObject({
      status: 'refunded',
      transactionId: txn,
      checkout_id: 'e4',
      amount: 349.7,
      currency: 'BRL',
    });
    const unknown = await call('payment', '/payments/txn_nope/refund', refund, 'e4:refund-2');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ transactionId: 'txn_nope', checkout_id: 'e4' });
  });

  it('inventory and order answers, accepted or refused, echo the checkout id', async () => {
    const body = { checkout_id: 'e5', items };
    expect((await call('inventory', '/inventory/release', body, 'e5:release')).json).toMatchObject({
      success: false,
      checkout_id: 'e5',
    });
    expect((await call('inventory', '/inventory/deduct', body, 'e5:deduct')).json).toMatchObject({
      success: true,
      checkout_id: 'e5',
    });
    faultOnce({ kind: 'refusal', reason: 'out_of_stock' });
    const refused = await call(
      'inventory',
      '/inventory/deduct',
      { ...body, checkout_id: 'e6' },
      'e6:deduct',
    );
    expect(refused.json).toMatchObject({ error: 'out_of_stock', checkout_id: 'e6' });
    sim.faults = null;
    const order = {
      checkout_id: 'e7',
      customer_email: 'sim@example.com',
      shipping_address: { street: 'Rua' },
      items: [{ product_id: 'prod_1', quantity: 1, price: 10.5 }],
      total_amount: 10.5,
      currency: 'BRL',
      payment_id: 'txn_1',
    };
    expect((await call('order', '/orders', order, 'e7:order')).json).toMatchObject({
      status: 'created',
      checkout_id: 'e7',
    });
    faultOnce({ kind: 'refusal', reason: 'invalid_address' });
    const rejected = await call('order', '/orders', { ...order, checkout_id: 'e8' }, 'e8:order');
    expect(rejected.json).toMatchObject({ error: 'invalid_address', checkout_id: 'e8' });
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

  it('a duplicate answer lands on the next request sent on that kept-alive socket', async () => {
    // The real-world failure (design §8): the next customer's declined charge reads as the
    // previous customer's success. The copy goes out when the next request arrives: Node's
    // client drops bytes that come while a socket idles in its pool.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = sim.faultCounts.get('duplicate_answer') ?? 0;
    sim.faults = ({ checkoutId }) => {
      if (checkoutId === 'd1') return { kind: 'duplicate_answer' };
      if (checkoutId === 'd2') return { kind: 'refusal', reason: 'card_declined' };
      return null;
    };
    try {
      const url = sim.urls.payment;
      const first = await viaAgent(agent, url, '/payments/process', charge('d1'), 'd1:charge');
      expect(first.json).toMatchObject({ status: 'success', checkout_id: 'd1' });
      const next = charge('d2', { amount: 10, customer_email: 'other@example.com' });
      const second = await viaAgent(agent, url, '/payments/process', next, 'd2:charge');
      expect(second).toEqual(first); // d1's answer, transaction id and all
      await sim.idle();
      // ...while the service declined d2's charge.
      expect(sim.ledger.charges.map((c) => [c.checkoutId, c.status])).toEqual([
        ['d1', 'success'],
        ['d2', 'failed'],
      ]);
      expect(sim.faultCounts.get('duplicate_answer')).toBe(before + 1);
      expect(sim.events[1]?.fault).toMatch(/stale copy of the answer to charge #1 of d1/);
      // The service goes on answering each request with its own answer.
      const third = await viaAgent(agent, url, '/payments/process', charge('d3'), 'd3:charge');
      expect(third.json).toMatchObject({ status: 'success', checkout_id: 'd3' });
    } finally {
      agent.destroy();
    }
  });

  it('after a duplicate answer the service keeps parsing the requests on that socket', async () => {
    sim.faults = ({ checkoutId }) => (checkoutId === 's1' ? { kind: 'duplicate_answer' } : null);
    const socket = net.connect(Number(new URL(sim.urls.inventory).port), '127.0.0.1');
    const reader = answersOn(socket);
    const deduct = (id: string) => {
      const body = JSON.stringify({ checkout_id: id, items });
      socket.write(
        `POST /inventory/deduct HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `idempotency-key: ${id}:deduct\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    try {
      deduct('s1');
      expect(await reader.next()).toContain('"checkout_id":"s1"');
      deduct('s2');
      expect(await reader.next()).toContain('"checkout_id":"s1"'); // the copy
      expect(await reader.next()).toContain('"checkout_id":"s2"'); // then its own answer
      deduct('s3');
      expect(await reader.next()).toContain('"checkout_id":"s3"');
      expect(sim.ledger.deductions.map((d) => d.checkoutId)).toEqual(['s1', 's2', 's3']);
    } finally {
      socket.destroy();
    }
  });

  it('unreachable: once it has answered, the service refuses connections on both addresses, then listens again', async () => {
    const restore = installTwoAddressLookup();
    const agent = new http.Agent({ keepAlive: true });
    const before = sim.faultCounts.get('unreachable') ?? 0;
    sim.faults = ({ checkoutId }) => {
      if (checkoutId === 'u1') return { kind: 'delay', ms: 150 };
      if (checkoutId === 'u2') return { kind: 'unreachable', service: 'inventory', ms: 300 };
      return null;
    };
    const byName = sim.urlOf('inventory', TWO_ADDRESS_HOST);
    const deduct = (id: string, url = byName) =>
      viaAgent(agent, url, '/inventory/deduct', { checkout_id: id, items }, `${id}:deduct`);
    try {
      const inFlight = deduct('u1'); // held 150 ms: the window must not cut it off
      await sleep(20);
      expect((await deduct('u2')).status).toBe(200);
      expect(sim.isDown('inventory')).toBe(true);
      expect(sim.faultCounts.get('unreachable')).toBe(before + 1);
      // Both addresses refuse: happy eyeballs fails with an AggregateError and no syscall.
      const twoRefusals = await deduct('u3').catch((error: unknown) => error);
      expect(twoRefusals).toBeInstanceOf(AggregateError);
      expect(twoRefusals).toMatchObject({ code: 'ECONNREFUSED' });
      expect((twoRefusals as { syscall?: string }).syscall).toBeUndefined();
      // Through one address: the plain refusal of connect.
      const oneRefusal = await deduct('u3', sim.urls.inventory).catch((error: unknown) => error);
      expect(oneRefusal).toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
      expect((await inFlight).status).toBe(200);
      await sim.idle();
      expect(sim.isDown('inventory')).toBe(false);
      expect((await deduct('u3')).status).toBe(200);
      // u1 acted last of the first two: a delay holds the request before the service acts.
      expect(sim.ledger.deductions.map((d) => d.checkoutId)).toEqual(['u2', 'u1', 'u3']);
    } finally {
      agent.destroy();
      restore();
    }
  });

  it('counts the faults it injected, by kind', async () => {
    const before = sim.faultCounts.get('5xx_before') ?? 0;
    faultOnce({ kind: '5xx_before', status: 500 });
    await deduct('f7');
    expect(sim.faultCounts.get('5xx_before')).toBe(before + 1);
  });
});

describe('undos made outside the checkout (an operator in a console)', () => {
  it('refund in full what a checkout still holds, and release its standing deductions', async () => {
    const { json } = await call('payment', '/payments/process', charge('o1'), 'o1:charge');
    await call('inventory', '/inventory/deduct', { checkout_id: 'o1', items }, 'o1:deduct');
    expect(sim.ledger.refundOutside('o1')).toBe(1);
    expect(sim.ledger.releaseOutside('o1')).toBe(1);
    expect(sim.ledger.refundOutside('o1')).toBe(0); // nothing left to refund
    expect((await call('payment', '/payments?checkout_id=o1')).json.payments).toEqual([
      expect.objectContaining({ transactionId: json.transactionId, status: 'refunded' }),
    ]);
    expect(sim.ledger.refunds).toEqual([
      expect.objectContaining({ checkoutId: 'o1', amount: 34970, byOperator: true }),
    ]);
    expect((await call('inventory', '/inventory/deductions?checkout_id=o1')).json).toEqual({
      deductions: [{ checkout_id: 'o1', status: 'released', items }],
    });
    // The checkout's own refund, under its key, finds nothing left: the provider says no.
    const refund = { amount: 349.7, currency: 'BRL', checkout_id: 'o1', reason: 'abandoned' };
    const late = await call(
      'payment',
      `/payments/${json.transactionId}/refund`,
      refund,
      'o1:refund',
    );
    expect(late.status).toBe(422);
    // ...while a stored success is replayed to the same key and body, as real providers do.
    expect((await call('payment', '/payments/process', charge('o1'), 'o1:charge')).json).toEqual(
      json,
    );
  });
});

describe('the new faults are drawn from the seed, so a scenario replays', () => {
  const options = { runId: 'r', crashes: true, kills: true, maxAttempts: 5 };

  it('plans the same operator undos and failing lookups for the same seed', () => {
    const plans = Array.from({ length: 300 }, (_, seed) => planScenario(seed, options));
    expect(plans.map((p) => p.checkouts)).toEqual(
      Array.from({ length: 300 }, (_, seed) => planScenario(seed, options).checkouts),
    );
    const checkouts = plans.flatMap((p) => p.checkouts);
    const undos = checkouts.flatMap((c) => (c.outsideUndo ? [c.outsideUndo] : []));
    expect(undos.some((u) => u.at === 'before_retries')).toBe(true);
    expect(undos.some((u) => typeof u.at === 'number')).toBe(true);
    expect(undos.every((u) => u.refund || u.release)).toBe(true);
    // Some past RECOVERY_MAX_ATTEMPTS; an undo between rounds falls on a checkout still stuck.
    expect(checkouts.some((c) => c.lookupsFailRounds > options.maxAttempts)).toBe(true);
    for (const c of checkouts) {
      if (typeof c.outsideUndo?.at === 'number') {
        expect(c.lookupsFailRounds).toBeGreaterThanOrEqual(c.outsideUndo.at);
      }
    }
  });

  it('keeps the lookups of the listed checkouts failing through their round, the same way each time', () => {
    let round = 1;
    const decider = () =>
      keptFailingLookups({
        seed: 7,
        indexOf: (email) => (email === 'a' ? 0 : email === 'b' ? 1 : undefined),
        roundsOf: (i) => (i === 0 ? 2 : 0),
        round: () => round,
        timeoutMs: { payment: 250, inventory: 200, order: 200, catalog: 150 },
      });
    const request = (email: string, endpoint: RequestContext['endpoint'], nth = 1) => ({
      endpoint,
      checkoutId: 'x',
      email,
      nth,
    });
    const first = decider()(request('a', 'find_payments'));
    expect(first).toMatchObject({ kept: true });
    expect(decider()(request('a', 'find_payments'))).toEqual(first);
    expect(decider()(request('a', 'refund'))).toBeNull(); // lookups only
    expect(decider()(request('b', 'find_payments'))).toBeNull(); // not listed
    round = 3;
    expect(decider()(request('a', 'find_payments', 2))).toBeNull(); // past its round
  });
});

describe('the catalog (POST /catalog/quote on the inventory service)', () => {
  const quote = (currency: string, ...products: string[]) =>
    call('inventory', '/catalog/quote', {
      currency,
      items: products.map((product_id) => ({ product_id, quantity: 2 })),
    });
  // The n-th quote of a cart counts on: the next quote gets the fault, whatever its rank.
  const faultNext = (fault: Fault) => {
    sim.faults = () => {
      sim.faults = null;
      return fault;
    };
  };
  beforeEach(() => {
    sim.catalog.register('a@example.com', 'BRL', { pa1: 17485, pa2: 990 });
    sim.catalog.register('b@example.com', 'KWD', { pb1: 1234 }, ['pb-unknown']);
  });

  it('quotes the unit prices it holds, in the currency asked (echoed)', async () => {
    expect(await quote('BRL', 'pa2', 'pa1')).toMatchObject({
      status: 200,
      json: {
        currency: 'BRL',
        items: [
          { product_id: 'pa2', unit_price: 9.9 },
          { product_id: 'pa1', unit_price: 174.85 },
        ],
      },
    });
    expect((await quote('KWD', 'pb1')).json).toEqual({
      currency: 'KWD',
      items: [{ product_id: 'pb1', unit_price: 1.234 }],
    });
    expect(sim.requestCounts.get('quote')).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 unknown_product naming the first product it does not know (or not in that currency)', async () => {
    expect(await quote('KWD', 'pb1', 'pb-unknown')).toMatchObject({
      status: 404,
      json: { error: 'unknown_product', product_id: 'pb-unknown' },
    });
    expect((await quote('USD', 'pa1')).json).toMatchObject({ product_id: 'pa1' });
    expect((await call('inventory', '/catalog/quote', { currency: 'BRL' })).status).toBe(400);
  });

  it('changes a price when the shop does, and tells whose cart a quote is for', async () => {
    sim.catalog.setPrice('pa1', 20000);
    expect((await quote('BRL', 'pa1')).json.items).toEqual([
      { product_id: 'pa1', unit_price: 200 },
    ]);
    expect(() => sim.catalog.setPrice('nope', 1)).toThrow();
    sim.faults = (request) => {
      seen.push(request);
      return null;
    };
    const seen: RequestContext[] = [];
    await quote('KWD', 'pb-unknown', 'pb1');
    await quote('KWD', 'pb1');
    expect(seen.map((r) => [r.endpoint, r.email, r.nth])).toEqual([
      ['quote', 'b@example.com', 1],
      ['quote', 'b@example.com', 2],
    ]);
    expect(sim.events.at(-1)?.email).toBe('b@example.com');
  });

  it('gets the faults of a read: a 5xx, a reset, a garbled body, a delay, counted by kind', async () => {
    const counted = (kind: string) => sim.faultCounts.get(kind) ?? 0;
    const before = ['5xx_before', 'reset_before', 'garbled', 'delay'].map(counted);
    faultNext({ kind: '5xx_before', status: 502 });
    expect((await quote('BRL', 'pa1')).status).toBe(502);
    faultNext({ kind: 'reset_before' });
    expect((await quote('BRL', 'pa1')).status).toBe('reset');
    faultNext({ kind: 'garbled', body: '{}' });
    expect((await quote('BRL', 'pa1')).text).toBe('{}');
    faultNext({ kind: 'delay', ms: 60 });
    const started = performance.now();
    expect((await quote('BRL', 'pa1')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(['5xx_before', 'reset_before', 'garbled', 'delay'].map(counted)).toEqual(
      before.map((n) => n + 1),
    );
    expect(sim.faultTargets.get('quotes')).toBeGreaterThanOrEqual(4);
  });

  it('misquotes: a whole answer that does not fit the cart, counted as misquote', async () => {
    const answers: Record<string, unknown> = {};
    for (const how of MISQUOTES) {
      faultNext({ kind: 'misquote', how });
      const answer = await quote('BRL', 'pa1', 'pa2');
      answers[how] = answer.status === 200 ? answer.json : answer.status;
    }
    expect(answers).toEqual({
      other_currency: { currency: 'USD', items: expect.any(Array) },
      item_left_out: { currency: 'BRL', items: [{ product_id: 'pa1', unit_price: 174.85 }] },
      zero_price: {
        currency: 'BRL',
        items: [{ product_id: 'pa1', unit_price: 0 }, expect.anything()],
      },
      negative_price: {
        currency: 'BRL',
        items: [{ product_id: 'pa1', unit_price: -174.85 }, expect.anything()],
      },
      too_precise: {
        currency: 'BRL',
        items: [{ product_id: 'pa1', unit_price: 174.851 }, expect.anything()],
      },
      unknown_elsewhere: 404,
    });
    expect(sim.faultCounts.get('misquote')).toBeGreaterThanOrEqual(MISQUOTES.length);
  });
});

describe('the scenario plans prices from the seed', () => {
  const options = { runId: 'r', crashes: true, kills: true, maxAttempts: 5 };
  const plans = Array.from({ length: 300 }, (_, seed) => planScenario(seed, options));
  const checkouts = plans.flatMap((p) => p.checkouts);

  it('draws the same prices sent, stale prices, unknown products and price changes for a seed', () => {
    expect(plans).toEqual(Array.from({ length: 300 }, (_, seed) => planScenario(seed, options)));
    const modes = new Set(checkouts.map((c) => c.pricing));
    expect([...modes].sort()).toEqual(['omitted', 'seen', 'stale', 'unknown']);
  });

  it('sends the catalog price, none, or (stale) another one; an unknown product has no catalog price', () => {
    for (const c of checkouts) {
      const sent = c.items.filter((i) => i.sentMinor !== undefined);
      const stale = c.items.filter(
        (i) =>
          i.sentMinor !== undefined && i.priceMinor !== undefined && i.sentMinor !== i.priceMinor,
      );
      const unknown = c.items.filter((i) => i.priceMinor === undefined);
      if (c.pricing === 'omitted') expect(sent).toEqual([]);
      expect(stale).toHaveLength(c.pricing === 'stale' ? 1 : 0);
      expect(unknown).toHaveLength(c.pricing === 'unknown' ? 1 : 0);
      for (const i of sent)
        expect(Number.isInteger(i.sentMinor) && Number(i.sentMinor) > 0).toBe(true);
      // The request sends exactly those prices.
      const body = requestBody(c);
      expect(body.items.map((i) => ('price' in i ? i.price : undefined))).toEqual(
        c.items.map((i) =>
          i.sentMinor === undefined ? undefined : fromMinor(i.sentMinor, c.currency),
        ),
      );
    }
    // Cheaper stale prices (the price a customer hopes to pay) and dearer ones both occur.
    const stale = checkouts.flatMap((c) =>
      c.pricing === 'stale' ? c.items.filter((i) => i.sentMinor !== i.priceMinor) : [],
    );
    expect(stale.some((i) => Number(i.sentMinor) < Number(i.priceMinor))).toBe(true);
    expect(stale.some((i) => Number(i.sentMinor) > Number(i.priceMinor))).toBe(true);
  });

  it('changes a price only for a keyed checkout retried after the lease, to another price', () => {
    const changed = checkouts.filter((c) => c.priceChange);
    expect(changed.length).toBeGreaterThan(10);
    for (const c of changed) {
      expect(c.key).toBeDefined();
      expect(c.retry).toBe('after_lease');
      expect(['seen', 'omitted']).toContain(c.pricing);
      const item = c.items.find((i) => i.productId === c.priceChange?.productId);
      expect(item?.priceMinor).toBeDefined();
      expect(c.priceChange?.priceMinor).not.toBe(item?.priceMinor);
    }
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

/** Reads whole HTTP answers (Content-Length framed) off a raw socket, one by one. */
function answersOn(socket: net.Socket) {
  let buffered = '';
  const waiting: (() => void)[] = [];
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  const take = (): string | undefined => {
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
    if (buffered.length < end + 4 + length) return undefined;
    const answer = buffered.slice(0, end + 4 + length);
    buffered = buffered.slice(end + 4 + length);
    return answer;
  };
  return {
    async next(): Promise<string> {
      for (;;) {
        const answer = take();
        if (answer !== undefined) return answer;
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
    },
  };
}

/** An authorization's body (design §3, `PAYMENT_CAPTURE=after_order`), with a raw card. */
const authorization = (checkoutId: string, overrides: Record<string, unknown> = {}) => ({
  checkout_id: checkoutId,
  amount: 349.7,
  currency: 'BRL',
  installments: 1,
  customer_email: 'sim@example.com',
  payment_method: {
    type: 'credit_card',
    card_number: CARD,
    card_expiry: '12/30',
    card_cvv: '7391',
  },
  ...overrides,
});
const TOKEN = { type: 'card_token', token: 'tok_4f9a2c1e' };
const authorize = (id: string, overrides: Record<string, unknown> = {}) =>
  call('payment', '/payments/authorize', authorization(id, overrides), `${id}:authorize`);
const capture = (
  id: string,
  txn: unknown,
  overrides: Record<string, unknown> = {},
  step = 'capture',
) =>
  call(
    'payment',
    `/payments/${String(txn)}/capture`,
    { checkout_id: id, amount: 349.7, currency: 'BRL', ...overrides },
    `${id}:${step}`,
  );
const voidIt = (id: string, txn: unknown, step = 'void') =>
  call(
    'payment',
    `/payments/${String(txn)}/void`,
    { checkout_id: id, reason: 'inventory_out_of_stock' },
    `${id}:${step}`,
  );
const payments = async (id: string) =>
  (await call('payment', `/payments?checkout_id=${id}`)).json.payments;

describe('authorize, capture and void (PAYMENT_CAPTURE=after_order)', () => {
  it('authorizes: holds the amount, echoes the request, tells the card, and replays per key', async () => {
    const first = await authorize('a1');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      status: 'authorized',
      checkout_id: 'a1',
      amount: 349.7,
      currency: 'BRL',
      card: { brand: 'visa', last4: '5556' },
    });
    expect(first.json.transactionId).toMatch(/^txn_/);
    expect(Date.parse(String(first.json.expiresAt))).toBeGreaterThan(Date.now());
    expect(await authorize('a1')).toEqual(first); // same key, same body: the stored answer
    const other = await authorize('a1', { amount: 1 });
    expect(other.status).toBe(400);
    expect(other.json.error).toBe('idempotency_error');
    expect(sim.ledger.authorizations).toEqual([
      expect.objectContaining({
        transactionId: first.json.transactionId,
        checkoutId: 'a1',
        amount: 34970,
        status: 'authorized',
        captured: 0,
        method: 'credit_card',
        installments: 1,
      }),
    ]);
    expect(sim.ledger.charges).toEqual([]); // nothing taken
    expect(await payments('a1')).toEqual([
      {
        transactionId: first.json.transactionId,
        checkout_id: 'a1',
        status: 'authorized',
        amount: 349.7,
        currency: 'BRL',
      },
    ]);
  });

  it('takes a token instead of a card, and tells which card it stands for', async () => {
    const { status, json } = await authorize('a2', {
      payment_method: TOKEN,
      installments: { count: 3 },
      customer_document: '52998224725',
    });
    expect(status).toBe(200);
    expect(json.card).toEqual({ brand: 'visa', last4: expect.stringMatching(/^\d{4}$/) });
    expect(sim.ledger.authorizations[0]).toMatchObject({ method: 'card_token', installments: 3 });
  });

  it('refuses an authorization without a card or token, or malformed (400, nothing stored under the key)', async () => {
    const refusals: Record<string, unknown> = {};
    const bad: Record<string, Record<string, unknown>> = {
      payment_method_required: { payment_method: null },
      invalid_token: { payment_method: { ...TOKEN, card_number: CARD } },
      invalid_card: { payment_method: { ...authorization('x').payment_method, card_cvv: '1' } },
      invalid_payment_method: { payment_method: { type: 'pix' } },
      installments_required: { installments: undefined },
      invalid_installments: { installments: 0 },
      invalid_amount: { amount: 0 },
    };
    for (const [error, overrides] of Object.entries(bad)) {
      const answer = await authorize('a3', overrides);
      refusals[error] = [answer.status, answer.json.error, answer.json.checkout_id];
    }
    expect(refusals).toEqual(
      Object.fromEntries(Object.keys(bad).map((error) => [error, [400, error, 'a3']])),
    );
    const second = await authorize('a3-token', {
      payment_method: { type: 'card_token', token: 'x' },
    });
    expect(second.json.error).toBe('invalid_token');
    expect(sim.cardlessCharges).toBe(1);
    expect(sim.ledger.authorizations).toEqual([]);
    expect((await authorize('a3')).status).toBe(200); // nothing was stored under the key
  });

  it('captures once, up to the amount authorized; a capture after it (another key) is refused', async () => {
    const txn = (await authorize('a4')).json.transactionId;
    const more = await capture('a4', txn, { amount: 349.71 }, 'capture-more');
    expect(more).toMatchObject({ status: 422, json: { error: 'capture_exceeds_authorization' } });
    const otherCurrency = await capture('a4', txn, { currency: 'USD' }, 'capture-usd');
    expect(otherCurrency.status).toBe(400);
    const otherCheckout = await capture('a4-other', txn, {}, 'capture');
    expect(otherCheckout.json.error).toBe('capture_does_not_match_authorization');
    const done = await capture('a4', txn);
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({
      status: 'captured',
      transactionId: txn,
      checkout_id: 'a4',
      amount: 349.7,
      currency: 'BRL',
    });
    expect(await capture('a4', txn)).toEqual(done); // same key, same body: replayed
    const again = await capture('a4', txn, {}, 'capture-2');
    expect(again).toMatchObject({ status: 422, json: { error: 'already_captured' } });
    expect(sim.ledger.captures).toEqual([
      expect.objectContaining({ transactionId: txn, checkoutId: 'a4', amount: 34970 }),
    ]);
    expect(sim.ledger.authorizations[0]).toMatchObject({ status: 'captured', captured: 34970 });
    expect(await payments('a4')).toEqual([expect.objectContaining({ status: 'captured' })]);
    expect((await capture('a4', 'txn_nope', {}, 'capture-3')).status).toBe(404);
  });

  it('voids an open authorization once (a second void says voided again); a voided one is not captured', async () => {
    const txn = (await authorize('a5')).json.transactionId;
    const voided = await voidIt('a5', txn);
    expect(voided.status).toBe(200);
    expect(voided.json).toMatchObject({ status: 'voided', transactionId: txn, checkout_id: 'a5' });
    expect(await voidIt('a5', txn)).toEqual(voided); // replay
    const twice = await voidIt('a5', txn, 'void-2');
    expect(twice.json).toMatchObject({ status: 'voided', transactionId: txn });
    expect(sim.ledger.voids).toHaveLength(1);
    const late = await capture('a5', txn);
    expect(late).toMatchObject({
      status: 422,
      json: { error: 'authorization_voided', transactionId: txn, checkout_id: 'a5' },
    });
    expect(sim.ledger.captures).toEqual([]);
    expect(await payments('a5')).toEqual([expect.objectContaining({ status: 'voided' })]);
  });

  it('refuses to void a captured payment (it needs a refund) and to refund one only authorized (it needs a void)', async () => {
    const txn = (await authorize('a6')).json.transactionId;
    const refund = { amount: 349.7, currency: 'BRL', checkout_id: 'a6', reason: 'test' };
    const early = await call('payment', `/payments/${txn}/refund`, refund, 'a6:refund');
    expect(early).toMatchObject({ status: 422, json: { error: 'refund_requires_capture' } });
    await capture('a6', txn);
    const tooLate = await voidIt('a6', txn);
    expect(tooLate).toMatchObject({ status: 422, json: { error: 'authorization_captured' } });
    const refunded = await call('payment', `/payments/${txn}/refund`, refund, 'a6:refund-2');
    expect(refunded.json).toMatchObject({ status: 'refunded', transactionId: txn });
    expect(sim.ledger.authorizations[0]).toMatchObject({ status: 'refunded', refunded: 34970 });
    expect(await payments('a6')).toEqual([expect.objectContaining({ status: 'refunded' })]);
    // A one-shot charge is neither captured nor voided.
    const charged = (await call('payment', '/payments/process', charge('a7'), 'a7:charge')).json;
    const voidCharge = await voidIt('a7', charged.transactionId);
    expect(voidCharge).toMatchObject({ status: 422, json: { error: 'not_an_authorization' } });
  });

  it('tells an order it is paid by an authorization (payment_status), and nothing else', async () => {
    const order = {
      checkout_id: 'a8',
      customer_email: 'sim@example.com',
      shipping_address: { street: 'Rua' },
      items: [{ product_id: 'prod_1', quantity: 1, price: 10.5 }],
      total_amount: 10.5,
      currency: 'BRL',
      payment_id: 'txn_1',
      payment_status: 'authorized',
    };
    expect((await call('order', '/orders', order, 'a8:order')).status).toBe(201);
    expect(sim.ledger.orders[0]?.paymentStatus).toBe('authorized');
    const wrong = { ...order, checkout_id: 'a9', payment_status: 'paid' };
    expect((await call('order', '/orders', wrong, 'a9:order')).json.error).toBe(
      'invalid_payment_status',
    );
  });
});

describe('the faults on authorize, capture and void', () => {
  it('a 5xx before a capture does nothing; after it, the capture stands and the retry gets the stored answer', async () => {
    const txn = (await authorize('b1')).json.transactionId;
    faultOnce({ kind: '5xx_before', status: 503 });
    expect((await capture('b1', txn)).status).toBe(503);
    expect(sim.ledger.captures).toHaveLength(0);
    sim.faults = ({ endpoint, nth }) =>
      endpoint === 'capture' && nth === 2 ? { kind: '5xx_after', status: 502 } : null;
    expect((await capture('b1', txn)).status).toBe(502);
    expect(sim.ledger.captures).toHaveLength(1);
    expect((await capture('b1', txn)).json).toMatchObject({ status: 'captured' });
    expect(sim.ledger.captures).toHaveLength(1);
  });

  it('a reset after a void has voided; a garbled answer to an authorization has authorized', async () => {
    sim.faults = ({ endpoint }) =>
      endpoint === 'authorize' ? { kind: 'garbled', body: '{"status":"authorized"}' } : null;
    expect((await authorize('b2')).text).toBe('{"status":"authorized"}');
    const [auth] = sim.ledger.authorizations;
    expect(auth?.status).toBe('authorized');
    sim.faults = ({ endpoint }) => (endpoint === 'void' ? { kind: 'reset_after' } : null);
    expect((await voidIt('b2', auth?.transactionId)).status).toBe('reset');
    await sim.idle();
    expect(sim.ledger.authorizations[0]?.status).toBe('voided');
  });

  it('a refused authorization is a declined one on the ledger (failed), stored under the key', async () => {
    faultOnce({ kind: 'refusal', reason: 'card_declined' });
    const refused = await authorize('b3');
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({
      status: 'failed',
      error: 'card_declined',
      checkout_id: 'b3',
      amount: 349.7,
      currency: 'BRL',
    });
    expect(await authorize('b3')).toEqual(refused);
    expect(sim.ledger.authorizations).toEqual([expect.objectContaining({ status: 'failed' })]);
    expect(await payments('b3')).toEqual([expect.objectContaining({ status: 'failed' })]);
  });

  it('a refused capture leaves the authorization open; the same key gets the refusal again', async () => {
    const txn = (await authorize('b4')).json.transactionId;
    faultOnce({ kind: 'refusal', reason: 'capture_rejected' });
    const refused = await capture('b4', txn);
    expect(refused).toMatchObject({ status: 422, json: { error: 'capture_rejected' } });
    expect(await capture('b4', txn)).toEqual(refused);
    expect(sim.ledger.authorizations[0]?.status).toBe('authorized');
    expect(sim.ledger.captures).toEqual([]);
  });

  it('authorization_expired: this capture and every later one refused (422), nothing taken, counted by kind', async () => {
    const txn = (await authorize('b5')).json.transactionId;
    const before = sim.faultCounts.get('authorization_expired') ?? 0;
    sim.faults = ({ endpoint }) =>
      endpoint === 'capture' ? { kind: 'authorization_expired' } : null;
    const expired = await capture('b5', txn);
    expect(expired.status).toBe(422);
    expect(expired.json).toMatchObject({
      status: 'failed',
      error: 'authorization_expired',
      transactionId: txn,
      checkout_id: 'b5',
      amount: 349.7,
    });
    sim.faults = null;
    expect(await capture('b5', txn)).toEqual(expired); // the same key: stored
    const other = await capture('b5', txn, {}, 'capture-2');
    expect(other.json.error).toBe('authorization_expired');
    expect(sim.faultCounts.get('authorization_expired')).toBe(before + 1);
    expect(sim.ledger.captures).toEqual([]);
    expect(await payments('b5')).toEqual([expect.objectContaining({ status: 'authorized' })]);
    expect((await voidIt('b5', txn)).json.status).toBe('voided'); // the hold can be released
  });

  it('an authorization_expired fault on a capture already made, or on another endpoint, does nothing', async () => {
    const txn = (await authorize('b6')).json.transactionId;
    await capture('b6', txn);
    sim.faults = () => ({ kind: 'authorization_expired' });
    expect((await capture('b6', txn)).json.status).toBe('captured'); // replayed
    expect((await authorize('b7')).json.status).toBe('authorized');
    sim.faults = null;
    expect(sim.faultCounts.get('authorization_expired') ?? 0).toBeLessThanOrEqual(1);
  });

  it('a duplicate answer to an authorization is what the next request on that socket reads', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    sim.faults = ({ checkoutId, endpoint }) =>
      checkoutId === 'b8' && endpoint === 'authorize' ? { kind: 'duplicate_answer' } : null;
    try {
      const url = sim.urls.payment;
      const first = await viaAgent(
        agent,
        url,
        '/payments/authorize',
        authorization('b8'),
        'b8:authorize',
      );
      const txn = first.json.transactionId;
      const captured = await viaAgent(
        agent,
        url,
        `/payments/${txn}/capture`,
        { checkout_id: 'b8', amount: 349.7, currency: 'BRL' },
        'b8:capture',
      );
      // The copy of the authorization is read as the capture's answer (no transactionId echo
      // of a capture, status authorized): a client that checks the echo sees it is not its own.
      expect(captured).toEqual(first);
      await sim.idle();
      expect(sim.ledger.captures).toHaveLength(1); // while the capture was made
    } finally {
      agent.destroy();
    }
  });

  it('draws authorization_expired for captures only, from the seed', () => {
    const decider = scheduledFaults({
      seed: 3,
      rateOf: () => 1,
      indexOf: () => 0,
      timeoutMs: { payment: 250, inventory: 200, order: 200, catalog: 150 },
    });
    const kinds = (endpoint: RequestContext['endpoint']) =>
      new Set(
        Array.from(
          { length: 400 },
          (_, nth) => decider({ endpoint, checkoutId: 'x', email: 'e', nth })?.kind,
        ),
      );
    expect(kinds('capture').has('authorization_expired')).toBe(true);
    for (const endpoint of ['authorize', 'void', 'charge', 'refund', 'order'] as const) {
      expect(kinds(endpoint).has('authorization_expired'), endpoint).toBe(false);
    }
    expect(kinds('authorize').has('refusal')).toBe(true);
    expect(kinds('void').has('refusal')).toBe(true);
  });
});

describe('card data and keys on the payment service', () => {
  it('takes card data on an authorization, and notes it on a capture, a void or a refund', async () => {
    const txn = (await authorize('k2')).json.transactionId;
    expect(sim.cardLeaks).toEqual([]);
    await call(
      'payment',
      `/payments/${txn}/capture`,
      { checkout_id: 'k2', amount: 349.7, currency: 'BRL', payment_method: TOKEN },
      'k2:capture',
    );
    await call(
      'payment',
      `/payments/${txn}/void`,
      { checkout_id: 'k2', reason: 'x', card_expiry: '12/30' },
      'k2:void',
    );
    expect(sim.cardLeaks).toEqual([
      'capture of k2 carried card data',
      'void of k2 carried card data',
    ]);
    expect(JSON.stringify(sim.ledger.snapshot())).not.toContain(CARD);
  });

  it('notes an acting request whose key is not <checkout_id>:<step>', async () => {
    const txn = (await authorize('k3')).json.transactionId;
    await call(
      'payment',
      `/payments/${txn}/capture`,
      { checkout_id: 'k3', amount: 349.7, currency: 'BRL' },
      'k3:charge',
    );
    await call('payment', '/payments/authorize', authorization('k4'), 'k4');
    await voidIt('k3', txn); // the right key
    expect(sim.keyMisuses).toEqual([
      'capture of k3 under Idempotency-Key k3:charge, not k3:capture',
      'authorize of k4 under Idempotency-Key k4, not k4:authorize',
    ]);
  });
});

describe('an operator undoes a stuck after_order checkout in the payment console', () => {
  it('voids what is authorized, refunds what was captured', async () => {
    const open = (await authorize('o2')).json.transactionId;
    expect(sim.ledger.refundOutside('o2')).toBe(0); // nothing captured to refund
    expect(sim.ledger.voidOutside('o2')).toBe(1);
    expect(sim.ledger.voidOutside('o2')).toBe(0);
    expect(sim.ledger.voids).toEqual([
      expect.objectContaining({ transactionId: open, checkoutId: 'o2', byOperator: true }),
    ]);
    // The checkout's own void, under its key, finds it voided: it says so.
    expect((await voidIt('o2', open)).json.status).toBe('voided');
    const taken = (await authorize('o3')).json.transactionId;
    await capture('o3', taken);
    expect(sim.ledger.voidOutside('o3')).toBe(0);
    expect(sim.ledger.refundOutside('o3')).toBe(1);
    expect(sim.ledger.refunds).toEqual([
      expect.objectContaining({ transactionId: taken, amount: 34970, byOperator: true }),
    ]);
    expect(await payments('o3')).toEqual([expect.objectContaining({ status: 'refunded' })]);
  });
});

describe('the scenario plans PAYMENT_CAPTURE from the seed', () => {
  const options = { runId: 'r', crashes: true, kills: true, maxAttempts: 5 };
  const plans = Array.from({ length: 400 }, (_, seed) => planScenario(seed, options));

  it('runs most scenarios under after_order, sometimes changing it before the retries, or in the child', () => {
    expect(plans).toEqual(Array.from({ length: 400 }, (_, seed) => planScenario(seed, options)));
    const share = plans.filter((p) => p.capture.traffic === 'after_order').length / plans.length;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.8);
    const changed = plans.filter((p) => p.capture.later !== p.capture.traffic);
    expect(changed.some((p) => p.capture.later === 'immediate')).toBe(true);
    expect(changed.some((p) => p.capture.later === 'after_order')).toBe(true);
    const childOther = plans.filter((p) => p.capture.child !== p.capture.traffic);
    expect(childOther.length).toBeGreaterThan(0);
    for (const p of childOther) expect(p.kill).toBeDefined(); // only where a child runs
    const [first] = changed;
    expect(first && describeCapture(first)).toMatch(/then \w+ from the lease-expired retries/);
  });

  it('pays by token only where every setting is after_order, and sends the token, never a card', () => {
    const tokens = plans.filter((p) => p.checkouts.some((c) => c.paymentMethod === 'card_token'));
    expect(tokens.length).toBeGreaterThan(10);
    for (const p of tokens) {
      expect([p.capture.traffic, p.capture.child, p.capture.later]).toEqual([
        'after_order',
        'after_order',
        'after_order',
      ]);
      for (const c of p.checkouts) {
        expect(c.paymentMethod).toBe('card_token');
        expect(requestBody(c).payment_method).toEqual({ type: 'card_token', token: c.token });
        expect(c.token).toMatch(/^tok_[A-Za-z0-9_-]{4,}$/);
      }
    }
    const cards = plans
      .flatMap((p) => p.checkouts)
      .filter((c) => c.paymentMethod === 'credit_card');
    for (const c of cards.slice(0, 5)) {
      expect(requestBody(c).payment_method).toMatchObject({ type: 'credit_card' });
    }
  });

  it('moves the kill and crash triggers to the steps of the flow they meet', () => {
    const killed = plans.filter((p) => p.kill);
    const endpoints = (flow: string) =>
      new Set(killed.filter((p) => p.capture.child === flow).map((p) => p.kill?.endpoint));
    expect([...endpoints('immediate')].sort()).toEqual(['charge', 'deduct', 'order', 'refund']);
    expect(endpoints('after_order').has('authorize')).toBe(true);
    expect(endpoints('after_order').has('capture')).toBe(true);
    for (const e of ['charge', 'refund'])
      expect(endpoints('after_order').has(e as never)).toBe(false);
    const crashes = plans.flatMap((p) => {
      const on = p.crash?.on;
      return on && 'endpoint' in on
        ? [[p.capture.traffic, on.endpoint, p.checkouts[on.checkout]?.viaChild] as const]
        : [];
    });
    for (const [flow, endpoint, viaChild] of crashes) {
      if (flow === 'after_order' && !viaChild) expect(['charge', 'refund']).not.toContain(endpoint);
    }
  });
});

describe('the simulator, Pix and boleto (design §4a)', () => {
  const EXPIRES = () => new Date(Date.now() + 1_800_000).toISOString();
  const pix = (checkoutId: string, expiresAt: string, overrides: Record<string, unknown> = {}) => ({
    checkout_id: checkoutId,
    amount: 349.7,
    currency: 'BRL',
    customer_email: 'sim@example.com',
    customer_document: '529.982.247-25',
    expires_at: expiresAt,
    ...overrides,
  });
  const boleto = (checkoutId: string) => ({
    checkout_id: checkoutId,
    amount: 349.7,
    customer_email: 'sim@example.com',
    customer_name: 'Cliente da Silva',
    customer_document: '529.982.247-25',
    due_date: '2027-03-10',
  });
  const payments = async (checkoutId: string) =>
    (await call('payment', `/payments?checkout_id=${checkoutId}`)).json.payments as Record<
      string,
      unknown
    >[];

  it('issues a Pix once per key: the same body gets the same transaction and QR code, another body a 400', async () => {
    const at = EXPIRES();
    const first = await call('payment', '/payments/pix', pix('c-pix', at), 'c-pix:pix');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      status: 'pending',
      checkout_id: 'c-pix',
      amount: 349.7,
      currency: 'BRL',
      expires_at: at,
    });
    expect(typeof first.json.qr_code).toBe('string');
    const again = await call('payment', '/payments/pix', pix('c-pix', at), 'c-pix:pix');
    expect(again.json).toEqual(first.json);
    const other = await call(
      'payment',
      '/payments/pix',
      pix('c-pix', at, { amount: 1 }),
      'c-pix:pix',
    );
    expect(other.status).toBe(400);
    expect(other.json.error).toBe('idempotency_error');
    expect(sim.ledger.asyncCharges).toHaveLength(1);
    expect(await payments('c-pix')).toEqual([
      {
        transactionId: first.json.transactionId,
        checkout_id: 'c-pix',
        status: 'pending',
        amount: 349.7,
        currency: 'BRL',
      },
    ]);
    // Only reais; a document is required.
    const usd = await call(
      'payment',
      '/payments/pix',
      pix('c-usd', at, { currency: 'USD' }),
      'c-usd:pix',
    );
    expect(usd.status).toBe(400);
    const noDoc = await call(
      'payment',
      '/payments/pix',
      pix('c-nodoc', at, { customer_document: undefined }),
      'c-nodoc:pix',
    );
    expect(noDoc.json.error).toBe('customer_document_required');
  });

  it('issues a boleto with its barcode, digitable line, URL and due date, echoing checkout and amount', async () => {
    const answer = await call('payment', '/payments/boleto', boleto('c-bol'), 'c-bol:boleto');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'pending',
      checkout_id: 'c-bol',
      amount: 349.7,
      due_date: '2027-03-10',
    });
    expect(String(answer.json.barcode)).toMatch(/^\d{44}$/);
    expect(String(answer.json.url)).toMatch(/^https:\/\//);
    const noName = await call(
      'payment',
      '/payments/boleto',
      { ...boleto('c-bol2'), customer_name: undefined },
      'c-bol2:boleto',
    );
    expect(noName.json.error).toBe('customer_name_required');
  });

  it('cancels a pending charge (idempotent on its key), refuses to cancel a paid one, refunds a paid one', async () => {
    const issued = await call('payment', '/payments/pix', pix('c-can', EXPIRES()), 'c-can:pix');
    const txn = String(issued.json.transactionId);
    const cancel = { checkout_id: 'c-can', reason: 'payment_expired' };
    const first = await call('payment', `/payments/${txn}/cancel`, cancel, 'c-can:cancel');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      status: 'cancelled',
      transactionId: txn,
      checkout_id: 'c-can',
    });
    expect(await call('payment', `/payments/${txn}/cancel`, cancel, 'c-can:cancel')).toEqual(first);
    expect(sim.ledger.cancels).toHaveLength(1);
    expect(sim.ledger.cancels[0]?.before).toBe('pending');
    // A cancelled charge cannot be paid any more.
    expect(sim.pay(txn)).toEqual({ before: 'cancelled', paid: false });
    expect(sim.pay(txn, { late: true }).paid).toBe(false);

    const paid = await call('payment', '/payments/pix', pix('c-paid', EXPIRES()), 'c-paid:pix');
    const paidTxn = String(paid.json.transactionId);
    expect(sim.pay(paidTxn).paid).toBe(true);
    const refused = await call(
      'payment',
      `/payments/${paidTxn}/cancel`,
      { checkout_id: 'c-paid', reason: 'x' },
      'c-paid:cancel',
    );
    expect(refused.status).toBe(422);
    expect(refused.json.error).toBe('charge_paid');
    const [entry] = await payments('c-paid');
    expect(entry).toMatchObject({ status: 'paid', amount: 349.7, currency: 'BRL' });
    expect(typeof entry?.paid_at).toBe('string');
    const refund = { checkout_id: 'c-paid', amount: 349.7, currency: 'BRL', reason: 'x' };
    const refunded = await call(
      'payment',
      `/payments/${paidTxn}/refund`,
      refund,
      'c-paid:refund_late',
    );
    expect(refunded.status).toBe(200);
    expect((await payments('c-paid'))[0]?.status).toBe('refunded');
    expect(sim.keyMisuses).toEqual([]); // `_late` keys are the late round's
  });

  it('expires a pending charge at its own expiry, which a late clearing may still pay; queues each webhook', async () => {
    const issued = await call('payment', '/payments/pix', pix('c-exp', EXPIRES()), 'c-exp:pix');
    const txn = String(issued.json.transactionId);
    sim.moveExpiry(txn, Date.now() - 200_000, 0);
    expect((await payments('c-exp'))[0]?.status).toBe('expired');
    expect(sim.pay(txn).paid).toBe(false); // the QR code expired
    expect(sim.pay(txn, { late: true, amountMinor: 34971 }).paid).toBe(true);
    expect((await payments('c-exp'))[0]).toMatchObject({ status: 'paid', amount: 349.71 });
    expect(sim.outbox.map((e) => e.type)).toEqual(['payment.expired', 'payment.paid']);
    expect(sim.outbox.every((e) => e.checkout_id === 'c-exp' && e.transactionId === txn)).toBe(
      true,
    );
    // With the service's expiry an hour after the app's, the app's cancel finds it pending.
    const later = await call('payment', '/payments/pix', pix('c-lag', EXPIRES()), 'c-lag:pix');
    sim.moveExpiry(String(later.json.transactionId), Date.now() - 200_000, 3_600_000);
    expect((await payments('c-lag'))[0]?.status).toBe('pending');
  });
});

describe('the Pix and boleto scenarios are drawn from the seed', () => {
  it('a third of the seeds, the same plan for the same seed, a valid CPF each', async () => {
    const { isAsyncSeed, planAsyncScenario } = await import('./async-plan.ts');
    const { parseCustomerDocument } = await import('#lib/checkout/customer-document.ts');
    const seeds = Array.from({ length: 300 }, (_, i) => i + 1).filter(isAsyncSeed);
    expect(seeds.length).toBeGreaterThan(70);
    expect(seeds.length).toBeLessThan(130);
    const options = { runId: 'r', crashes: true, kills: true };
    const seed = seeds[0] ?? 1;
    const plan = planAsyncScenario(seed, options);
    expect(planAsyncScenario(seed, options)).toEqual(plan);
    for (const c of plan.checkouts) {
      expect(c.cpf).toMatch(/^\d{3}\.\d{3}\.\d{3}-\d{2}$/);
      expect(parseCustomerDocument(c.cpf)).toMatchObject({ kind: 'cpf' });
    }
  });
});
