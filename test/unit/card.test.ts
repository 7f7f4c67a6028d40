import { describe, expect, it } from 'vitest';
import { cardSummary, isExpiryCurrent, isLuhnValid } from '#lib/checkout/card.ts';

describe('isLuhnValid', () => {
  it.each(['4111111111111111', '4000000000000002', '5555555555554444', '378282246310005'])(
    'accepts the test card %s',
    (number) => {
      expect(isLuhnValid(number)).toBe(true);
    },
  );

  it.each(['4111111111111112', '4000000000000001', '5555555555554445', '378282246310006'])(
    'rejects %s, whose check digit is wrong',
    (number) => {
      expect(isLuhnValid(number)).toBe(false);
    },
  );

  it('rejects an empty string', () => {
    expect(isLuhnValid('')).toBe(false);
  });
});

describe('isExpiryCurrent', () => {
  const now = new Date('2026-11-24T12:00:00Z');

  it('accepts a card expiring this month', () => {
    expect(isExpiryCurrent('11/26', now)).toBe(true);
  });

  it('rejects a card that expired last month', () => {
    expect(isExpiryCurrent('10/26', now)).toBe(false);
  });

  it('accepts a card expiring in December of this year', () => {
    expect(isExpiryCurrent('12/26', now)).toBe(true);
  });

  it('accepts a card expiring in a later year, whatever its month', () => {
    expect(isExpiryCurrent('01/27', now)).toBe(true);
    expect(isExpiryCurrent('12/30', now)).toBe(true);
  });

  it('rejects a card from an earlier year, whatever its month', () => {
    expect(isExpiryCurrent('12/25', now)).toBe(false);
  });

  it('keeps a card valid through the last instant of its month in UTC', () => {
    expect(isExpiryCurrent('11/26', new Date('2026-11-30T23:59:59.999Z'))).toBe(true);
    expect(isExpiryCurrent('11/26', new Date('2026-12-01T00:00:00.000Z'))).toBe(false);
  });

  it('rejects December of last year in January', () => {
    expect(isExpiryCurrent('12/26', new Date('2027-01-01T00:00:00Z'))).toBe(false);
  });
});

describe('cardSummary', () => {
  it.each([
    ['4111111111111111', 'visa', '1111'],
    ['5555555555554444', 'mastercard', '4444'],
    ['2223003122003222', 'mastercard', '3222'],
    ['378282246310005', 'amex', '0005'],
    ['6011111111111117', 'discover', '1117'],
    ['3530111333300000', 'jcb', '0000'],
  ])('summarises %s as brand %s and last four %s', (number, brand, last4) => {
    expect(cardSummary(number)).toEqual({ brand, last4 });
  });

  it('keeps nothing of the number but its last four digits', () => {
    const summary = JSON.stringify(cardSummary('4111111111111111'));
    expect(summary).not.toContain('411111');
  });
});
