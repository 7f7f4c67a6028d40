import { describe, expect, it } from 'vitest';
import {
  formatMinorUnits,
  orderTotal,
  parseDecimal,
  toMinorUnits,
  toWireAmount,
} from '../../lib/money.ts';

describe('toMinorUnits', () => {
  it.each([
    [19.99, 1999],
    [0.1, 10],
    [99.9, 9990],
    [149.9, 14990],
    [12, 1200],
    [0.01, 1],
    [99_999.99, 9_999_999],
    [-19.99, -1999],
  ])('converts %s to %s cents exactly', (amount, cents) => {
    expect(toMinorUnits(amount)).toBe(cents);
  });

  it.each([19.999, 0.001, 1.005])(
    'rejects %s because it has more precision than cents',
    (amount) => {
      expect(toMinorUnits(amount)).toBeUndefined();
    },
  );

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'rejects the non-finite number %s',
    (amount) => {
      expect(toMinorUnits(amount)).toBeUndefined();
    },
  );

  it('rejects 1e21, whose cents are not a safe integer', () => {
    expect(toMinorUnits(1e21)).toBeUndefined();
  });

  it.each([1e-11, 19.99000000001, 1e-7])(
    'rejects %s, whose extra precision lies far past the second decimal',
    (amount) => {
      expect(toMinorUnits(amount)).toBeUndefined();
    },
  );
});

describe('formatMinorUnits', () => {
  it.each([
    [34_970, '349.70'],
    [5, '0.05'],
    [0, '0.00'],
    [1999, '19.99'],
    [-1999, '-19.99'],
  ])('formats %s cents as "%s"', (cents, text) => {
    expect(formatMinorUnits(cents)).toBe(text);
  });
});

describe('parseDecimal', () => {
  it.each([
    ['349.70', 34_970],
    ['349.7', 34_970],
    ['12', 1200],
    ['0.05', 5],
    [' 19.99 ', 1999],
  ])('parses the numeric(12,2) text "%s" to %s cents', (text, cents) => {
    expect(parseDecimal(text)).toBe(cents);
  });

  it('parses a numeric value returned as a JavaScript number', () => {
    expect(parseDecimal(349.7)).toBe(34_970);
  });

  it.each(['abc', '1.234', '', '1e3'])('refuses "%s", which is not a 2-decimal amount', (text) => {
    expect(() => parseDecimal(text)).toThrow(RangeError);
  });
});

describe('orderTotal', () => {
  it('sums quantity × unit price of the seed items to 349.70, not the seed’s 249.80', () => {
    const total = orderTotal([
      { quantity: 2, priceCents: 9990 },
      { quantity: 1, priceCents: 14_990 },
    ]);
    expect(total).toBe(34_970);
    expect(total).not.toBe(24_980);
  });

  it('is zero for no items', () => {
    expect(orderTotal([])).toBe(0);
  });
});

describe('toWireAmount', () => {
  it('sends 34970 cents as the JSON number 349.7', () => {
    expect(toWireAmount(34_970)).toBe(349.7);
    expect(JSON.stringify({ amount: toWireAmount(34_970) })).toBe('{"amount":349.7}');
  });

  it('sends 1999 cents as 19.99 without float noise', () => {
    expect(toWireAmount(1999)).toBe(19.99);
  });
});
