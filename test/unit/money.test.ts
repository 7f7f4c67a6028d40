import { describe, expect, it } from 'vitest';
import { MAX_PRICE } from '#lib/checkout/request-schema.ts';
import {
  formatMinorUnits,
  isKnownCurrency,
  minorUnitDigits,
  orderTotal,
  parseDecimal,
  STORED_SCALE,
  toMinorUnits,
  toWireAmount,
} from '#lib/money.ts';

describe('minorUnitDigits', () => {
  it.each([
    ['BRL', 2],
    ['EUR', 2],
    ['USD', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
  ])('gives %s %s decimals, as ISO 4217 does', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });

  it('gives a well-formed code Intl does not know 2 decimals, as older rows were written', () => {
    expect(minorUnitDigits('ZZZ')).toBe(2);
  });
});

describe('isKnownCurrency', () => {
  it.each(['BRL', 'EUR', 'USD', 'JPY', 'KRW', 'KWD', 'BHD', 'GBP', 'CHF', 'VND'])(
    'knows %s',
    (code) => {
      expect(isKnownCurrency(code)).toBe(true);
    },
  );

  it.each([
    ['ZZZ', 'not a currency'],
    ['XXX', 'ISO’s “no currency” code'],
    ['XTS', 'ISO’s code for tests'],
    ['XAU', 'gold, not money'],
    ['XDR', 'a unit of account without a minor unit'],
    ['CLF', 'a unit of account with 4 decimals, more than the column holds'],
    ['HRK', 'the Croatian kuna, withdrawn for the euro in 2023'],
    ['SLL', 'the old Sierra Leonean leone, withdrawn for SLE'],
    ['ZWL', 'the Zimbabwe dollar, withdrawn for ZWG in 2024'],
    ['BGN', 'the Bulgarian lev, withdrawn for the euro in 2026'],
    ['CUC', 'the Cuban convertible peso, withdrawn in 2021'],
    ['ANG', 'the Netherlands Antillean guilder, withdrawn for XCG in 2025'],
    ['brl', 'lower case'],
    ['', 'empty'],
  ])('refuses %s (%s)', (code) => {
    expect(isKnownCurrency(code)).toBe(false);
  });

  it.each(['EUR', 'SLE', 'ZWG', 'XCG', 'CUP'])(
    'knows %s, which replaced a withdrawn code',
    (code) => {
      expect(isKnownCurrency(code)).toBe(true);
    },
  );

  it('accepts only currencies whose minor unit the database column stores exactly', () => {
    const known = Intl.supportedValuesOf('currency').filter(isKnownCurrency);
    expect(known.length).toBeGreaterThan(150);
    for (const code of known) expect(minorUnitDigits(code), code).toBeLessThanOrEqual(STORED_SCALE);
  });
});

describe('toMinorUnits', () => {
  it.each([
    [19.99, 'BRL', 1999],
    [0.1, 'BRL', 10],
    [99.9, 'BRL', 9990],
    [149.9, 'BRL', 14_990],
    [12, 'BRL', 1200],
    [0.01, 'USD', 1],
    [-19.99, 'EUR', -1999],
    [150, 'JPY', 150],
    [1, 'KRW', 1],
    [1.234, 'KWD', 1234],
    [0.001, 'BHD', 1],
    [1.2, 'KWD', 1200],
    [7, 'KWD', 7000],
  ])('converts %s %s to %s minor units exactly', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  it.each([
    [19.999, 'BRL'],
    [0.001, 'BRL'],
    [1.005, 'USD'],
    [150.5, 'JPY'],
    [0.1, 'KRW'],
    [1.2345, 'KWD'],
    [0.0001, 'BHD'],
  ])('refuses %s %s, which has more decimals than the currency', (amount, currency) => {
    expect(toMinorUnits(amount, currency)).toBeUndefined();
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'refuses the non-finite number %s',
    (amount) => {
      expect(toMinorUnits(amount, 'BRL')).toBeUndefined();
    },
  );

  it('refuses 1e21, whose minor units are not a safe integer', () => {
    expect(toMinorUnits(1e21, 'JPY')).toBeUndefined();
  });

  it.each([1e-11, 19.99000000001, 1e-7])(
    'refuses %s, whose extra precision lies far past the third decimal',
    (amount) => {
      expect(toMinorUnits(amount, 'KWD')).toBeUndefined();
    },
  );
});

describe('formatMinorUnits', () => {
  it.each([
    [34_970, 'BRL', '349.70'],
    [5, 'BRL', '0.05'],
    [0, 'BRL', '0.00'],
    [1999, 'USD', '19.99'],
    [-1999, 'EUR', '-19.99'],
    [150, 'JPY', '150'],
    [0, 'KRW', '0'],
    [1234, 'KWD', '1.234'],
    [5, 'BHD', '0.005'],
    [1200, 'KWD', '1.200'],
    [-1, 'KWD', '-0.001'],
  ])('writes %s minor units of %s as "%s"', (minor, currency, text) => {
    expect(formatMinorUnits(minor, currency)).toBe(text);
  });

  it('refuses a fraction of a minor unit rather than write it', () => {
    expect(() => formatMinorUnits(1.5, 'JPY')).toThrow(RangeError);
  });
});

describe('parseDecimal', () => {
  it.each([
    ['349.700', 'BRL', 34_970],
    ['150.000', 'JPY', 150],
    ['1.234', 'KWD', 1234],
    ['0.005', 'BHD', 5],
    ['1.200', 'KWD', 1200],
  ])('reads the numeric(15,3) text "%s" %s back as %s minor units', (text, currency, minor) => {
    expect(parseDecimal(text, currency)).toBe(minor);
  });

  it.each([
    ['349.70', 'BRL', 34_970],
    ['349.7', 'BRL', 34_970],
    ['12', 'BRL', 1200],
    ['0.05', 'BRL', 5],
    [' 19.99 ', 'USD', 1999],
    ['150.00', 'JPY', 150],
    ['1.23', 'KWD', 1230],
    ['12.34', 'ZZZ', 1234],
  ])(
    'reads the 2-decimal text "%s" %s of older rows and item prices as %s minor units',
    (text, currency, minor) => {
      expect(parseDecimal(text, currency)).toBe(minor);
    },
  );

  it('parses a numeric value returned as a JavaScript number', () => {
    expect(parseDecimal(349.7, 'BRL')).toBe(34_970);
    expect(parseDecimal(1.234, 'KWD')).toBe(1234);
  });

  it.each([
    ['abc', 'BRL'],
    ['1.234', 'BRL'],
    ['150.50', 'JPY'],
    ['1.2345', 'KWD'],
    ['', 'BRL'],
    ['1e3', 'JPY'],
  ])('refuses "%s" %s rather than round it', (text, currency) => {
    expect(() => parseDecimal(text, currency)).toThrow(RangeError);
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
  it.each([
    [34_970, 'BRL', 349.7, '349.7'],
    [1999, 'BRL', 19.99, '19.99'],
    [150, 'JPY', 150, '150'],
    [1234, 'KWD', 1.234, '1.234'],
    [1, 'BHD', 0.001, '0.001'],
  ])('sends %s minor units of %s as the JSON number %s', (minor, currency, amount, json) => {
    expect(toWireAmount(minor, currency)).toBe(amount);
    expect(JSON.stringify({ amount: toWireAmount(minor, currency) })).toBe(`{"amount":${json}}`);
  });
});

describe('the price cap', () => {
  const largestTotal = (currency: string) =>
    orderTotal(
      Array.from({ length: 100 }, () => ({
        quantity: 999,
        priceCents: toMinorUnits(MAX_PRICE, currency) ?? Number.NaN,
      })),
    );

  it.each(['JPY', 'BRL', 'KWD'])(
    'keeps 100 items × 999 units at the cap a safe integer of %s minor units',
    (currency) => {
      expect(Number.isSafeInteger(largestTotal(currency))).toBe(true);
    },
  );

  it.each(['JPY', 'BRL', 'KWD'])(
    'keeps that total of %s inside numeric(15,3) and exact on the wire',
    (currency) => {
      const total = largestTotal(currency);
      const text = formatMinorUnits(total, currency);
      expect(Number(text)).toBeLessThan(10 ** 12);
      expect(toMinorUnits(toWireAmount(total, currency), currency)).toBe(total);
      expect(parseDecimal(text, currency)).toBe(total);
    },
  );

  it('keeps the largest 3-decimal amount under the cap exact on the wire', () => {
    const minor = 100 * 999 * (MAX_PRICE * 1000 - 1);
    expect(Number.isSafeInteger(minor)).toBe(true);
    expect(toMinorUnits(toWireAmount(minor, 'KWD'), 'KWD')).toBe(minor);
  });
});
