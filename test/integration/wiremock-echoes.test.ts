import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { PaymentCard } from '#lib/checkout/checkout.ts';
import { ServiceRefusedError } from '#lib/checkout/service-errors.ts';
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

const CARD: PaymentCard = {
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

async function refusal(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
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

  it('finds the default charge of a checkout', async () => {
    const id = randomUUID();
    expect(await payment.findCharges(id)).toEqual([
      { transactionId: `txn_${id}`, status: 'success' },
    ]);
  });
});

describe('the inventory and order mappings echo the checkout id', () => {
  it('deducts and releases stock, and finds the deduction', async () => {
    const id = randomUUID();
    await inventory.deduct({ checkoutId: id, items });
    await inventory.release({ checkoutId: id, items });
    expect(await inventory.findDeductions(id)).toEqual([{ status: 'deducted' }]);
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
    expect(await create(id)).toEqual({ orderId: `ord_${id}` });
    expect(await order.findOrders(id)).toEqual([{ orderId: `ord_${id}`, status: 'created' }]);
  });

  it('refuses an address it cannot validate', async () => {
    expect(await refusal(create(randomUUID(), '00000-000'))).toMatchObject({
      reason: 'invalid_address',
    });
  });
});
