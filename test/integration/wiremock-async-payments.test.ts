import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import {
  BOLETO_ANSWER_FILES,
  boletoAnswerTemplate,
} from '../../scripts/generate-boleto-mapping.ts';
import {
  barcodeOfDigitableLine,
  boletoMod11,
  crc16CcittFalse,
  dueDateFactor,
  mod10,
  parseEmv,
} from '../support/payment-codes.ts';
import { lookup, pollUntil, untilWebhooksDone } from '../support/wiremock-lookups.ts';

/**
 * The Pix and boleto mappings of the payment WireMock, asked directly over HTTP
 * (wiremock/README.md, "Pix and boleto"): each answer repeats its request; the Pix code is a
 * BR Code whose CRC holds; the boleto's barcode and digitable line, computed by WireMock from
 * the amount and due date, have the right check digits, factor and amount; the lookups say
 * pending, then cancelled; the email triggers fail as the card payments' do.
 */
const payment = inject('wiremock').payment;

type Body = Record<string, unknown>;

async function post(path: string, body: Body, signal?: AbortSignal) {
  const res = await fetch(`${payment}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `${body.checkout_id}:${path.split('/').pop()}`,
    },
    body: JSON.stringify(body),
    signal,
  });
  return { status: res.status, json: (await res.json()) as Body };
}

const pixRequest = (checkoutId: string, change: Body = {}): Body => ({
  checkout_id: checkoutId,
  amount: 349.7,
  currency: 'BRL',
  customer_email: 'customer@example.com',
  customer_document: '12345678909',
  expires_at: '2026-12-10T12:30:00.000Z',
  ...change,
});
const boletoRequest = (checkoutId: string, change: Body = {}): Body => ({
  checkout_id: checkoutId,
  amount: 349.7,
  customer_email: 'customer@example.com',
  customer_name: 'Maria Silva',
  customer_document: '12345678909',
  due_date: '2026-12-10',
  ...change,
});

describe('a Pix', () => {
  it('is pending as pix_<checkout_id>, repeating checkout, amount, currency and expiry', async () => {
    const id = randomUUID();
    const { status, json } = await post('/payments/pix', pixRequest(id));
    expect(status).toBe(200);
    expect(json).toEqual({
      status: 'pending',
      transactionId: `pix_${id}`,
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
      qr_code: expect.any(String),
      expires_at: '2026-12-10T12:30:00.000Z',
    });
  });

  it('carries a BR Code "copia e cola" whose TLV fields and CRC-16/CCITT-FALSE hold', async () => {
    const { json } = await post('/payments/pix', pixRequest(randomUUID()));
    const code = json.qr_code as string;
    expect(code.slice(-8, -4)).toBe('6304');
    expect(code.slice(-4)).toBe(crc16CcittFalse(code.slice(0, -4)));

    const fields = parseEmv(code);
    expect(fields.map((f) => f.tag)).toEqual([
      '00',
      '01',
      '26',
      '52',
      '53',
      '58',
      '59',
      '60',
      '62',
      '63',
    ]);
    const field = (tag: string) => fields.find((f) => f.tag === tag)?.value as string;
    expect(field('00')).toBe('01');
    expect(field('01')).toBe('12');
    const account = parseEmv(field('26'));
    expect(account[0]).toEqual({ tag: '00', value: 'br.gov.bcb.pix' });
    expect(account[1]?.tag).toBe('25');
    expect(account[1]?.value).toMatch(/^pix\.example\.com\/qr\/v2\//);
    expect([field('52'), field('53'), field('58'), field('60')]).toEqual([
      '0000',
      '986',
      'BR',
      'SAO PAULO',
    ]);
    expect(field('59').length).toBeLessThanOrEqual(25);
    expect(parseEmv(field('62'))).toEqual([{ tag: '05', value: '***' }]);
  });
});

describe('a boleto', () => {
  it('is pending as bol_<checkout_id>, repeating checkout, amount and due date, in BRL', async () => {
    const id = randomUUID();
    const { status, json } = await post('/payments/boleto', boletoRequest(id));
    expect(status).toBe(200);
    expect(json).toEqual({
      status: 'pending',
      transactionId: `bol_${id}`,
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
      barcode: expect.stringMatching(/^\d{44}$/),
      digitable_line: expect.stringMatching(/^\d{47}$/),
      url: `https://boleto.example.com/bol_${id}`,
      due_date: '2026-12-10',
    });
  });

  it.each([
    ['2025-02-22', 349.7, '0000034970'],
    ['2026-12-10', 349.7, '0000034970'],
    ['2025-03-01', 0.01, '0000000001'],
    ['2027-06-30', 1000, '0000100000'],
  ])('due %s for %d has a valid barcode and digitable line', async (dueDate, amount, cents) => {
    const id = randomUUID();
    const { json } = await post(
      '/payments/boleto',
      boletoRequest(id, { amount, due_date: dueDate }),
    );
    const barcode = json.barcode as string;
    const line = json.digitable_line as string;

    expect(Number(barcode.slice(4, 5))).toBe(boletoMod11(barcode.slice(0, 4) + barcode.slice(5)));
    expect(Number(barcode.slice(5, 9))).toBe(dueDateFactor(dueDate));
    expect(barcode.slice(9, 19)).toBe(cents);
    expect(barcode.slice(3, 4)).toBe('9');

    expect(Number(line[9])).toBe(mod10(line.slice(0, 9)));
    expect(Number(line[20])).toBe(mod10(line.slice(10, 20)));
    expect(Number(line[31])).toBe(mod10(line.slice(21, 31)));
    expect(barcodeOfDigitableLine(line)).toBe(barcode);
  });

  it('has the factor of the restart (1000 on 2025-02-22) and of a later day', () => {
    // The calculator itself, against the values FEBRABAN publishes.
    expect(dueDateFactor('2025-02-22')).toBe(1000);
    expect(dueDateFactor('2025-02-23')).toBe(1001);
    expect(dueDateFactor('2026-12-10')).toBe(1656);
  });

  it('is each checkout’s own: the free field carries the checkout id', async () => {
    const [a, b] = await Promise.all(
      ['11111111-0000-4000-8000-000000000000', '22222222-0000-4000-8000-000000000000'].map((id) =>
        post('/payments/boleto', boletoRequest(id)),
      ),
    );
    expect(a?.json.barcode).not.toBe(b?.json.barcode);
  });

  it('is answered by the mappings as scripts/generate-boleto-mapping.ts writes them', () => {
    for (const file of BOLETO_ANSWER_FILES) {
      const mapping = JSON.parse(readFileSync(file, 'utf8')) as { response: { body: string } };
      expect(mapping.response.body, file).toBe(boletoAnswerTemplate());
    }
  });
});

describe('the lookup of a Pix or boleto', () => {
  it.each([
    ['pix', pixRequest, 'pix', 'BRL'],
    ['boleto', boletoRequest, 'bol', 'BRL'],
  ] as const)(
    '%s: pending once created, cancelled after a cancel',
    async (call, request, prefix, currency) => {
      const id = randomUUID();
      const transactionId = `${prefix}_${id}`;
      await post(`/payments/${call}`, request(id));
      await untilWebhooksDone('payment', id);
      expect(await lookup('payment', id)).toEqual([
        { transactionId, checkout_id: id, status: 'pending', amount: 349.7, currency },
      ]);

      const cancelled = await post(`/payments/${transactionId}/cancel`, {
        checkout_id: id,
        reason: 'checkout_expired',
      });
      expect(cancelled).toEqual({
        status: 200,
        json: { status: 'cancelled', transactionId, checkout_id: id },
      });
      await untilWebhooksDone('payment', id, 2);
      expect(await lookup('payment', id)).toEqual([
        { transactionId, checkout_id: id, status: 'cancelled' },
      ]);
    },
  );

  it('a Pix paid and then refunded says refunded', async () => {
    const id = randomUUID();
    await post('/payments/pix', pixRequest(id));
    const refund = await post(`/payments/pix_${id}/refund`, {
      checkout_id: id,
      amount: 349.7,
      currency: 'BRL',
    });
    expect(refund.json).toMatchObject({ status: 'refunded', transactionId: `pix_${id}` });
    const entries = await pollUntil(
      () => lookup('payment', id),
      (list) => list[0]?.status === 'refunded',
    );
    expect(entries).toEqual([
      {
        transactionId: `pix_${id}`,
        checkout_id: id,
        status: 'refunded',
        amount: 349.7,
        currency: 'BRL',
      },
    ]);
  });
});

describe('the email triggers', () => {
  it.each([
    ['pix', pixRequest, { currency: 'BRL' }],
    ['boleto', boletoRequest, { currency: 'BRL' }],
  ] as const)(
    '%s: payment-error answers 503 and registers nothing',
    async (call, request, money) => {
      const id = randomUUID();
      const answer = await post(
        `/payments/${call}`,
        request(id, { customer_email: 'payment-error+async@example.com' }),
      );
      expect(answer).toEqual({
        status: 503,
        json: {
          error: 'service_unavailable',
          message: 'Payment service unavailable',
          checkout_id: id,
          amount: 349.7,
          ...money,
        },
      });
      await untilWebhooksDone('payment', id);
      expect(await lookup('payment', id)).toEqual([]);
    },
  );

  it.each([
    ['pix', pixRequest, 'pix'],
    ['boleto', boletoRequest, 'bol'],
  ] as const)(
    '%s: payment-timeout creates it (the lookup says pending) but answers after 15 s',
    async (call, request, prefix) => {
      const id = randomUUID();
      const started = Date.now();
      const answer = post(
        `/payments/${call}`,
        request(id, { customer_email: 'payment-timeout@example.com' }),
        AbortSignal.timeout(1_000),
      );
      await expect(answer).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
      const entries = await pollUntil(
        () => lookup('payment', id),
        (list) => list.length > 0,
      );
      expect(entries).toMatchObject([{ transactionId: `${prefix}_${id}`, status: 'pending' }]);
    },
  );

  it.each([
    ['pix', pixRequest, 'pix'],
    ['boleto', boletoRequest, 'bol'],
  ] as const)(
    '%s: payment-reset creates it, then resets the connection',
    async (call, request, prefix) => {
      const id = randomUUID();
      await expect(
        post(`/payments/${call}`, request(id, { customer_email: 'payment-reset@example.com' })),
      ).rejects.toThrow();
      const entries = await pollUntil(
        () => lookup('payment', id),
        (list) => list.length > 0,
      );
      expect(entries).toMatchObject([{ transactionId: `${prefix}_${id}`, status: 'pending' }]);
    },
  );
});
