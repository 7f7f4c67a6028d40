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
