import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { ServiceName } from '#dev/local/wiremock-process.ts';
import {
  type Entry,
  LOOKUPS,
  lookup,
  pollUntil,
  servedFor,
  untilWebhooksDone,
} from '../support/wiremock-lookups.ts';

/**
 * The outcome lookups of the WireMock mappings, asked directly over HTTP (wiremock/README.md,
 * "Outcome lookups"): a checkout that nothing was asked for holds nothing; each call that acts
 * registers, through its webhook, what its service now holds for the checkout (a later call
 * replacing what an earlier one registered); a refusal holds what a real service keeps of it;
 * and a fault holds what it did. The tests share the run's WireMocks (nothing is reset between
 * them): each uses checkout ids of its own, and waits for the webhooks of its calls, which land a
 * few ms after their answers.
 */
const wiremock = inject('wiremock');

const post = (service: ServiceName, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${wiremock[service]}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });

type Body = Record<string, unknown>;

const CARD = {
  type: 'credit_card',
  card_number: '4111111111111111',
  card_expiry: '12/30',
  card_cvv: '123',
};

/** What the checkout sends to charge or authorize. */
const payment = (checkoutId: string, change: Body = {}): Body => ({
  amount: 349.7,
  currency: 'BRL',
  payment_method: CARD,
  customer_email: 'customer@example.com',
  checkout_id: checkoutId,
  ...change,
});
const email = (value: string) => ({ customer_email: value });
const token = (value: string) => ({ payment_method: { type: 'card_token', token: value } });

const ITEMS = [
  { product_id: 'prod_001', quantity: 2 },
  { product_id: 'prod_002', quantity: 1 },
];
const stock = (checkoutId: string, items = ITEMS) => ({ checkout_id: checkoutId, items });

const order = (checkoutId: string, customerEmail = 'customer@example.com', zip = '01234-567') => ({
  checkout_id: checkoutId,
  customer_email: customerEmail,
  shipping_address: {
    street: 'Rua das Flores',
    number: '123',
    city: 'São Paulo',
    state: 'SP',
    zip_code: zip,
  },
  items: [{ product_id: 'prod_001', quantity: 1, price: 349.7 }],
  total_amount: 349.7,
  currency: 'BRL',
  payment_id: `txn_${checkoutId}`,
});

const capture = (transactionId: string, checkoutId: string) =>
  post('payment', `/payments/${transactionId}/capture`, {
    checkout_id: checkoutId,
    amount: 349.7,
    currency: 'BRL',
  });
const voidOf = (transactionId: string, checkoutId: string) =>
  post('payment', `/payments/${transactionId}/void`, {
    checkout_id: checkoutId,
    reason: 'inventory_out_of_stock',
  });
const refund = (transactionId: string, checkoutId: string) =>
  post('payment', `/payments/${transactionId}/refund`, {
    checkout_id: checkoutId,
    amount: 349.7,
    currency: 'BRL',
    reason: 'inventory_out_of_stock',
  });

/** A payment entry as registered: the amount and currency its request sent. */
const held = (checkoutId: string, transactionId: string, status: string) => ({
  transactionId,
  checkout_id: checkoutId,
  status,
  amount: 349.7,
  currency: 'BRL',
});

/** The lookup once the webhooks of the calls carrying this checkout have landed. */
async function settled(service: ServiceName, checkoutId: string, calls = 1): Promise<Entry[]> {
  await untilWebhooksDone(service, checkoutId, calls);
  return lookup(service, checkoutId);
}

/** The stubs registered for a checkout (by webhook: their id is the checkout id). */
async function registered(service: ServiceName, checkoutId: string) {
  const res = await fetch(`${wiremock[service]}/__admin/mappings/find-by-metadata`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ matchesJsonPath: '$.registeredBy' }),
  });
  const { mappings } = (await res.json()) as { mappings: { id: string; priority: number }[] };
  return mappings.filter((m) => m.id === checkoutId);
}

/** The webhooks of the stub that served the one request carrying `marker`. */
async function listenersOfStubThatServed(service: ServiceName, marker: string) {
  const served = await pollUntil(
    () => servedFor(service, marker),
    (events) => events.length > 0,
  );
  expect(served).toHaveLength(1);
  return served[0]?.stubMapping?.serveEventListeners?.map((l) => l.name) ?? [];
}

const SERVICES = Object.keys(LOOKUPS) as ServiceName[];

describe('a checkout that nothing was asked for holds nothing', () => {
  it('every lookup answers an empty list, and no stub is registered for it', async () => {
    const id = randomUUID();
    for (const service of SERVICES) {
      expect(await lookup(service, id), service).toEqual([]);
      expect(await registered(service, id), service).toEqual([]);
    }
  });

  it('answers 404 without a usable checkout id', async () => {
    for (const service of SERVICES) {
      const base = `${wiremock[service]}${LOOKUPS[service].path}`;
      expect((await fetch(base)).status).toBe(404);
      expect((await fetch(`${base}?checkout_id=a%22b`)).status).toBe(404);
    }
  });

  it("a call for one checkout changes no other checkout's lookups", async () => {
    const id = randomUUID();
    const other = randomUUID();
    expect((await post('payment', '/payments/process', payment(id))).status).toBe(200);
    expect((await post('inventory', '/inventory/deduct', stock(id))).status).toBe(200);
    expect((await post('order', '/orders', order(id))).status).toBe(201);

    expect(await settled('payment', id)).toHaveLength(1);
    expect(await settled('inventory', id)).toHaveLength(1);
    expect(await settled('order', id)).toHaveLength(1);
    for (const service of SERVICES) expect(await lookup(service, other), service).toEqual([]);
  });
});

describe('each call that acts makes the lookup show what its service now holds', () => {
  it('after a charge: txn_<id> success, with the amount and currency it sent', async () => {
    const id = randomUUID();
    const res = await post('payment', '/payments/process', payment(id));
    expect(await res.json()).toMatchObject({ status: 'success', transactionId: `txn_${id}` });

    expect(await settled('payment', id)).toEqual([held(id, `txn_${id}`, 'success')]);
  });

  it('after an authorization then its capture: txn_<id> authorized, then captured', async () => {
    const id = randomUUID();
    const res = await post('payment', '/payments/authorize', payment(id));
    expect(await res.json()).toMatchObject({ status: 'authorized', transactionId: `txn_${id}` });
    expect(await settled('payment', id)).toEqual([held(id, `txn_${id}`, 'authorized')]);

    expect((await capture(`txn_${id}`, id)).status).toBe(200);

    expect(await settled('payment', id, 2)).toEqual([held(id, `txn_${id}`, 'captured')]);
  });

  it('after an authorization then its void: voided (a void sends no amount, so none is listed)', async () => {
    const id = randomUUID();
    expect((await post('payment', '/payments/authorize', payment(id))).status).toBe(200);
    expect((await voidOf(`txn_${id}`, id)).status).toBe(200);

    expect(await settled('payment', id, 2)).toEqual([
      { transactionId: `txn_${id}`, checkout_id: id, status: 'voided' },
    ]);
  });

  it('after a charge then its refund: refunded', async () => {
    const id = randomUUID();
    expect((await post('payment', '/payments/process', payment(id))).status).toBe(200);
    expect((await refund(`txn_${id}`, id)).status).toBe(200);

    expect(await settled('payment', id, 2)).toEqual([held(id, `txn_${id}`, 'refunded')]);
  });

  it('after a deduction then its release: deducted with the items sent, then released', async () => {
    const id = randomUUID();
    expect((await post('inventory', '/inventory/deduct', stock(id))).status).toBe(200);
    expect(await settled('inventory', id)).toEqual([
      { checkout_id: id, status: 'deducted', items: ITEMS },
    ]);

    expect((await post('inventory', '/inventory/release', stock(id))).status).toBe(200);

    expect(await settled('inventory', id, 2)).toEqual([
      { checkout_id: id, status: 'released', items: ITEMS },
    ]);
  });

  it('after an order: ord_<id> created', async () => {
    const id = randomUUID();
    const res = await post('order', '/orders', order(id));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ orderId: `ord_${id}`, checkout_id: id, status: 'created' });

    expect(await settled('order', id)).toEqual([
      { orderId: `ord_${id}`, checkout_id: id, status: 'created' },
    ]);
  });

  it.each([
    ['tok_capture_timeout', 'auth_capture_timeout'],
    ['tok_capture_refused', 'auth_capture_refused'],
    ['tok_void_fails', 'auth_void_fails'],
  ])(
    'after an authorization with %s: the marked transaction %s_<id>, authorized',
    async (value, mark) => {
      const id = randomUUID();
      expect((await post('payment', '/payments/authorize', payment(id, token(value)))).status).toBe(
        200,
      );

      expect(await settled('payment', id)).toEqual([held(id, `${mark}_${id}`, 'authorized')]);
    },
  );

  it('refund-error: the charge txn_refund_fails, the authorization auth_void_fails_<id>', async () => {
    const charged = randomUUID();
    const authorized = randomUUID();
    const sent = email('refund-error@example.com');
    await post('payment', '/payments/process', payment(charged, sent));
    await post('payment', '/payments/authorize', payment(authorized, sent));

    expect(await settled('payment', charged)).toEqual([
      held(charged, 'txn_refund_fails', 'success'),
    ]);
    expect(await settled('payment', authorized)).toEqual([
      held(authorized, `auth_void_fails_${authorized}`, 'authorized'),
    ]);
  });

  it('one stub per checkout and service: a repeat of the call changes nothing, a later state replaces it', async () => {
    const id = randomUUID();
    await post('payment', '/payments/authorize', payment(id));
    await post('payment', '/payments/authorize', payment(id));
    expect(await settled('payment', id, 2)).toEqual([held(id, `txn_${id}`, 'authorized')]);
    expect(await registered('payment', id)).toEqual([
      expect.objectContaining({ id, priority: 11 }),
    ]);

    await capture(`txn_${id}`, id);
    await post('payment', '/payments/authorize', payment(id)); // a late repeat of the first state

    expect(await settled('payment', id, 4)).toEqual([held(id, `txn_${id}`, 'captured')]);
    expect(await registered('payment', id)).toHaveLength(1);
  });

  it('in any order: a capture registered before its authorization stays captured', async () => {
    // Webhooks run on a thread pool: an authorization's registration may land after the capture's.
    const id = randomUUID();
    await capture(`txn_${id}`, id);
    expect(await settled('payment', id)).toEqual([held(id, `txn_${id}`, 'captured')]);

    await post('payment', '/payments/authorize', payment(id));

    expect(await settled('payment', id, 2)).toEqual([held(id, `txn_${id}`, 'captured')]);
  });
});

describe('a refusal holds what a real service keeps of it', () => {
  it.each([
    [
      'a declined card',
      '/payments/authorize',
      { payment_method: { ...CARD, card_number: '4000000000000002' } },
    ],
    ['a declined token', '/payments/authorize', token('tok_declined')],
    ['an amount over 1000', '/payments/authorize', { amount: 1000.01 }],
    [
      'a declined card',
      '/payments/process',
      { payment_method: { ...CARD, card_number: '4000000000000002' } },
    ],
    ['an amount over 1000', '/payments/process', { amount: 1000.01 }],
  ])('%s (%s): the payment txn_<id>, failed', async (_what, path, change) => {
    const id = randomUUID();
    const sent = payment(id, change);
    const res = await post('payment', path, sent);
    expect(res.status).toBe(422);

    expect(await settled('payment', id)).toEqual([
      { ...held(id, `txn_${id}`, 'failed'), amount: sent.amount },
    ]);
  });

  it('out of stock and an invalid address: nothing deducted, no order, nothing registered', async () => {
    const id = randomUUID();
    const outOfStock = stock(id, [...ITEMS, { product_id: 'prod_out_of_stock', quantity: 1 }]);
    expect((await post('inventory', '/inventory/deduct', outOfStock)).status).toBe(409);
    const invalid = order(id, 'customer@example.com', '00000-000');
    expect((await post('order', '/orders', invalid)).status).toBe(422);

    expect(await listenersOfStubThatServed('inventory', id)).toEqual([]);
    expect(await listenersOfStubThatServed('order', id)).toEqual([]);
    expect(await lookup('inventory', id)).toEqual([]);
    expect(await lookup('order', id)).toEqual([]);
  });
});

/** The payment call of each flow: the one-shot charge and the authorization. */
const PAYMENT_CALLS = [
  ['/payments/process', 'success'],
  ['/payments/authorize', 'authorized'],
] as const;

describe('a fault holds what the service did', () => {
  it.each(PAYMENT_CALLS)(
    'payment-error (%s): a 503 without a payment, nothing registered',
    async (path) => {
      const id = randomUUID();
      const res = await post(
        'payment',
        path,
        payment(id, email(`payment-error+${id}@example.com`)),
      );
      expect(res.status).toBe(503);

      expect(await listenersOfStubThatServed('payment', id)).toEqual([]);
      expect(await lookup('payment', id)).toEqual([]);
    },
  );

  it.each(PAYMENT_CALLS)(
    'payment-timeout-lost (%s): no answer in time, and no payment',
    async (path) => {
      const id = randomUUID();
      const sent = payment(id, email(`payment-timeout-lost+${id}@example.com`));
      // Ended by our own timeout, not by an answer or a failed connection.
      await expect(post('payment', path, sent, AbortSignal.timeout(500))).rejects.toMatchObject({
        name: 'TimeoutError',
      });

      expect(await listenersOfStubThatServed('payment', id)).toEqual([]);
      expect(await lookup('payment', id)).toEqual([]);
    },
  );

  it.each([
    ['payment-timeout', ...PAYMENT_CALLS[0]],
    ['payment-timeout', ...PAYMENT_CALLS[1]],
    ['payment-reset', ...PAYMENT_CALLS[0]],
    ['payment-reset', ...PAYMENT_CALLS[1]],
  ] as const)(
    '%s (%s): the service acted, and the lookup shows txn_<id> %s',
    async (trigger, path, status) => {
      const id = randomUUID();
      const sent = payment(id, email(`${trigger}+${id}@example.com`));
      // Ended by our own timeout or by the reset: either way the service acted.
      await expect(post('payment', path, sent, AbortSignal.timeout(500))).rejects.toThrow();

      expect(await settled('payment', id)).toEqual([held(id, `txn_${id}`, status)]);
    },
  );

  it('prod_inventory_error: a 500 without a deduction, nothing registered', async () => {
    const id = randomUUID();
    const sent = stock(id, [{ product_id: 'prod_inventory_error', quantity: 1 }]);
    expect((await post('inventory', '/inventory/deduct', sent)).status).toBe(500);

    expect(await listenersOfStubThatServed('inventory', id)).toEqual([]);
    expect(await lookup('inventory', id)).toEqual([]);
  });

  it.each([
    ['prod_inventory_timeout', (signal: AbortSignal) => signal],
    ['prod_inventory_reset', () => undefined],
  ])('%s: the service deducted, and the lookup shows it', async (product, signal) => {
    const id = randomUUID();
    const items = [{ product_id: product, quantity: 1 }];
    await expect(
      post('inventory', '/inventory/deduct', stock(id, items), signal(AbortSignal.timeout(500))),
    ).rejects.toThrow();

    expect(await settled('inventory', id)).toEqual([
      { checkout_id: id, status: 'deducted', items },
    ]);
  });

  it('order-error: a 503 without an order, nothing registered', async () => {
    const id = randomUUID();
    const res = await post('order', '/orders', order(id, `order-error+${id}@example.com`));
    expect(res.status).toBe(503);

    expect(await listenersOfStubThatServed('order', id)).toEqual([]);
    expect(await lookup('order', id)).toEqual([]);
  });

  it.each(['order-timeout', 'order-reset'])(
    '%s: the service created the order, and the lookup shows it',
    async (trigger) => {
      const id = randomUUID();
      const sent = order(id, `${trigger}+${id}@example.com`);
      await expect(post('order', '/orders', sent, AbortSignal.timeout(500))).rejects.toThrow();

      expect(await settled('order', id)).toEqual([
        { orderId: `ord_${id}`, checkout_id: id, status: 'created' },
      ]);
    },
  );

  it('a step that failed leaves what was held: the authorization, the charge, the deduction', async () => {
    const refused = randomUUID();
    await post('payment', '/payments/authorize', payment(refused, token('tok_capture_refused')));
    expect((await capture(`auth_capture_refused_${refused}`, refused)).status).toBe(422);
    const voidFails = randomUUID();
    await post('payment', '/payments/authorize', payment(voidFails, token('tok_void_fails')));
    expect((await voidOf(`auth_void_fails_${voidFails}`, voidFails)).status).toBe(500);
    const refundFails = randomUUID();
    await post(
      'payment',
      '/payments/process',
      payment(refundFails, email('refund-error@example.com')),
    );
    expect((await refund('txn_refund_fails', refundFails)).status).toBe(500);
    const releaseFails = randomUUID();
    const items = [{ product_id: 'prod_release_fails', quantity: 1 }];
    await post('inventory', '/inventory/deduct', stock(releaseFails, items));
    expect((await post('inventory', '/inventory/release', stock(releaseFails, items))).status).toBe(
      500,
    );

    expect(await settled('payment', refused, 2)).toEqual([
      held(refused, `auth_capture_refused_${refused}`, 'authorized'),
    ]);
    expect(await settled('payment', voidFails, 2)).toEqual([
      held(voidFails, `auth_void_fails_${voidFails}`, 'authorized'),
    ]);
    expect(await settled('payment', refundFails, 2)).toEqual([
      held(refundFails, 'txn_refund_fails', 'success'),
    ]);
    expect(await settled('inventory', releaseFails, 2)).toEqual([
      { checkout_id: releaseFails, status: 'deducted', items },
    ]);
  });
});
