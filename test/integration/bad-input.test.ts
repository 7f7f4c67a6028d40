import { describe, expect, it } from 'vitest';
import { errorResponseSchema } from '#dev/api-docs/response-schemas.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';

const api = useLocalApi();

/** Ajv's and zod's own words (a regex, a JSON type, "allowed values"), which tell a shop nothing. */
const UNREADABLE =
  /Invalid input|must match|allowed values|equal to|must NOT have|must be (string|number|integer|object|array|[<>=])|oneOf|[\\^$]/;

type Body = ReturnType<typeof seedRequest> & Record<string, unknown>;

/** Each case breaks one rule of design §2 in an otherwise valid, marked request. */
const invalidBodies: [string, string, (b: Body) => void][] = [
  [
    'card number with letters',
    'payment_method.card_number',
    (b) => {
      b.payment_method.card_number = '4111abcd11111111';
    },
  ],
  [
    'card number too short',
    'payment_method.card_number',
    (b) => {
      b.payment_method.card_number = '41111111111';
    },
  ],
  [
    'card number failing Luhn',
    'payment_method.card_number',
    (b) => {
      b.payment_method.card_number = '4111111111111112';
    },
  ],
  [
    "the seed README's expired card 12/25",
    'payment_method.card_expiry',
    (b) => {
      b.payment_method.card_expiry = '12/25';
    },
  ],
  [
    'expiry month 13',
    'payment_method.card_expiry',
    (b) => {
      b.payment_method.card_expiry = '13/30';
    },
  ],
  [
    'CVV of 2 digits',
    'payment_method.card_cvv',
    (b) => {
      b.payment_method.card_cvv = '12';
    },
  ],
  [
    'unknown payment type',
    'payment_method.type',
    (b) => {
      (b.payment_method as Record<string, unknown>).type = 'cash';
    },
  ],
  [
    'email without a domain',
    'customer_email',
    (b) => {
      b.customer_email = `${b.customer_email.split('@')[0]}@`;
    },
  ],
  [
    'no items',
    'items',
    (b) => {
      b.items = [];
    },
  ],
  [
    '101 items',
    'items',
    (b) => {
      b.items = Array.from({ length: 101 }, () => ({ ...(b.items[0] as Body['items'][0]) }));
    },
  ],
  [
    'quantity 0',
    'items.0.quantity',
    (b) => {
      (b.items[0] as { quantity: number }).quantity = 0;
    },
  ],
  [
    'quantity 1.5',
    'items.0.quantity',
    (b) => {
      (b.items[0] as { quantity: number }).quantity = 1.5;
    },
  ],
  [
    'quantity 1000',
    'items.0.quantity',
    (b) => {
      (b.items[0] as { quantity: number }).quantity = 1000;
    },
  ],
  [
    'price 0',
    'items.0.price',
    (b) => {
      (b.items[0] as { price: number }).price = 0;
    },
  ],
  [
    'negative price',
    'items.0.price',
    (b) => {
      (b.items[0] as { price: number }).price = -5;
    },
  ],
  [
    'price with 3 decimals',
    'items.0.price',
    (b) => {
      (b.items[0] as { price: number }).price = 19.999;
    },
  ],
  [
    'price as a string',
    'items.0.price',
    (b) => {
      (b.items[0] as unknown as { price: string }).price = '19.99';
    },
  ],
  [
    'street over 200 characters',
    'shipping_address.street',
    (b) => {
      b.shipping_address.street += 'x'.repeat(200);
    },
  ],
  [
    'missing city',
    'shipping_address.city',
    (b) => {
      delete (b.shipping_address as Partial<Body['shipping_address']>).city;
    },
  ],
  [
    'unknown top-level field',
    'coupon',
    (b) => {
      b.coupon = 'FREE';
    },
  ],
  [
    'unknown nested field',
    'payment_method.holder',
    (b) => {
      (b.payment_method as Record<string, unknown>).holder = 'X';
    },
  ],
  [
    'lower-case currency',
    'currency',
    (b) => {
      b.currency = 'brl';
    },
  ],
];

describe('invalid requests are refused before any side effect', () => {
  it.each(invalidBodies)(
    '%s → 400 naming %s, no row, no service called',
    async (_name, path, breakIt) => {
      const marker = newMarker();
      const body = seedRequest(marker) as Body;
      breakIt(body);

      const res = await api.postCheckout(body);

      expect(res.status).toBe(400);
      const error = errorResponseSchema.parse(res.json);
      expect(error.error).toBe('validation_error');
      expect(error.details?.map((d) => d.path)).toContain(path);
      for (const detail of error.details ?? []) expect(detail.message).not.toMatch(UNREADABLE);
      expect(res.text).not.toContain('4111111111111111');
      await api.expectNothingHappened(marker);
    },
  );

  // The first two are answered by @middy/validator (Ajv over the JSON Schema generated from
  // zod), the last two by zod in parseCheckoutRequest: the same words either way.
  it.each([
    [
      'card_expiry 13/30',
      (b: Body) => {
        b.payment_method.card_expiry = '13/30';
      },
      { path: 'payment_method.card_expiry', message: 'card_expiry must be MM/YY, e.g. 12/30' },
    ],
    [
      'an unknown payment type',
      (b: Body) => {
        (b.payment_method as Record<string, unknown>).type = 'cash';
      },
      {
        path: 'payment_method.type',
        message: 'type must be one of credit_card, debit_card, card_token, pix, boleto',
      },
    ],
    [
      'a lower-case currency',
      (b: Body) => {
        b.currency = 'brl';
      },
      { path: 'currency', message: 'currency must be a 3-letter ISO 4217 code such as BRL' },
    ],
    [
      'an email without a domain',
      (b: Body) => {
        b.customer_email = 'customer@';
      },
      {
        path: 'customer_email',
        message:
          'customer_email must be an email address such as customer@example.com, at most 254 characters',
      },
    ],
    [
      'a card number failing the Luhn check',
      (b: Body) => {
        b.payment_method.card_number = '4111111111111112';
      },
      {
        path: 'payment_method.card_number',
        message: 'card_number is not a valid card number (Luhn check failed)',
      },
    ],
    [
      'a withdrawn currency',
      (b: Body) => {
        b.currency = 'HRK';
      },
      {
        path: 'currency',
        message: 'currency HRK has been withdrawn from ISO 4217 (replaced by EUR)',
      },
    ],
  ])('%s → one detail saying what is expected', async (_name, breakIt, detail) => {
    const body = seedRequest() as Body;
    breakIt(body);
    const res = await api.postCheckout(body);
    expect(res.status).toBe(400);
    expect(res.json.details).toEqual([detail]);
  });

  it('says that the card has expired for 12/25', async () => {
    const body = seedRequest();
    body.payment_method.card_expiry = '12/25';
    const res = await api.postCheckout(body);
    expect(res.json.details).toContainEqual({
      path: 'payment_method.card_expiry',
      message: 'the card has expired',
    });
  });

  it('answers malformed JSON with 400', async () => {
    const marker = newMarker();
    const res = await api.postCheckout(`${JSON.stringify(seedRequest(marker)).slice(0, -1)}`);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('validation_error');
    await api.expectNothingHappened(marker);
  });

  it('answers a body that is not JSON with 415', async () => {
    const marker = newMarker();
    const res = await api.request('/checkout/process', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(seedRequest(marker)),
    });
    expect(res.status).toBe(415);
    expect(res.json.error).toBe('unsupported_media_type');
    await api.expectNothingHappened(marker);
  });

  it('answers a body over 64 KiB with 413', async () => {
    const marker = newMarker();
    const body = { ...seedRequest(marker), padding: 'x'.repeat(65 * 1024) };
    const res = await api.postCheckout(body);
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('payload_too_large');
    await api.expectNothingHappened(marker);
  });

  it('answers a JSON body that is not an object with 400', async () => {
    for (const body of ['[]', '"text"', 'null', '42']) {
      const res = await api.postCheckout(body);
      expect(res.status, body).toBe(400);
    }
  });

  it('answers an unknown route with 404', async () => {
    const res = await api.request('/checkout/process', { method: 'DELETE' });
    expect(res.status).toBe(404);
  });
});
