import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, vi } from 'vitest';

/**
 * The card-payment mappings of the payment WireMock (`PAYMENT_CAPTURE=after_order`: authorize,
 * capture, void), asked directly over HTTP: every answer repeats what its request sent, a token's
 * authorization says which card it was, every trigger of the one-shot charge answers an
 * authorization alike, and the trigger tokens mark the transaction whose capture or void fails.
 * (`wiremock-echoes.test.ts` sends the same through the real client.)
 */
const payment = inject('wiremock').payment;

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function post(path: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
  const res = await fetch(`${payment}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify(body),
    signal,
  });
  expect(res.headers.get('content-type')).toContain('application/json');
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const CARD = {
  type: 'credit_card',
  card_number: '4111111111111111',
  card_expiry: '12/30',
  card_cvv: '123',
};

type Body = Record<string, unknown>;

/** What the checkout sends to authorize (and, without `installments`, to charge). */
const authorization = (checkoutId: string, change: Body = {}): Body => ({
  checkout_id: checkoutId,
  amount: 349.7,
  currency: 'BRL',
  installments: 1,
  customer_email: 'customer@example.com',
  payment_method: CARD,
  ...change,
});
const token = (value: string) => ({ payment_method: { type: 'card_token', token: value } });

const authorize = (checkoutId: string, change?: Body) =>
  post('/payments/authorize', authorization(checkoutId, change));
const capture = (transactionId: string, checkoutId: string, amount = 349.7, currency = 'BRL') =>
  post(`/payments/${transactionId}/capture`, { checkout_id: checkoutId, amount, currency });
const voidOf = (transactionId: string, checkoutId: string) =>
  post(`/payments/${transactionId}/void`, {
    checkout_id: checkoutId,
    reason: 'inventory_out_of_stock',
  });

/** The fields every payment answer repeats of its request. */
const echoOf = (body: Body) => ({
  checkout_id: body.checkout_id,
  amount: body.amount,
  currency: body.currency,
});

async function lookup(checkoutId: string) {
  const res = await fetch(`${payment}/payments?checkout_id=${checkoutId}`);
  return ((await res.json()) as { payments: unknown[] }).payments;
}

describe('an authorization', () => {
  it.each([
    [349.7, 'BRL'],
    [150, 'JPY'],
    [1.234, 'KWD'],
  ])(
    'of %d %s is txn_<checkout_id>, repeating checkout, amount and currency',
    async (amount, currency) => {
      const id = randomUUID();
      const sent = authorization(id, { amount, currency });
      const { status, json } = await post('/payments/authorize', sent);

      expect(status).toBe(200);
      expect(json).toEqual({
        status: 'authorized',
        transactionId: `txn_${id}`,
        ...echoOf(sent),
        expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      });
      // A raw card's answer says nothing of the card: the checkout knows it from the number.
      expect(json).not.toHaveProperty('card');
      expect(Date.parse(String(json.expiresAt))).toBeGreaterThan(Date.now() + 6 * 86_400_000);
      // The same checkout authorized again is the same transaction, as an idempotent service's.
      expect((await post('/payments/authorize', sent)).json.transactionId).toBe(`txn_${id}`);
    },
  );

  it.each([
    ['tok_visa', 'visa', '4242'],
    ['tok_mastercard', 'mastercard', '4444'],
    ['tok_amex', 'amex', '8431'],
    ['tok_elo', 'elo', '7013'],
    ['tok_from_the_sdk_9f8e7d', 'visa', '4242'],
  ])('with token %s says the card was %s ending %s', async (value, brand, last4) => {
    const id = randomUUID();
    const { status, json } = await authorize(id, token(value));

    expect(status).toBe(200);
    expect(json).toMatchObject({ status: 'authorized', transactionId: `txn_${id}` });
    expect(json.card).toEqual({ brand, last4 });
  });
});

/** How a payment call ended, as the checkout can tell: an answer, a reset, or no answer in time. */
async function outcomeOf(path: string, body: Body) {
  try {
    const { status, json } = await post(path, body, AbortSignal.timeout(500));
    expect(json).toMatchObject(echoOf(body));
    return { status, error: json.error };
  } catch (error) {
    const { name, cause } = error as { name: string; cause?: { code?: string } };
    return name === 'TimeoutError' ? 'no answer within 0.5 s' : `failed: ${cause?.code ?? name}`;
  }
}

describe('each trigger of the one-shot charge answers an authorization alike', () => {
  const email = (local: string) => (id: string) => ({
    customer_email: `${local}+${id}@example.com`,
  });
  it.each([
    [
      'the declined card',
      () => ({ payment_method: { ...CARD, card_number: '4000000000000002' } }),
      { status: 422, error: 'card_declined' },
    ],
    [
      'an amount over 1000',
      () => ({ amount: 1000.01 }),
      { status: 422, error: 'insufficient_funds' },
    ],
    ['payment-error', email('payment-error'), { status: 503, error: 'service_unavailable' }],
    ['payment-timeout', email('payment-timeout'), 'no answer within 0.5 s'],
    ['payment-timeout-lost', email('payment-timeout-lost'), 'no answer within 0.5 s'],
    ['payment-reset', email('payment-reset'), 'failed: ECONNRESET'],
    ['refund-error', email('refund-error'), { status: 200, error: undefined }],
  ] as const)('%s', async (_trigger, change, expected) => {
    const id = randomUUID();
    const { installments: _, ...charge } = authorization(id, change(id));

    const charged = await outcomeOf('/payments/process', charge);
    const authorized = await outcomeOf('/payments/authorize', authorization(id, change(id)));

    expect(authorized).toEqual(charged);
    expect(authorized).toEqual(expected);
  });

  it('refund-error: the undo of either fails alike (the refund of the charge, the void of the authorization)', async () => {
    const id = randomUUID();
    const change = { customer_email: `refund-error+${id}@example.com` };
    const { installments: _, ...sent } = authorization(id, change);
    const charge = await post('/payments/process', sent);
    const held = await authorize(id, change);
    expect(charge.json.transactionId).toBe('txn_refund_fails');
    expect(held.json.transactionId).toBe(`auth_void_fails_${id}`);

    const refund = await post('/payments/txn_refund_fails/refund', {
      amount: 349.7,
      currency: 'BRL',
      checkout_id: id,
      reason: 'inventory_out_of_stock',
    });
    const voided = await voidOf(`auth_void_fails_${id}`, id);

    expect([refund.status, refund.json.error]).toEqual([500, 'internal_error']);
    expect([voided.status, voided.json.error]).toEqual([refund.status, refund.json.error]);
  });
});

describe('a capture and a void', () => {
  it.each([
    [349.7, 'BRL'],
    [150, 'JPY'],
    [1.234, 'KWD'],
  ])(
    'capture %d %s, repeating the transaction of the path, checkout, amount and currency',
    async (amount, currency) => {
      const id = randomUUID();
      const { status, json } = await capture(`txn_${id}`, id, amount, currency);

      expect(status).toBe(200);
      expect(json).toEqual({
        status: 'captured',
        transactionId: `txn_${id}`,
        checkout_id: id,
        amount,
        currency,
      });
    },
  );

  it('void, repeating the transaction and the checkout (a void sends no amount)', async () => {
    const id = randomUUID();
    const { status, json } = await voidOf(`txn_${id}`, id);

    expect(status).toBe(200);
    expect(json).toEqual({ status: 'voided', transactionId: `txn_${id}`, checkout_id: id });
  });
});

describe('the card-payment test values', () => {
  it('tok_declined: the authorization is declined, repeating what was sent', async () => {
    const id = randomUUID();
    const sent = authorization(id, token('tok_declined'));
    const { status, json } = await post('/payments/authorize', sent);

    expect(status).toBe(422);
    expect(json).toEqual({
      status: 'failed',
      error: 'card_declined',
      message: 'The card was declined',
      ...echoOf(sent),
    });
  });

  it('tok_capture_timeout: the capture answers too late, and the lookup shows it captured', async () => {
    const id = randomUUID();
    const held = await authorize(id, token('tok_capture_timeout'));
    const transactionId = `auth_capture_timeout_${id}`;
    expect(held.json).toMatchObject({ status: 'authorized', transactionId });

    await expect(
      post(
        `/payments/${transactionId}/capture`,
        { checkout_id: id, amount: 349.7, currency: 'BRL' },
        AbortSignal.timeout(1_500),
      ),
    ).rejects.toMatchObject({ name: 'TimeoutError' });

    // Its webhook tells the lookup, under this transaction (the default would name txn_<id>).
    await vi.waitFor(
      async () =>
        expect(await lookup(id)).toEqual([
          { transactionId, checkout_id: id, status: 'captured', amount: 349.7, currency: 'BRL' },
        ]),
      { timeout: 5_000, interval: 50 },
    );
  });

  it('tok_capture_refused: the capture is refused, the authorization having expired', async () => {
    const id = randomUUID();
    const held = await authorize(id, token('tok_capture_refused'));
    const transactionId = `auth_capture_refused_${id}`;
    expect(held.json).toMatchObject({ status: 'authorized', transactionId });

    const { status, json } = await capture(transactionId, id, 150, 'JPY');

    expect(status).toBe(422);
    expect(json).toEqual({
      status: 'failed',
      error: 'authorization_expired',
      message: 'The authorization has expired',
      transactionId,
      checkout_id: id,
      amount: 150,
      currency: 'JPY',
    });
  });

  it('tok_void_fails: the void answers 500, repeating the transaction and the checkout', async () => {
    const id = randomUUID();
    const held = await authorize(id, token('tok_void_fails'));
    const transactionId = `auth_void_fails_${id}`;
    expect(held.json).toMatchObject({ status: 'authorized', transactionId });

    const { status, json } = await voidOf(transactionId, id);

    expect(status).toBe(500);
    expect(json).toEqual({
      error: 'internal_error',
      message: 'Void failed',
      transactionId,
      checkout_id: id,
    });
  });

  it('a marked transaction fails only the step it names', async () => {
    const id = randomUUID();
    const answers = await Promise.all([
      capture(`auth_void_fails_${id}`, id),
      voidOf(`auth_capture_refused_${id}`, id),
      voidOf(`auth_capture_timeout_${id}`, id),
    ]);

    expect(answers.map((a) => [a.status, a.json.status])).toEqual([
      [200, 'captured'],
      [200, 'voided'],
      [200, 'voided'],
    ]);
  });
});
