import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SagaStep } from '#lib/checkout/checkout.ts';
import { installmentPlan } from '#lib/checkout/installments.ts';
import type { CallOptions } from '#lib/checkout/ports.ts';
import { ServiceOutcomeUnknownError, ServiceRefusedError } from '#lib/checkout/service-errors.ts';
import { createInventoryClient } from '#lib/clients/inventory-client.ts';
import { createPaymentClient } from '#lib/clients/payment-client.ts';
import { ServiceHttpClient } from '#lib/clients/service-http-client.ts';
import { useCatalogDoubles } from '../support/catalog-double.ts';

/**
 * The payment client's Pix, boleto and cancel, the late round's keys and the lookup's new
 * fields, over real HTTP on loopback: what is sent, and which answers are taken as the request's.
 */

// Loopback doubles closed after every test: they serve any handler, not only a catalog's.
const { serving } = useCatalogDoubles();

interface Received {
  method: string | undefined;
  url: string | undefined;
  key: string | undefined;
  body: Record<string, unknown>;
  connection: Socket;
}

type Responder = (body: Record<string, unknown>, url: string) => { status: number; body: unknown };

/** A service answering each request with `respond`, keeping what it received. */
async function startService(respond: Responder) {
  const received: Received[] = [];
  const url = await serving((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const { method, url: path, socket: connection } = req;
      received.push({
        method,
        url: path,
        key: req.headers['idempotency-key'] as string,
        body,
        connection,
      });
      const answer = respond(body, path ?? '');
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  return { url, received };
}

/** One retry: an answer that is not the request's is asked for again under the same key. */
const RETRY = { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 };
const clientOf = (service: SagaStep, baseUrl: string) =>
  new ServiceHttpClient({ service, baseUrl, timeoutMs: 2_000, retry: RETRY });

/** Expects `call` to fail with an error of `type` that has `fields`. */
async function expectFailure(
  call: Promise<unknown>,
  type: new (...args: never) => Error,
  fields: object = {},
) {
  await expect(call).rejects.toBeInstanceOf(type);
  await expect(call).rejects.toMatchObject(fields);
}

const QR = '00020101021226850014br.gov.bcb.pix2563pix.example.com/qr/v2/cobv/9d36b84f';
const BARCODE = '00191100000000349701234170000000000012345000';
const DIGITABLE = '00191.23417 00000.000001 00001.234505 1 10000000034970';
const EXPIRES_AT = '2026-11-24T12:30:00.000Z';
const DUE_DATE = '2026-11-27';

/** A payment service that keeps its word: it issues, cancels and refunds, echoing as sent. */
const honestPayments: Responder = (body, url) => {
  const echo = { checkout_id: body.checkout_id, amount: body.amount, currency: body.currency };
  const acted = /^\/payments\/([^/]+)\/(cancel|refund)$/.exec(url);
  if (acted?.[2] === 'cancel')
    return {
      status: 200,
      body: { status: 'cancelled', transactionId: acted[1], checkout_id: body.checkout_id },
    };
  if (acted) return { status: 200, body: { status: 'refunded', transactionId: acted[1], ...echo } };
  if (url === '/payments/pix')
    return {
      status: 200,
      body: {
        status: 'pending',
        transactionId: `pix_${body.checkout_id}`,
        qr_code: QR,
        expires_at: body.expires_at,
        ...echo,
      },
    };
  return {
    status: 200,
    body: {
      status: 'pending',
      transactionId: `bol_${body.checkout_id}`,
      barcode: BARCODE,
      digitable_line: DIGITABLE,
      url: `https://boleto.example.com/bol_${body.checkout_id}`,
      due_date: body.due_date,
      // A boleto's request sends no currency; the service may still say it.
      ...echo,
      currency: 'BRL',
    },
  };
};

/** The honest service's answers with `change`: a field left out, or said otherwise. */
const honestBut =
  (change: object): Responder =>
  (body, url) => {
    const answer = honestPayments(body, url);
    return { ...answer, body: { ...(answer.body as object), ...change } };
  };

const createPix = (url: string, options?: CallOptions) =>
  createPaymentClient(clientOf('payment', url)).createPix(
    {
      checkoutId: 'c-1',
      amountCents: 34_970,
      customerEmail: 'c@example.com',
      customerDocument: '52998224725',
      expiresAt: EXPIRES_AT,
    },
    options,
  );

const createBoleto = (url: string) =>
  createPaymentClient(clientOf('payment', url)).createBoleto({
    checkoutId: 'c-1',
    amountCents: 34_970,
    customerEmail: 'c@example.com',
    customerName: 'Maria da Silva',
    customerDocument: '52998224725',
    customerAddress: ADDRESS,
    dueDate: DUE_DATE,
  });

/** The payer's address, as the checkout's shipping address holds it. */
const ADDRESS = {
  street: 'Rua das Flores',
  number: '123',
  neighborhood: 'Jardim Paulista',
  city: 'São Paulo',
  state: 'SP',
  zip_code: '01234-567',
};

const cancel = (url: string) =>
  createPaymentClient(clientOf('payment', url)).cancel({
    checkoutId: 'c-1',
    transactionId: 'pix_c-1',
    reason: 'payment_expired',
  });

describe('a Pix or boleto issued', () => {
  it.each([
    {
      what: 'a Pix: the amount in BRL with its expiry, under <id>:pix',
      issue: (url: string) => createPix(url),
      image: { qr_code_base64: 'iVBORw0KGgo=' },
      issued: {
        transactionId: 'pix_c-1',
        instructions: {
          method: 'pix',
          qrCode: QR,
          qrCodeBase64: 'iVBORw0KGgo=',
          expiresAt: EXPIRES_AT,
        },
      },
      sent: {
        url: '/payments/pix',
        key: 'c-1:pix',
        body: {
          checkout_id: 'c-1',
          amount: 349.7,
          currency: 'BRL',
          customer_email: 'c@example.com',
          customer_document: '52998224725',
          expires_at: EXPIRES_AT,
        },
      },
    },
    {
      what: 'a boleto: the payer and due date, no currency, under <id>:boleto',
      issue: createBoleto,
      image: {},
      issued: {
        transactionId: 'bol_c-1',
        instructions: {
          method: 'boleto',
          barcode: BARCODE,
          digitableLine: DIGITABLE,
          url: 'https://boleto.example.com/bol_c-1',
          dueDate: DUE_DATE,
        },
      },
      sent: {
        url: '/payments/boleto',
        key: 'c-1:boleto',
        body: {
          checkout_id: 'c-1',
          amount: 349.7,
          customer_email: 'c@example.com',
          customer_name: 'Maria da Silva',
          customer_document: '52998224725',
          customer_address: ADDRESS,
          due_date: DUE_DATE,
        },
      },
    },
  ])('sends $what, and takes the instructions as given', async ({ issue, image, issued, sent }) => {
    const service = await startService(honestBut(image));
    expect(await issue(service.url)).toEqual(issued);
    expect(service.received).toEqual([expect.objectContaining({ method: 'POST', ...sent })]);
  });
});

describe('a Pix issued', () => {
  it('leaves out a QR code image the service does not give', async () => {
    const service = await startService(honestPayments);
    const { instructions } = await createPix(service.url);
    expect(instructions).toEqual({ method: 'pix', qrCode: QR, expiresAt: EXPIRES_AT });
  });

  it.each([
    ['another checkout', { checkout_id: 'c-2' }, 'echo_mismatch_checkout_id'],
    ['another amount', { amount: 349.71 }, 'echo_mismatch_amount'],
    ['another currency', { currency: 'USD' }, 'echo_mismatch_currency'],
    ['no currency', { currency: undefined }, 'echo_mismatch_currency'],
    ['no QR code', { qr_code: undefined }, 'malformed_response'],
    ['an empty QR code', { qr_code: '' }, 'malformed_response'],
    ['a QR code too long to be one', { qr_code: 'x'.repeat(1025) }, 'malformed_response'],
    ['an expiry that is no date', { expires_at: 'tomorrow' }, 'malformed_response'],
  ])(
    'reads an answer with %s as unknown, retried under the same key',
    async (_case, change, reason) => {
      const service = await startService(honestBut(change));

      await expectFailure(createPix(service.url), ServiceOutcomeUnknownError, { reason });
      expect(service.received.map((r) => r.key)).toEqual(['c-1:pix', 'c-1:pix']);
    },
  );
});

describe('a boleto issued', () => {
  it('takes an answer that says no currency: none was sent', async () => {
    const service = await startService(honestBut({ currency: undefined }));
    expect((await createBoleto(service.url)).transactionId).toBe('bol_c-1');
  });

  it.each([
    ['another amount', { amount: 34_970 }, 'echo_mismatch_amount'],
    ['no checkout id', { checkout_id: undefined }, 'echo_mismatch_checkout_id'],
    ['a barcode with letters', { barcode: '0019X' }, 'malformed_response'],
    ['no digitable line', { digitable_line: '' }, 'malformed_response'],
    ['a URL that is not http(s)', { url: 'javascript:alert(1)' }, 'malformed_response'],
    ['a due date that is no date', { due_date: '27/11/2026' }, 'malformed_response'],
  ])('reads an answer with %s as unknown', async (_case, change, reason) => {
    const service = await startService(honestBut(change));
    await expectFailure(createBoleto(service.url), ServiceOutcomeUnknownError, { reason });
  });
});

describe('a Pix or boleto cancelled', () => {
  it('sends its reason under <id>:cancel, on a connection of its own', async () => {
    const service = await startService(honestPayments);
    await createPix(service.url);

    await cancel(service.url);

    const [, sent] = service.received;
    expect(sent).toMatchObject({
      url: '/payments/pix_c-1/cancel',
      key: 'c-1:cancel',
      body: { checkout_id: 'c-1', reason: 'payment_expired' },
    });
    expect(sent?.connection).not.toBe(service.received[0]?.connection);
  });

  it('reads an answer for another transaction as unknown', async () => {
    const service = await startService((body) => ({
      status: 200,
      body: { status: 'cancelled', transactionId: 'pix_c-2', checkout_id: body.checkout_id },
    }));
    await expectFailure(cancel(service.url), ServiceOutcomeUnknownError, {
      reason: 'echo_mismatch_transactionId',
    });
  });

  it('is refused, once, by a 422 that repeats the request: a paid charge', async () => {
    const service = await startService((body) => ({
      status: 422,
      body: {
        status: 'failed',
        error: 'charge_paid',
        message: 'A paid charge is refunded, not cancelled',
        checkout_id: body.checkout_id,
        transactionId: 'pix_c-1',
      },
    }));
    await expectFailure(cancel(service.url), ServiceRefusedError, { reason: 'charge_paid' });
    expect(service.received).toHaveLength(1);
  });
});

describe('a step repeated for a late payment has keys of its own', () => {
  const items = [{ productId: 'prod_001', quantity: 2, priceCents: 9_990 }];
  const late: CallOptions = { round: 'late' };

  it('refunds under <id>:refund_late', async () => {
    const service = await startService(honestPayments);
    await createPaymentClient(clientOf('payment', service.url)).refund(
      {
        checkoutId: 'c-1',
        transactionId: 'pix_c-1',
        amountCents: 34_970,
        currency: 'BRL',
        reason: 'order_failed',
      },
      late,
    );
    expect(service.received.map((r) => [r.url, r.key])).toEqual([
      ['/payments/pix_c-1/refund', 'c-1:refund_late'],
    ]);
  });

  it('deducts and releases under <id>:deduct_late and <id>:release_late, the same body', async () => {
    const service = await startService((body) => ({
      status: 200,
      body: { success: true, checkout_id: body.checkout_id },
    }));
    const inventory = createInventoryClient(clientOf('inventory', service.url));

    await inventory.deduct({ checkoutId: 'c-1', items }, late);
    await inventory.release({ checkoutId: 'c-1', items }, late);
    await inventory.deduct({ checkoutId: 'c-1', items });

    expect(service.received.map((r) => r.key)).toEqual([
      'c-1:deduct_late',
      'c-1:release_late',
      'c-1:deduct',
    ]);
    const body = { checkout_id: 'c-1', items: [{ product_id: 'prod_001', quantity: 2 }] };
    expect(service.received.map((r) => r.body)).toEqual([body, body, body]);
  });
});

describe('the lookup of a Pix or boleto', () => {
  const lookup = async (payments: unknown[]) => {
    const service = await startService(() => ({ status: 200, body: { payments } }));
    return createPaymentClient(clientOf('payment', service.url)).findCharges('c-1');
  };
  const entry = { transactionId: 'pix_c-1', checkout_id: 'c-1' };

  it('reads the new statuses, the amount in minor units of its currency and when it was paid', async () => {
    const charges = await lookup([
      {
        ...entry,
        status: 'paid',
        amount: 349.7,
        currency: 'BRL',
        paid_at: '2026-11-24T12:10:00-03:00',
      },
      { ...entry, transactionId: 'pix_old', status: 'cancelled' },
      { ...entry, transactionId: 'bol_c-1', status: 'expired', amount: 150, currency: 'BRL' },
      { ...entry, transactionId: 'pix_new', status: 'pending', amount: 349.7 },
    ]);

    expect(charges).toEqual([
      {
        transactionId: 'pix_c-1',
        status: 'paid',
        amountCents: 34_970,
        currency: 'BRL',
        paidAt: '2026-11-24T12:10:00-03:00',
      },
      { transactionId: 'pix_old', status: 'cancelled' },
      { transactionId: 'bol_c-1', status: 'expired', amountCents: 15_000, currency: 'BRL' },
      // An amount without its currency cannot be read in minor units: left out.
      { transactionId: 'pix_new', status: 'pending' },
    ]);
  });

  it.each([
    ['more decimals than BRL has', { amount: 349.705, currency: 'BRL' }],
    ['the amount as text', { amount: '349.70', currency: 'BRL' }],
    ['a negative amount', { amount: -349.7, currency: 'BRL' }],
    ['a currency that is no code', { amount: 349.7, currency: 'reais' }],
    ['a payment time that is no time', { paid_at: '24/11/2026 12:10' }],
    ['a status it does not know', { status: 'chargeback' }],
  ])('reads an answer with %s as unknown', async (_case, change) => {
    await expectFailure(
      lookup([{ ...entry, status: 'paid', ...change }]),
      ServiceOutcomeUnknownError,
      { reason: 'malformed_response' },
    );
  });
});

describe('authorize is a card step', () => {
  it('never sends a Pix or boleto as a card payment', async () => {
    const service = await startService(honestPayments);
    const payment = createPaymentClient(clientOf('payment', service.url));
    await expectFailure(
      payment.authorize({
        checkoutId: 'c-1',
        amountCents: 34_970,
        currency: 'BRL',
        installments: installmentPlan(34_970, 1),
        customerEmail: 'c@example.com',
        payment: { instrument: { type: 'pix' }, customerDocument: '52998224725' },
      }),
      TypeError,
    );
    expect(service.received).toEqual([]);
  });
});
