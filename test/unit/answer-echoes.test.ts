import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RawCard, SagaStep } from '#lib/checkout/checkout.ts';
import {
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
  ServiceUnavailableError,
} from '#lib/checkout/service-errors.ts';
import { createInventoryClient } from '#lib/clients/inventory-client.ts';
import { createOrderClient } from '#lib/clients/order-client.ts';
import { createPaymentClient } from '#lib/clients/payment-client.ts';
import { ServiceHttpClient } from '#lib/clients/service-http-client.ts';

/**
 * Every answer is checked against its request (design §3, "Answers must belong to their
 * request"), over real HTTP on loopback: what the caller ends with when an answer repeats
 * another request's checkout, amount or transaction, or leaves out what it must repeat.
 */

interface Received {
  url: string | undefined;
  key: string | undefined;
  body: Record<string, unknown>;
  connection: Socket;
}

type Answer = { status: number; body: unknown };
type Responder = (body: Record<string, unknown>, url: string) => Answer;

const servers: http.Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** The raw bytes of a whole, framed JSON answer on a kept-alive connection. */
function rawAnswer({ status, body }: Answer, key?: string): string {
  const text = JSON.stringify(body);
  return [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`,
    'Content-Type: application/json',
    ...(key === undefined ? [] : [`Idempotency-Key: ${key}`]),
    `Content-Length: ${Buffer.byteLength(text)}`,
    'Connection: keep-alive',
    '',
    text,
  ].join('\r\n');
}

/**
 * A service on a free port answering each request with `respond`. With `duplicateFirst`, it
 * writes its first answer twice, the copy late: once the next request has arrived on that
 * connection, ahead of that request's own answer (which follows 20 ms later).
 */
async function startService(respond: Responder, { duplicateFirst = false, echoKey = false } = {}) {
  const received: Received[] = [];
  const lateCopies = new Map<Socket, string>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const connection = req.socket;
      received.push({
        url: req.url,
        key: req.headers['idempotency-key'] as string,
        body,
        connection,
      });
      const answer = respond(body, req.url ?? '');
      const key = echoKey ? (req.headers['idempotency-key'] as string | undefined) : undefined;
      const copy = lateCopies.get(connection);
      if (copy !== undefined) {
        lateCopies.delete(connection);
        connection.write(copy);
      } else if (duplicateFirst && received.length === 1) {
        lateCopies.set(connection, rawAnswer(answer, key));
      }
      setTimeout(
        () => {
          res.writeHead(answer.status, {
            'content-type': 'application/json',
            ...(key === undefined ? {} : { 'idempotency-key': key }),
          });
          res.end(JSON.stringify(answer.body));
        },
        copy === undefined ? 0 : 20,
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received };
}

const clientOf = (service: SagaStep, baseUrl: string) =>
  new ServiceHttpClient({
    service,
    baseUrl,
    timeoutMs: 2_000,
    retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

const CARD: RawCard = {
  type: 'credit_card',
  cardNumber: '4111111111111111',
  cardExpiry: '12/30',
  cardCvv: '123',
};
const DECLINED = '4000000000000002';

/** A payment service that keeps its word: it echoes what it was sent and declines one card. */
const honestPayments: Responder = (body, url) => {
  const echo = { checkout_id: body.checkout_id, amount: body.amount, currency: body.currency };
  const refund = /^\/payments\/([^/]+)\/refund$/.exec(url);
  if (refund)
    return { status: 200, body: { status: 'refunded', transactionId: refund[1], ...echo } };
  const card = body.payment_method as { card_number?: string } | undefined;
  if (card?.card_number === DECLINED)
    return { status: 422, body: { status: 'failed', error: 'card_declined', ...echo } };
  return {
    status: 200,
    body: { status: 'success', transactionId: `txn_${body.checkout_id}`, ...echo },
  };
};

const charge = (
  payment: ReturnType<typeof createPaymentClient>,
  checkoutId: string,
  card = CARD,
  amountCents = 34_970,
  currency = 'BRL',
) => payment.charge({ checkoutId, amountCents, currency, card, customerEmail: 'c@example.com' });

describe('a service that writes one answer twice on a kept-alive connection', () => {
  it('does not complete the next checkout’s declined charge on the previous one’s transaction', async () => {
    const service = await startService(honestPayments, { duplicateFirst: true });
    const payment = createPaymentClient(clientOf('payment', service.url));

    expect(await charge(payment, 'checkout-a')).toEqual({ transactionId: 'txn_checkout-a' });
    const outcome = await charge(payment, 'checkout-b', { ...CARD, cardNumber: DECLINED }).catch(
      (error: unknown) => error,
    );

    expect(outcome).not.toEqual({ transactionId: 'txn_checkout-a' });
    // Its own answer, a decline after a try that reached the service, is not final either:
    // the checkout stays open until a lookup settles it.
    expect(outcome).toBeInstanceOf(ServiceOutcomeUnknownError);
    const tries = service.received.filter((r) => r.body.checkout_id === 'checkout-b');
    expect(tries.length).toBeGreaterThan(1);
    expect(new Set(tries.map((r) => r.key))).toEqual(new Set(['checkout-b:charge']));
    // The scenario happened: checkout-b's first try went out on checkout-a's connection.
    expect(tries[0]?.connection).toBe(service.received[0]?.connection);
  });

  it('retries the next checkout’s charge under its key and ends with its own transaction', async () => {
    const service = await startService(honestPayments, { duplicateFirst: true });
    const payment = createPaymentClient(clientOf('payment', service.url));

    await charge(payment, 'checkout-a');
    expect(await charge(payment, 'checkout-b')).toEqual({ transactionId: 'txn_checkout-b' });
    const tries = service.received.filter((r) => r.body.checkout_id === 'checkout-b');
    expect(tries.map((r) => r.key)).toEqual(['checkout-b:charge', 'checkout-b:charge']);
    expect(tries[0]?.connection).toBe(service.received[0]?.connection);
  });
});

describe('lookups on a connection of their own', () => {
  it('never read a copy of another checkout’s empty lookup as their own: B’s charge is found', async () => {
    // A was never charged; its empty answer is written twice. B was charged.
    const service = await startService(
      (_body, url) =>
        url.includes('checkout_id=A')
          ? { status: 200, body: { payments: [] } }
          : {
              status: 200,
              body: { payments: [{ transactionId: 'txn_B', checkout_id: 'B', status: 'success' }] },
            },
      { duplicateFirst: true },
    );
    const payment = createPaymentClient(clientOf('payment', service.url));
    expect(await payment.findCharges('A')).toEqual([]);

    expect(await payment.findCharges('B')).toEqual([{ transactionId: 'txn_B', status: 'success' }]);
    expect(service.received[1]?.connection).not.toBe(service.received[0]?.connection);
  });
});

describe('two answers of one checkout: an undo on a connection of its own, the key where echoed', () => {
  const items = [{ productId: 'p', quantity: 1, priceCents: 100 }];

  it('does not take a copy of the deduct’s success as the release’s: the stock would stay held', async () => {
    // The deduct's answer is written twice; the release that follows on the socket first
    // reads the copy (same checkout id), then its own answer: a refusal.
    const service = await startService(
      (_body, url) =>
        url === '/inventory/deduct'
          ? { status: 200, body: { success: true, checkout_id: 'c-1' } }
          : { status: 409, body: { success: false, error: 'nothing_to_release' } },
      { duplicateFirst: true, echoKey: true },
    );
    const inventory = createInventoryClient(clientOf('inventory', service.url));
    await inventory.deduct({ checkoutId: 'c-1', items });

    const error = await failure(inventory.release({ checkoutId: 'c-1', items }));

    // Not a success: an undo goes on a connection of its own, so the copy waiting on the
    // deduct's never reaches it, and it gets its own answer (here a refusal).
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(service.received.map((r) => r.key)).toEqual(['c-1:deduct', 'c-1:release']);
    expect(service.received[1]?.connection).not.toBe(service.received[0]?.connection);
  });

  it('reads an answer that echoes another request’s key as another request’s', async () => {
    const service = await startService(() => ({ status: 200, body: { success: true } }), {
      duplicateFirst: true,
      echoKey: true,
    });
    const inventory = createInventoryClient(clientOf('inventory', service.url));
    await inventory.deduct({ checkoutId: 'c-1', items });
    // The next deduct (another checkout) on the kept-alive socket reads the copy first.
    await inventory.deduct({ checkoutId: 'c-2', items });
    expect(service.received.map((r) => r.key)).toEqual(['c-1:deduct', 'c-2:deduct', 'c-2:deduct']);
  });

  it('accepts an answer that echoes its own key', async () => {
    const service = await startService(() => ({ status: 200, body: { success: true } }), {
      echoKey: true,
    });
    await createInventoryClient(clientOf('inventory', service.url)).release({
      checkoutId: 'c-1',
      items,
    });
    expect(service.received).toHaveLength(1);
  });
});

describe('payment answers must echo checkout, amount and currency', () => {
  const success = { status: 'success', transactionId: 'txn_1' };
  const echo = { checkout_id: 'c-1', amount: 349.7, currency: 'BRL' };

  it('takes a success that repeats every field as sent', async () => {
    const service = await startService(() => ({ status: 200, body: { ...success, ...echo } }));
    const payment = createPaymentClient(clientOf('payment', service.url));
    expect(await charge(payment, 'c-1')).toEqual({ transactionId: 'txn_1' });
  });

  it.each([
    ['no checkout id', { ...success, amount: 349.7, currency: 'BRL' }, 'checkout_id'],
    ['another checkout id', { ...success, ...echo, checkout_id: 'c-2' }, 'checkout_id'],
    ['no amount', { ...success, checkout_id: 'c-1', currency: 'BRL' }, 'amount'],
    ['another amount', { ...success, ...echo, amount: 349.71 }, 'amount'],
    ['an amount off by float noise', { ...success, ...echo, amount: 349.70000000000005 }, 'amount'],
    ['the amount as text', { ...success, ...echo, amount: '349.70' }, 'amount'],
    ['another currency', { ...success, ...echo, currency: 'USD' }, 'currency'],
  ])(
    'reads a success with %s as unknown, after retrying under the same key',
    async (_case, body, field) => {
      const service = await startService(() => ({ status: 200, body }));
      const payment = createPaymentClient(clientOf('payment', service.url));
      const error = await failure(charge(payment, 'c-1'));
      expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
      expect(error).toMatchObject({ reason: `echo_mismatch_${field}` });
      expect(service.received.map((r) => r.key)).toEqual([
        'c-1:charge',
        'c-1:charge',
        'c-1:charge',
      ]);
    },
  );

  it('compares amounts in minor units of the currency: 150 JPY, 1.234 KWD', async () => {
    const service = await startService(honestPayments);
    const payment = createPaymentClient(clientOf('payment', service.url));
    expect(await charge(payment, 'c-jpy', CARD, 150, 'JPY')).toEqual({
      transactionId: 'txn_c-jpy',
    });
    expect(await charge(payment, 'c-kwd', CARD, 1_234, 'KWD')).toEqual({
      transactionId: 'txn_c-kwd',
    });
    expect(service.received.map((r) => r.body.amount)).toEqual([150, 1.234]);
  });

  it('refuses on a decline that repeats the request', async () => {
    const service = await startService(honestPayments);
    const payment = createPaymentClient(clientOf('payment', service.url));
    const error = await failure(charge(payment, 'c-1', { ...CARD, cardNumber: DECLINED }));
    expect(error).toBeInstanceOf(ServiceRefusedError);
    expect(error).toMatchObject({ reason: 'card_declined' });
    expect(service.received).toHaveLength(1);
  });

  it.each([
    ['repeats nothing', { status: 'failed', error: 'card_declined' }],
    [
      'repeats another checkout',
      { status: 'failed', error: 'card_declined', ...echo, checkout_id: 'c-2' },
    ],
    ['is not JSON (a proxy’s page)', 'Bad Request'],
  ])('never reads a 422 that %s as a refusal: unknown, retried', async (_case, body) => {
    const service = await startService(() => ({ status: 422, body }));
    const payment = createPaymentClient(clientOf('payment', service.url));
    const error = await failure(charge(payment, 'c-1'));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(service.received).toHaveLength(3);
  });

  it('still reads a 401 without echoes as our credentials turned down', async () => {
    const service = await startService(() => ({ status: 401, body: { error: 'unauthorized' } }));
    const payment = createPaymentClient(clientOf('payment', service.url));
    const error = await failure(charge(payment, 'c-1'));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({ reason: 'credentials_rejected_401' });
  });

  it('refunds only on an answer that repeats the transaction it was sent', async () => {
    const refund = (payment: ReturnType<typeof createPaymentClient>) =>
      payment.refund({
        checkoutId: 'c-1',
        transactionId: 'txn_1',
        amountCents: 34_970,
        currency: 'BRL',
        reason: 'out_of_stock',
      });
    const honest = await startService(honestPayments);
    await refund(createPaymentClient(clientOf('payment', honest.url)));
    expect(honest.received.map((r) => r.url)).toEqual(['/payments/txn_1/refund']);

    const other = await startService(() => ({
      status: 200,
      body: { status: 'refunded', transactionId: 'txn_2', ...echo },
    }));
    const error = await failure(refund(createPaymentClient(clientOf('payment', other.url))));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(error).toMatchObject({ reason: 'echo_mismatch_transactionId' });
  });
});

describe('lookups and inventory and order answers are checked wherever they echo', () => {
  const payments = (entries: unknown[]) => ({ status: 200, body: { payments: entries } });

  it('takes a payment lookup whose entries are this checkout’s or do not say', async () => {
    const service = await startService(() =>
      payments([
        { transactionId: 'txn_1', checkout_id: 'c-1', status: 'success' },
        { transactionId: 'txn_0', status: 'failed' },
      ]),
    );
    const payment = createPaymentClient(clientOf('payment', service.url));
    expect(await payment.findCharges('c-1')).toEqual([
      { transactionId: 'txn_1', status: 'success' },
      { transactionId: 'txn_0', status: 'failed' },
    ]);
  });

  it('leaves the outcome open when a payment lookup lists another checkout’s charge', async () => {
    const service = await startService(() =>
      payments([{ transactionId: 'txn_2', checkout_id: 'c-2', status: 'success' }]),
    );
    const payment = createPaymentClient(clientOf('payment', service.url));
    const error = await failure(payment.findCharges('c-1'));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
  });

  it.each([
    ['a deduction', { success: true, checkout_id: 'c-2' }],
    ['an out-of-stock refusal', { success: false, error: 'out_of_stock', checkout_id: 'c-2' }],
  ])('reads %s for another checkout as unknown', async (_case, body) => {
    const status = body.success ? 200 : 409;
    const service = await startService(() => ({ status, body }));
    const inventory = createInventoryClient(clientOf('inventory', service.url));
    const items = [{ productId: 'p', quantity: 1, priceCents: 100 }];
    const error = await failure(inventory.deduct({ checkoutId: 'c-1', items }));
    expect(error).toBeInstanceOf(ServiceOutcomeUnknownError);
    expect(service.received).toHaveLength(3);
  });

  it('takes inventory answers that do not echo: a deduction, a refusal', async () => {
    const items = [{ productId: 'p', quantity: 1, priceCents: 100 }];
    const ok = await startService(() => ({ status: 200, body: { success: true } }));
    await createInventoryClient(clientOf('inventory', ok.url)).deduct({ checkoutId: 'c-1', items });
    const no = await startService(() => ({ status: 409, body: { error: 'out_of_stock' } }));
    const error = await failure(
      createInventoryClient(clientOf('inventory', no.url)).deduct({ checkoutId: 'c-1', items }),
    );
    expect(error).toBeInstanceOf(ServiceRefusedError);
  });

  const createOrder = (url: string) =>
    createOrderClient(clientOf('order', url)).create({
      checkoutId: 'c-1',
      customerEmail: 'c@example.com',
      shippingAddress: { street: 's', number: '1', city: 'c', state: 'SP', zip_code: '1' },
      items: [],
      totalCents: 0,
      currency: 'BRL',
      paymentId: 'txn_1',
    });

  it.each([
    ['an order for another checkout', { orderId: 'ord_2', checkout_id: 'c-2' }, createOrder],
    [
      'an order lookup of another checkout',
      { checkout_id: 'c-2', orders: [] },
      (url: string) => createOrderClient(clientOf('order', url)).findOrders('c-1'),
    ],
    [
      'a deductions lookup with another checkout’s entry',
      { deductions: [{ checkout_id: 'c-2', status: 'deducted' }] },
      (url: string) => createInventoryClient(clientOf('inventory', url)).findDeductions('c-1'),
    ],
  ])('reads %s as unknown', async (_case, body, call) => {
    const service = await startService(() => ({ status: 200, body }));
    expect(await failure(call(service.url))).toBeInstanceOf(ServiceOutcomeUnknownError);
  });
});
