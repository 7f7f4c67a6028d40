import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLuhnValid } from '#lib/checkout/card.ts';
import { requestHash } from '#lib/checkout/request-hash.ts';
import { checkoutRequestSchema } from '#lib/checkout/request-schema.ts';
import { type CheckoutBody, validCheckoutBody } from './checkout-body.ts';

/** The hash of a body as the handler computes it: after validation (defaults applied). */
const hashOf = (body: unknown) => requestHash(checkoutRequestSchema.parse(body));

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
