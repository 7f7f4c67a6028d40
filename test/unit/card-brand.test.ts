import { describe, expect, it } from 'vitest';
import { type CardBrand, cardBrand, cardSummary, isLuhnValid } from '#lib/checkout/card.ts';

/** A Luhn-valid 16-digit card number starting with `prefix`, so the examples are real-looking. */
function cardStartingWith(prefix: string): string {
  const body = prefix.padEnd(15, '0');
  for (let check = 0; check <= 9; check++) {
    if (isLuhnValid(`${body}${check}`)) return `${body}${check}`;
  }
  throw new Error('unreachable: one check digit always fits');
}

describe('cardBrand', () => {
  it.each<[string, CardBrand]>([
    ['4111111111111111', 'visa'],
    ['5555555555554444', 'mastercard'],
    ['2223003122003222', 'mastercard'],
    ['378282246310005', 'amex'],
    ['371449635398431', 'amex'],
    ['6362970000457013', 'elo'],
    ['6062825624254001', 'hipercard'],
    ['30569309025904', 'diners'],
    ['36006666333344', 'diners'],
    ['6011111111111117', 'discover'],
    ['3530111333300000', 'jcb'],
    ['9999999999999995', 'other'],
  ])('knows the card %s as %s', (number, brand) => {
    expect(cardBrand(number)).toBe(brand);
  });

  it.each(['401178', '401179', '431274', '438935', '451416', '457393', '457631', '457632'])(
    'names an Elo card starting %s elo, not visa',
    (bin) => {
      expect(cardBrand(cardStartingWith(bin))).toBe('elo');
    },
  );

  it.each(['504175', '506699', '506778', '509000', '509999'])(
    'names an Elo card starting %s elo (a 5 that is not Mastercard)',
    (bin) => {
      expect(cardBrand(cardStartingWith(bin))).toBe('elo');
    },
  );

  it.each(['627780', '636297', '636368', '650031', '650598', '651652', '655000', '655058'])(
    'names an Elo card starting %s elo, not discover',
    (bin) => {
      expect(cardBrand(cardStartingWith(bin))).toBe('elo');
    },
  );

  it.each([
    '606282',
    '384100',
    '384140',
    '384160',
    '637095',
    '637568',
    '637599',
    '637609',
    '637612',
  ])('names a Hipercard starting %s hipercard', (bin) => {
    expect(cardBrand(cardStartingWith(bin))).toBe('hipercard');
  });

  it.each([
    '650000',
    '650034',
    '650052',
    '650539',
    '650719',
    '651000',
    '655020',
    '655059',
    '659999',
  ])('names a card starting %s, a 65 outside the Elo ranges, discover', (bin) => {
    expect(cardBrand(cardStartingWith(bin))).toBe('discover');
  });

  it.each<[string, CardBrand]>([
    // Elo ranges, just inside and just outside.
    ['401177', 'visa'],
    ['401180', 'visa'],
    ['457630', 'visa'],
    ['457633', 'visa'],
    ['506698', 'other'],
    ['506779', 'other'],
    ['508999', 'other'],
    ['650030', 'discover'],
    ['650035', 'elo'],
    ['650051', 'elo'],
    ['650404', 'discover'],
    ['650405', 'elo'],
    ['650439', 'elo'],
    ['650440', 'discover'],
    ['650727', 'elo'],
    ['650728', 'discover'],
    ['650900', 'discover'],
    ['650978', 'elo'],
    ['650979', 'discover'],
    ['651651', 'discover'],
    ['651679', 'elo'],
    ['651680', 'discover'],
    ['655019', 'elo'],
    ['655021', 'elo'],
    // Hipercard BINs are single: their neighbours keep the brand around them.
    ['606281', 'other'],
    ['606283', 'other'],
    ['384099', 'diners'],
    ['384101', 'diners'],
    ['384150', 'diners'],
    ['637094', 'other'],
    // The international brands' edges.
    ['299999', 'other'],
    ['300000', 'diners'],
    ['305999', 'diners'],
    ['306000', 'other'],
    ['359999', 'other'],
    ['352799', 'other'],
    ['352800', 'jcb'],
    ['358999', 'jcb'],
    ['359000', 'other'],
    ['339999', 'other'],
    ['340000', 'amex'],
    ['349999', 'amex'],
    ['350000', 'other'],
    ['369999', 'diners'],
    ['370000', 'amex'],
    ['379999', 'amex'],
    ['380000', 'diners'],
    ['399999', 'diners'],
    ['400000', 'visa'],
    ['499999', 'visa'],
    ['509999', 'elo'],
    ['510000', 'mastercard'],
    ['559999', 'mastercard'],
    ['560000', 'other'],
    ['222099', 'other'],
    ['222100', 'mastercard'],
    ['272099', 'mastercard'],
    ['272100', 'other'],
    ['601099', 'other'],
    ['601100', 'discover'],
    ['601199', 'discover'],
    ['601200', 'other'],
    ['643999', 'other'],
    ['644000', 'discover'],
    ['649999', 'discover'],
    ['660000', 'other'],
  ])('names a card starting %s %s', (bin, brand) => {
    expect(cardBrand(cardStartingWith(bin))).toBe(brand);
  });

  it('gives other to a number with no six-digit BIN', () => {
    for (const number of ['', '4', '41111', '4111 1111 1111 1111', 'x4111111111111111']) {
      expect(cardBrand(number)).toBe('other');
    }
  });

  it('agrees, on every one of the million BINs, with the lists written as prefixes', () => {
    const elo = new Set([
      '401178',
      '401179',
      '431274',
      '438935',
      '451416',
      '457393',
      '457631',
      '457632',
      '504175',
      '627780',
      '636297',
      '636368',
      ...span(506699, 506778),
      ...span(509000, 509999),
      ...span(650031, 650033),
      ...span(650035, 650051),
      ...span(650405, 650439),
      ...span(650485, 650538),
      ...span(650541, 650598),
      ...span(650700, 650718),
      ...span(650720, 650727),
      ...span(650901, 650978),
      ...span(651652, 651679),
      ...span(655000, 655019),
      ...span(655021, 655058),
    ]);
    const hipercard = new Set(
      '606282 384100 384140 384160 637095 637568 637599 637609 637612'.split(' '),
    );
    const reference = (bin: string): CardBrand => {
      if (elo.has(bin)) return 'elo';
      if (hipercard.has(bin)) return 'hipercard';
      const two = Number(bin.slice(0, 2));
      const three = Number(bin.slice(0, 3));
      const four = Number(bin.slice(0, 4));
      if (two === 34 || two === 37) return 'amex';
      if ((three >= 300 && three <= 305) || two === 36 || two === 38 || two === 39) {
        return 'diners';
      }
      if (four >= 3528 && four <= 3589) return 'jcb';
      if (bin.startsWith('4')) return 'visa';
      if ((two >= 51 && two <= 55) || (four >= 2221 && four <= 2720)) return 'mastercard';
      if (four === 6011 || (three >= 644 && three <= 649) || two === 65) return 'discover';
      return 'other';
    };
    const disagreements: string[] = [];
    for (let value = 0; value <= 999_999; value++) {
      const bin = String(value).padStart(6, '0');
      if (cardBrand(`${bin}0000000000`) !== reference(bin)) disagreements.push(bin);
    }
    expect(disagreements).toEqual([]);
  });
});

function span(first: number, last: number): string[] {
  return Array.from({ length: last - first + 1 }, (_, i) => String(first + i));
}

describe('cardSummary', () => {
  it.each<[string, CardBrand]>([
    [cardStartingWith('438935'), 'elo'],
    [cardStartingWith('606282'), 'hipercard'],
    [cardStartingWith('36'), 'diners'],
    [cardStartingWith('3528'), 'jcb'],
  ])('summarises %s with its brand %s and last four digits', (number, brand) => {
    expect(cardSummary(number)).toEqual({ brand, last4: number.slice(-4) });
  });
});
