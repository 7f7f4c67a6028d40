import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it, vi } from 'vitest';
import type { PaymentSecrets, RawCard } from '#lib/checkout/checkout.ts';
import { ServiceOutcomeUnknownError, ServiceRefusedError } from '#lib/checkout/service-errors.ts';
import { createInventoryClient } from '#lib/clients/inventory-client.ts';
import { createOrderClient } from '#lib/clients/order-client.ts';
import { createPaymentClient } from '#lib/clients/payment-client.ts';
import { ServiceHttpClient } from '#lib/clients/service-http-client.ts';

/**
 * The WireMock mappings and the real clients agree: every answer of the mocks, a success or a
 * refusal, repeats what its request sent (design §3, "Answers must belong to their request"),
 * so the clients take it at the first try. One try only: an answer the clients did not take as
 * this request's would end as an unknown outcome here instead of being retried into a pass.
 */
const wiremock = inject('wiremock');

const http = (service: 'payment' | 'inventory' | 'order') =>
  new ServiceHttpClient({
    service,
    baseUrl: wiremock[service],
    timeoutMs: 2_000,
    retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 },
  });
const payment = createPaymentClient(http('payment'));
const inventory = createInventoryClient(http('inventory'));
const order = createOrderClient(http('order'));

const CARD: RawCard = {
  type: 'credit_card',
  cardNumber: '4111111111111111',
  cardExpiry: '12/30',
  cardCvv: '123',
};
const items = [{ productId: 'prod_keyboard', quantity: 1, priceCents: 34_970 }];

const charge = (checkoutId: string, amountCents = 34_970, currency = 'BRL', card = CARD) =>
  payment.charge({
    checkoutId,
    amountCents,
    currency,
    card,
    customerEmail: 'customer@example.com',
  });

/** A lookup's expectation, asked until the webhooks of the calls before it have registered. */
const eventually = (check: () => Promise<void>) =>
  vi.waitFor(check, { timeout: 5_000, interval: 50 });

/** What a call that must fail threw (undefined if it did not fail). */
const errorOf = (call: Promise<unknown>) =>
  call.then(
    () => undefined,
    (e: unknown) => e,
  );

async function refusal(call: Promise<unknown>) {
  const error = await errorOf(call);
  expect(error).toBeInstanceOf(ServiceRefusedError);
  return error as ServiceRefusedError;
}

describe('the payment mappings echo checkout, amount and currency, which the client checks', () => {
  it.each([
    [34_970, 'BRL'],
    [150, 'JPY'],
    [1_234, 'KWD'],
  ])('charges %i minor units of %s and refunds them', async (amountCents, currency) => {
    const id = randomUUID();
    expect(await charge(id, amountCents, currency)).toEqual({ transactionId: `txn_${id}` });
    await payment.refund({
      checkoutId: id,
      transactionId: `txn_${id}`,
      amountCents,
      currency,
      reason: 'test',
    });
  });

  it.each([100_001, 1_234_567_891])(
    'refuses a charge of %i minor units (over 1000) for insufficient funds',
    async (amountCents) => {
      expect(await refusal(charge(randomUUID(), amountCents))).toMatchObject({
        reason: 'insufficient_funds',
      });
    },
  );

  it('refuses the declined test card', async () => {
    const declined = { ...CARD, cardNumber: '4000000000000002' };
    expect(await refusal(charge(randomUUID(), 34_970, 'BRL', declined))).toMatchObject({
      reason: 'card_declined',
    });
  });

  it('finds no payment for a checkout nothing was asked for, and the charge once made', async () => {
    const id = randomUUID();
    expect(await payment.findCharges(id)).toEqual([]);

    await charge(id);

    // The charge's webhook registers it a few ms after the answer.
    await eventually(async () =>
      expect(await payment.findCharges(id)).toEqual([
        { transactionId: `txn_${id}`, status: 'success', amountCents: 34_970, currency: 'BRL' },
      ]),
    );
  });
});

describe('the card-payment mappings echo what the client checks: authorize, capture, void', () => {
  const authorize = (
    checkoutId: string,
    instrument: PaymentSecrets['instrument'] = CARD,
    amountCents = 34_970,
    currency = 'BRL',
  ) =>
    payment.authorize({
      checkoutId,
      amountCents,
      currency,
      installments: { count: 1, firstCents: amountCents, otherCents: 0 },
      customerEmail: 'customer@example.com',
      payment: { instrument },
    });
  const token = (value: string) => ({ type: 'card_token', token: value }) as const;

  it.each([
    [34_970, 'BRL'],
    [150, 'JPY'],
    [1_234, 'KWD'],
  ])(
    'authorizes %i minor units of %s, captures them, and voids another authorization',
    async (amountCents, currency) => {
      const id = randomUUID();
      expect(await authorize(id, CARD, amountCents, currency)).toEqual({
        transactionId: `txn_${id}`,
      });
      await payment.capture({ checkoutId: id, transactionId: `txn_${id}`, amountCents, currency });

      const other = randomUUID();
      await authorize(other, CARD, amountCents, currency);
      await payment.void({ checkoutId: other, transactionId: `txn_${other}`, reason: 'test' });
    },
  );

  it('authorizes a token, and tells which card it stands for', async () => {
    const id = randomUUID();
    expect(await authorize(id, token('tok_mastercard'))).toEqual({
      transactionId: `txn_${id}`,
      card: { brand: 'mastercard', last4: '4444' },
    });
  });

  it.each([
    [
      'the declined test card',
      () => authorize(randomUUID(), { ...CARD, cardNumber: '4000000000000002' }),
      'card_declined',
    ],
    ['tok_declined', () => authorize(randomUUID(), token('tok_declined')), 'card_declined'],
    ['over 1000', () => authorize(randomUUID(), CARD, 100_001), 'insufficient_funds'],
  ])('refuses to authorize %s', async (_what, call, reason) => {
    expect(await refusal(call())).toMatchObject({ reason });
  });

  it('refuses the capture of tok_capture_refused (its authorization expired)', async () => {
    const id = randomUUID();
    const { transactionId } = await authorize(id, token('tok_capture_refused'));
    expect(transactionId).toBe(`auth_capture_refused_${id}`);

    const capture = payment.capture({
      checkoutId: id,
      transactionId,
      amountCents: 34_970,
      currency: 'BRL',
    });
    expect(await refusal(capture)).toMatchObject({ reason: 'authorization_expired' });
  });

  it('fails the void of tok_void_fails (500): an outcome the client does not take as done', async () => {
    const id = randomUUID();
    const { transactionId } = await authorize(id, token('tok_void_fails'));
    const voided = payment.void({ checkoutId: id, transactionId, reason: 'test' });
    expect(await errorOf(voided)).toBeInstanceOf(ServiceOutcomeUnknownError);
  });
});

describe('the inventory and order mappings echo the checkout id', () => {
  it('deducts and releases stock, and finds the deduction', async () => {
    const id = randomUUID();
    await inventory.deduct({ checkoutId: id, items });
    await inventory.release({ checkoutId: id, items });
    await eventually(async () =>
      expect(await inventory.findDeductions(id)).toEqual([{ status: 'released' }]),
    );
  });

  it('refuses a product out of stock', async () => {
    const outOfStock = [{ productId: 'prod_out_of_stock', quantity: 1, priceCents: 1_000 }];
    expect(
      await refusal(inventory.deduct({ checkoutId: randomUUID(), items: outOfStock })),
    ).toMatchObject({ reason: 'out_of_stock' });
  });

  const create = (checkoutId: string, zip_code = '01304-001') =>
    order.create({
      checkoutId,
      customerEmail: 'customer@example.com',
      shippingAddress: {
        street: 'Rua Augusta',
        number: '1000',
        city: 'São Paulo',
        state: 'SP',
        zip_code,
      },
      items,
      totalCents: 34_970,
      currency: 'BRL',
      paymentId: `txn_${checkoutId}`,
    });

  it('creates the order, and finds it', async () => {
    const id = randomUUID();
    expect(await order.findOrders(id)).toEqual([]);
    expect(await create(id)).toEqual({ orderId: `ord_${id}` });
    await eventually(async () =>
      expect(await order.findOrders(id)).toEqual([{ orderId: `ord_${id}`, status: 'created' }]),
    );
  });

  it('refuses an address it cannot validate', async () => {
    expect(await refusal(create(randomUUID(), '00000-000'))).toMatchObject({
      reason: 'invalid_address',
    });
  });
});
