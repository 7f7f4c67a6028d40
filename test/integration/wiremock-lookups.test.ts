import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import type { ServiceName } from '#dev/local/wiremock-process.ts';

/**
 * The outcome lookups of the WireMock mappings, asked directly over HTTP: by default they
 * answer from the checkout id (the service acted), each entry carrying that id; a fault stub
 * that did not act makes its WireMock answer "nothing there" for that one checkout, and a
 * payment fault stub that did act makes it show the transaction it answered (a webhook
 * registers the stub, so the tests poll).
 */
const wiremock = inject('wiremock');

const LOOKUPS = {
  payment: { path: '/payments', list: 'payments' },
  inventory: { path: '/inventory/deductions', list: 'deductions' },
  order: { path: '/orders', list: 'orders' },
} as const;

async function lookup(service: ServiceName, checkoutId: string): Promise<unknown[]> {
  const { path, list } = LOOKUPS[service];
  const res = await fetch(`${wiremock[service]}${path}?checkout_id=${checkoutId}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as Record<string, unknown[]>;
  expect(Object.keys(body)).toEqual([list]);
  return body[list] as unknown[];
}

/** Reads `read()` every 50 ms until `done` holds or `timeoutMs` has passed; returns the last read. */
async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

/** The stub a fault's webhook registered for a checkout, once it has (webhooks are asynchronous). */
const untilRegistered = (service: ServiceName, checkoutId: string) =>
  pollUntil(
    () => registeredStub(service, checkoutId),
    (stub) => stub !== null,
  );

/** Asks the lookup until it answers an empty list (webhooks are asynchronous). */
const untilNothingThere = (service: ServiceName, checkoutId: string) =>
  pollUntil(
    () => lookup(service, checkoutId),
    (found) => found.length === 0,
  );

interface ServeEvent {
  request: { body: string };
  stubMapping?: { serveEventListeners?: { name: string }[] };
}

/**
 * The serve-event listeners (webhooks) of the stub that matched the one request carrying
 * `marker`, once WireMock has logged that request.
 */
async function listenersOfStubThatServed(service: ServiceName, marker: string) {
  const served = await pollUntil(
    async () => {
      const res = await fetch(`${wiremock[service]}/__admin/requests`);
      const { requests } = (await res.json()) as { requests: ServeEvent[] };
      return requests.filter((event) => event.request.body.includes(marker));
    },
    (events) => events.length > 0,
  );
  expect(served).toHaveLength(1);
  return served[0]?.stubMapping?.serveEventListeners?.map((l) => l.name) ?? [];
}

const post = (service: ServiceName, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${wiremock[service]}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });

const charge = (checkoutId: string, email = 'customer@example.com') => ({
  amount: 349.7,
  currency: 'BRL',
  payment_method: {
    type: 'credit_card',
    card_number: '4111111111111111',
    card_expiry: '12/30',
    card_cvv: '123',
  },
  customer_email: email,
  checkout_id: checkoutId,
});

const deduct = (checkoutId: string, productId = 'prod_keyboard') => ({
  checkout_id: checkoutId,
  items: [{ product_id: productId, quantity: 1 }],
});

const order = (checkoutId: string, email = 'customer@example.com') => ({
  checkout_id: checkoutId,
  customer_email: email,
  shipping_address: {
    street: 'Rua Augusta',
    number: '1000',
    city: 'São Paulo',
    state: 'SP',
    zip_code: '01304-001',
    country: 'BR',
  },
  items: [{ product_id: 'prod_keyboard', quantity: 1, price: 349.7 }],
  total_amount: 349.7,
  currency: 'BRL',
  payment_id: `txn_${checkoutId}`,
});

/** The stub a fault's webhook registered for a checkout (its id is the checkout id), or null. */
async function registeredStub(service: ServiceName, checkoutId: string) {
  const res = await fetch(`${wiremock[service]}/__admin/mappings/${checkoutId}`);
  return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : null;
}

/** What the default payment lookup answers: the default authorization, captured. */
const captured = (id: string) => [
  { transactionId: `txn_${id}`, checkout_id: id, status: 'captured' },
];

describe('the default outcome lookups answer from the checkout id', () => {
  it('payment: the checkout was authorized as txn_<id>, the id its default authorization answers, and captured', async () => {
    const id = randomUUID();
    expect(await lookup('payment', id)).toEqual(captured(id));

    const res = await post('payment', '/payments/authorize', charge(id));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'authorized',
      transactionId: `txn_${id}`,
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
    });
    const capture = await post('payment', `/payments/txn_${id}/capture`, {
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
    });
    expect(capture.status).toBe(200);
    expect(await registeredStub('payment', id)).toBeNull(); // no webhook on the happy path
  });

  it('payment: the one-shot charge answers txn_<id>, a transaction the default lookup does not name', async () => {
    // The lookup is stateless and cannot tell the flows apart (wiremock/README.md, "Outcome lookups").
    const id = randomUUID();
    const res = await post('payment', '/payments/process', charge(id));
    expect(await res.json()).toMatchObject({ status: 'success', transactionId: `txn_${id}` });
    expect(await lookup('payment', id)).toEqual(captured(id));
    expect(await registeredStub('payment', id)).toBeNull();
  });

  it('inventory: the checkout stock was deducted (the mock does not know the items)', async () => {
    const id = randomUUID();
    expect(await lookup('inventory', id)).toEqual([
      { checkout_id: id, status: 'deducted', items: [] },
    ]);

    expect((await post('inventory', '/inventory/deduct', deduct(id))).status).toBe(200);
    expect(await registeredStub('inventory', id)).toBeNull();
  });

  it('order: the checkout has order ord_<id>, the id its default create answers', async () => {
    const id = randomUUID();
    expect(await lookup('order', id)).toEqual([
      { orderId: `ord_${id}`, checkout_id: id, status: 'created' },
    ]);

    const res = await post('order', '/orders', order(id));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ orderId: `ord_${id}`, checkout_id: id, status: 'created' });
    expect(await registeredStub('order', id)).toBeNull();
  });

  it('answers 404 without a usable checkout id', async () => {
    for (const service of ['payment', 'inventory', 'order'] as const) {
      const base = `${wiremock[service]}${LOOKUPS[service].path}`;
      expect((await fetch(base)).status).toBe(404);
      expect((await fetch(`${base}?checkout_id=a%22b`)).status).toBe(404);
    }
  });
});

/** The payment call of each flow: the one-shot charge and the authorization. */
const PAYMENT_CALLS = ['/payments/process', '/payments/authorize'] as const;

describe('a fault that did not act makes its lookup answer "nothing there" for that checkout', () => {
  it.each(PAYMENT_CALLS)('payment-error: a 503 without a payment (%s)', async (path) => {
    const id = randomUUID();
    const other = randomUUID();
    const email = `payment-error+${id}@example.com`;

    const res = await post('payment', path, charge(id, email));
    expect(res.status).toBe(503);
    // The retry of the same call registers nothing new (the stub id is the checkout id).
    expect((await post('payment', path, charge(id, email))).status).toBe(503);

    expect(await untilNothingThere('payment', id)).toEqual([]);
    expect(await lookup('payment', other)).toEqual(captured(other));
    expect(await registeredStub('payment', id)).toMatchObject({
      id,
      priority: 1,
      metadata: { registeredBy: 'webhook' },
    });
  });

  it.each(PAYMENT_CALLS)(
    'payment-timeout-lost: no answer within the timeout, and no payment (%s)',
    async (path) => {
      const id = randomUUID();

      // Ended by our own timeout, not by an answer or a failed connection.
      await expect(
        post(
          'payment',
          path,
          charge(id, `payment-timeout-lost+${id}@example.com`),
          AbortSignal.timeout(500),
        ),
      ).rejects.toMatchObject({ name: 'TimeoutError' });

      expect(await untilNothingThere('payment', id)).toEqual([]);
      expect(await lookup('payment', randomUUID())).toHaveLength(1);
    },
  );

  it('prod_inventory_error: a 500 without a deduction', async () => {
    const id = randomUUID();
    const other = randomUUID();

    const res = await post('inventory', '/inventory/deduct', deduct(id, 'prod_inventory_error'));
    expect(res.status).toBe(500);

    expect(await untilNothingThere('inventory', id)).toEqual([]);
    expect(await lookup('inventory', other)).toEqual([
      { checkout_id: other, status: 'deducted', items: [] },
    ]);
  });

  it('order-error: a 503 without an order', async () => {
    const id = randomUUID();
    const other = randomUUID();

    const res = await post('order', '/orders', order(id, `order-error+${id}@example.com`));
    expect(res.status).toBe(503);

    expect(await untilNothingThere('order', id)).toEqual([]);
    expect(await lookup('order', other)).toEqual([
      { orderId: `ord_${other}`, checkout_id: other, status: 'created' },
    ]);
  });

  it('a fault at one service leaves the other services answering the default', async () => {
    const id = randomUUID();
    await post('payment', '/payments/process', charge(id, `payment-error+${id}@example.com`));
    await untilNothingThere('payment', id);

    expect(await lookup('inventory', id)).toHaveLength(1);
    expect(await lookup('order', id)).toHaveLength(1);
  });
});

describe('a payment fault that acted makes its lookup show what it did, under the transaction it answered', () => {
  const charged = (id: string) => ({ transactionId: `txn_${id}`, status: 'success' });
  const authorized = (id: string) => ({ transactionId: `txn_${id}`, status: 'authorized' });

  it.each([
    ['payment-timeout', '/payments/process', charged],
    ['payment-timeout', '/payments/authorize', authorized],
    ['payment-reset', '/payments/process', charged],
    ['payment-reset', '/payments/authorize', authorized],
  ] as const)('%s (%s)', async (trigger, path, held) => {
    const id = randomUUID();

    // Ended by our own timeout or by the reset: either way the service acted.
    await expect(
      post('payment', path, charge(id, `${trigger}+${id}@example.com`), AbortSignal.timeout(500)),
    ).rejects.toThrow();

    expect(await untilRegistered('payment', id)).toMatchObject({ id, priority: 1 });
    expect(await lookup('payment', id)).toEqual([
      { ...held(id), checkout_id: id, amount: 349.7, currency: 'BRL' },
    ]);
    expect(await listenersOfStubThatServed('payment', id)).toEqual(['webhook']);
  });
});
