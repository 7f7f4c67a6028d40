import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLuhnValid } from '#lib/checkout/card.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { requestHash } from '#lib/checkout/request-hash.ts';
import { checkoutRequestSchema } from '#lib/checkout/request-schema.ts';
import { type CheckoutBody, validCheckoutBody } from './checkout-body.ts';

/** The hash of a body as the handler computes it: after validation (defaults applied). */
const hashOf = (body: unknown) => requestHash(checkoutRequestSchema.parse(body), undefined, '');

/** The same JSON value with the keys of every object in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reversedKeys(v)]),
    );
  }
  return value;
}

/** The same JSON value with the keys of every object in the order `order` picks. */
function shuffledKeys(value: unknown, order: (keys: string[]) => string[]): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledKeys(v, order));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(
      order(Object.keys(record)).map((k) => [k, shuffledKeys(record[k], order)]),
    );
  }
  return value;
}

/** Another Luhn-valid Visa number ending in 1111, different from the body's 4111111111111111. */
function otherVisaEnding1111(): string {
  for (let n = 0; n < 1_000_000; n++) {
    const candidate = `4${String(n).padStart(11, '0')}1111`;
    if (candidate !== '4111111111111111' && isLuhnValid(candidate)) return candidate;
  }
  throw new Error('no such card number');
}

const body = (change: (b: CheckoutBody) => void = () => {}) => {
  const b = validCheckoutBody();
  change(b);
  return b;
};

describe('requestHash', () => {
  it('is a SHA-256 hex digest', () => {
    expect(hashOf(body())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same body', () => {
    expect(hashOf(body())).toBe(hashOf(body()));
  });

  it('does not depend on the order of the keys, at any depth', () => {
    const reversed = reversedKeys(body());
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(body()));
    expect(hashOf(reversed)).toBe(hashOf(body()));
  });

  it('does not depend on the order of the keys for any shuffle (property)', () => {
    const expected = hashOf(body());
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 8, maxLength: 8 }), (weights) => {
        // A deterministic shuffle driven by the generated weights.
        const order = (keys: string[]) =>
          keys
            .map((k, i) => ({ k, w: (weights[i % weights.length] ?? 0) + i * 1e-6 }))
            .sort((a, b) => a.w - b.w)
            .map(({ k }) => k);
        expect(hashOf(shuffledKeys(body(), order))).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('applies the currency default: no currency hashes like currency BRL', () => {
    expect(hashOf(body())).toBe(
      hashOf(
        body((b) => {
          b.currency = 'BRL';
        }),
      ),
    );
    expect(hashOf(body())).not.toBe(
      hashOf(
        body((b) => {
          b.currency = 'USD';
        }),
      ),
    );
  });

  it.each<[string, (b: CheckoutBody) => void]>([
    [
      'a different price',
      (b) => {
        (b.items[0] as { price: number }).price = 99.91;
      },
    ],
    [
      'a different quantity',
      (b) => {
        (b.items[0] as { quantity: number }).quantity = 3;
      },
    ],
    [
      'a different product',
      (b) => {
        (b.items[1] as { product_id: string }).product_id = 'prod_003';
      },
    ],
    [
      'one item fewer',
      (b) => {
        b.items.pop();
      },
    ],
    [
      'the items in another order',
      (b) => {
        b.items.reverse();
      },
    ],
    [
      'a different email',
      (b) => {
        b.customer_email = 'other@example.com';
      },
    ],
    [
      'a different street',
      (b) => {
        b.shipping_address.street = 'Rua das Rosas';
      },
    ],
    [
      'an added complement',
      (b) => {
        b.shipping_address.complement = 'Apto 42';
      },
    ],
    [
      'a different card expiry',
      (b) => {
        b.payment_method.card_expiry = '11/30';
      },
    ],
    [
      'a debit card instead of a credit card',
      (b) => {
        b.payment_method.type = 'debit_card';
      },
    ],
    [
      'a card with other last four digits',
      (b) => {
        b.payment_method.card_number = '4242424242424242';
      },
    ],
    [
      'a card of another brand',
      (b) => {
        b.payment_method.card_number = '5555555555554444';
      },
    ],
  ])('changes with %s', (_name, change) => {
    expect(hashOf(body(change))).not.toBe(hashOf(body()));
  });

  it('reduces the card to brand and last four: another Visa ending 1111 hashes the same', () => {
    // Documented in request-hash.ts: nothing derived from the full card number is stored, so
    // two cards of the same brand with the same last four digits count as the same request.
    const other = otherVisaEnding1111();
    const changed = body((b) => {
      b.payment_method.card_number = other;
    });
    expect(hashOf(changed)).toBe(hashOf(body()));
  });

  it('leaves the CVV out: changing only the CVV does not change the hash', () => {
    for (const cvv of ['000', '123', '1234']) {
      const changed = body((b) => {
        b.payment_method.card_cvv = cvv;
      });
      expect(hashOf(changed), cvv).toBe(hashOf(body()));
    }
  });

  it('contains neither the card number nor the CVV', () => {
    const hash = hashOf(body());
    expect(hash).not.toContain('4111111111111111');
    expect(hash).not.toContain('987');
  });
});

describe('the fingerprint across releases and with a CPF/CNPJ', () => {
  const body = (cardNumber: string) => ({
    payment_method: {
      type: 'credit_card',
      card_number: cardNumber,
      card_expiry: '12/30',
      card_cvv: '123',
    },
    customer_email: 'customer@example.com',
    shipping_address: {
      street: 'Rua das Flores',
      number: '123',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: [{ product_id: 'prod_001', quantity: 2, price: 99.9 }],
  });

  // Computed by the release before card brands learned Elo, Hipercard and JCB: a key stored
  // then must still recognise its retry.
  it.each([
    ['4111111111111111', '2678219002c3f55f2142c02e1b18ed40d3407bd0038bcb61c38c4672960ac23a'],
    ['4011780000000006', '809767c1f4d0c99cde73c00c221858a8d5a9fe21ab52a85e655f686fc18475ac'],
    ['6062820000000003', '4b66e0632e5cad1906102ebb62ffdf93886ac607a8479f6c50310d9ab6744ea0'],
    ['3530111333300000', '4186a33f47a608aaf2dd3478bcc26fc03ebc5dcd4de0426cd19cd10f9c84e045'],
  ])('is unchanged for a raw card %s (Visa, Elo, Hipercard, JCB)', (card, earlier) => {
    expect(hashOf(body(card))).toBe(earlier);
  });

  // Computed by the release before Pix and boleto: a card request's name enters as it did, and
  // keeps its fingerprint; so does a document and a token with installments.
  it.each([
    [
      'a name',
      { customer_name: 'Ana Souza' },
      '376c60e1f9822712c0c34e732573622aee1c9fa362852ab7faefb29f4bf051e4',
    ],
    [
      'a name, a CPF and installments',
      {
        customer_name: 'Ana Souza',
        customer_document: '529.982.247-25',
        payment_method: { ...body('4111111111111111').payment_method, installments: 3 },
      },
      '70b1248bfb33816e2c98e96d6be1ac26806a8e3fbc26a72c85417a9420bebb27',
    ],
    [
      'a token with installments and a CNPJ',
      {
        payment_method: { type: 'card_token', token: 'tok_visa', installments: 2 },
        customer_document: '12.ABC.345/01DE-35',
      },
      'e3ddd6b1481ef8c9f8fd3c944cf6cd586a9aff75f081dab4f660ed26389da145',
    ],
  ])('is unchanged for a card request with %s', async (_, fields, earlier) => {
    const parsed = parseCheckoutRequest({ ...body('4111111111111111'), ...fields });
    expect(await parsed.fingerprint(async () => 'secret-a')).toBe(earlier);
  });

  const withDocument = (document: string) => ({
    ...body('4111111111111111'),
    customer_document: document,
  });
  const fingerprint = (document: string, key = 'secret-a') =>
    parseCheckoutRequest(withDocument(document)).fingerprint(async () => key);

  it('keys the document with the secret: the same CPF punctuated or not is one request, another CPF or another secret differs', async () => {
    const plain = await fingerprint('52998224725');
    expect(await fingerprint('529.982.247-25')).toBe(plain);
    expect(await fingerprint('111.444.777-35')).not.toBe(plain);
    expect(await fingerprint('52998224725', 'secret-b')).not.toBe(plain);
  });

  it('is no plain hash of the document: without the secret it cannot be recomputed', async () => {
    const { createHash } = await import('node:crypto');
    const parsed = parseCheckoutRequest(withDocument('52998224725'));
    const hash = await parsed.fingerprint(async () => 'secret-a');
    const unkeyed = createHash('sha256').update('52998224725').digest('hex');
    const request = checkoutRequestSchema.parse(withDocument('52998224725'));
    expect(hash).not.toBe(requestHash(request, '52998224725', ''));
    expect(hash).not.toContain(unkeyed);
  });

  it('reads the secret only for a request that carries a document', async () => {
    let reads = 0;
    const key = async () => {
      reads += 1;
      return 'secret-a';
    };
    await parseCheckoutRequest(body('4111111111111111')).fingerprint(key);
    expect(reads).toBe(0);
    await parseCheckoutRequest(withDocument('52998224725')).fingerprint(key);
    expect(reads).toBe(1);
  });
});

describe('the fingerprint of a Pix or boleto', () => {
  const asyncBody = (payment: Record<string, unknown>, name = 'Ana Souza') => ({
    ...validCheckoutBody(),
    payment_method: payment,
    customer_document: '529.982.247-25',
    customer_name: name,
    shipping_address: { ...validCheckoutBody().shipping_address, neighborhood: 'Jardim Paulista' },
  });
  const fingerprint = (b: unknown, key = 'secret-a') =>
    parseCheckoutRequest(b).fingerprint(async () => key);

  it('covers the lifetime as sent: another one, or none, is another request', async () => {
    const thirty = await fingerprint(asyncBody({ type: 'pix', expires_in_minutes: 30 }));
    expect(await fingerprint(asyncBody({ type: 'pix', expires_in_minutes: 30 }))).toBe(thirty);
    expect(await fingerprint(asyncBody({ type: 'pix', expires_in_minutes: 31 }))).not.toBe(thirty);
    expect(await fingerprint(asyncBody({ type: 'pix' }))).not.toBe(thirty);
    const due = await fingerprint(asyncBody({ type: 'boleto', due_in_days: 3 }));
    expect(await fingerprint(asyncBody({ type: 'boleto', due_in_days: 4 }))).not.toBe(due);
  });

  it('tells Pix from boleto', async () => {
    expect(await fingerprint(asyncBody({ type: 'pix' }))).not.toBe(
      await fingerprint(asyncBody({ type: 'boleto' })),
    );
  });

  it('covers the payer’s name, keyed with the secret: another name or another secret differs', async () => {
    const ana = await fingerprint(asyncBody({ type: 'boleto' }));
    expect(await fingerprint(asyncBody({ type: 'boleto' }, '  Ana Souza '))).toBe(ana);
    expect(await fingerprint(asyncBody({ type: 'boleto' }, 'Ana Sousa'))).not.toBe(ana);
    expect(await fingerprint(asyncBody({ type: 'boleto' }), 'secret-b')).not.toBe(ana);
  });

  it('holds the name and the document only as HMACs with the secret, never as sent', async () => {
    const { createHash, createHmac } = await import('node:crypto');
    const hmac = (value: string) => createHmac('sha256', 'secret-a').update(value).digest('hex');
    const sorted = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => [k, sorted(v)]),
          )
        : Array.isArray(value)
          ? value.map(sorted)
          : value;
    const body = asyncBody({ type: 'boleto', due_in_days: 3 });
    const expected = {
      ...body,
      currency: 'BRL',
      customer_document: hmac('52998224725'),
      customer_name: hmac('Ana Souza'),
    };
    const digest = createHash('sha256')
      .update(JSON.stringify(sorted(expected)))
      .digest('hex');
    expect(await fingerprint(body)).toBe(digest);
  });

  it('covers the neighbourhood, as every field of the address', async () => {
    const body = asyncBody({ type: 'boleto' });
    const moved = {
      ...body,
      shipping_address: { ...body.shipping_address, neighborhood: 'Moema' },
    };
    expect(await fingerprint(moved)).not.toBe(await fingerprint(body));
  });
});
