import { describe, expect, it } from 'vitest';
import {
  boletoDueDate,
  boletoExpiresAt,
  isBusinessDay,
  pixExpiresAt,
} from '#lib/checkout/payment-deadlines.ts';

/**
 * The dates of a Pix and a boleto on São Paulo's calendar, checked against the real one (2026
 * and 2027 weekdays and holidays as published).
 */

/** Noon in São Paulo (UTC−03:00) on `date`. */
const noonInSaoPaulo = (date: string) => new Date(`${date}T15:00:00Z`);

describe('pixExpiresAt', () => {
  it('is the given minutes after now, as an ISO instant', () => {
    expect(pixExpiresAt(new Date('2026-11-24T23:50:00Z'), 30)).toBe('2026-11-25T00:20:00.000Z');
  });
});

describe('isBusinessDay', () => {
  it.each([
    ['2026-11-20', 'Consciência Negra (a Friday)'],
    ['2026-07-09', 'Revolução Constitucionalista (São Paulo)'],
    ['2027-01-25', "São Paulo's anniversary"],
    ['2027-02-08', 'Carnival Monday 2027'],
    ['2027-02-09', 'Carnival Tuesday 2027'],
    ['2026-04-03', 'Good Friday 2026 (Easter April 5)'],
    ['2027-03-26', 'Good Friday 2027 (Easter March 28)'],
    ['2026-06-04', 'Corpus Christi 2026'],
    ['2027-05-27', 'Corpus Christi 2027'],
    ['2026-12-25', 'Christmas'],
    ['2026-12-31', 'Dec 31: no public banking'],
    ['2027-01-01', "New Year's Day"],
    ['2026-11-28', 'a Saturday'],
    ['2026-11-29', 'a Sunday'],
  ])('is false on %s: %s', (date) => {
    expect(isBusinessDay(date)).toBe(false);
  });

  it.each([
    ['2027-02-10', 'Ash Wednesday (banks open at noon)'],
    ['2026-11-19', 'the Thursday before Consciência Negra'],
    ['2026-12-24', 'Christmas Eve'],
    ['2026-04-06', 'Easter Monday'],
    ['2026-11-23', 'an ordinary Monday'],
  ])('is true on %s: %s', (date) => {
    expect(isBusinessDay(date)).toBe(true);
  });
});

describe('boletoDueDate', () => {
  it('is the São Paulo date the given days after today there, when a business day', () => {
    expect(boletoDueDate(noonInSaoPaulo('2026-11-23'), 3)).toBe('2026-11-26');
  });

  it('counts from the date in São Paulo, not in UTC', () => {
    // 01:30 UTC on the 25th is 22:30 on the 24th in São Paulo.
    expect(boletoDueDate(new Date('2026-11-25T01:30:00Z'), 1)).toBe('2026-11-25');
    expect(boletoDueDate(new Date('2026-11-25T03:00:00Z'), 1)).toBe('2026-11-26');
  });

  it('moves a Saturday to the Monday after', () => {
    expect(boletoDueDate(noonInSaoPaulo('2026-11-25'), 3)).toBe('2026-11-30');
  });

  it('moves Consciência Negra 2026, a Friday, past the weekend to Monday', () => {
    expect(boletoDueDate(noonInSaoPaulo('2026-11-17'), 3)).toBe('2026-11-23');
  });

  it('moves Jul 9 to the day after', () => {
    expect(boletoDueDate(noonInSaoPaulo('2026-07-06'), 3)).toBe('2026-07-10');
  });

  it('moves Carnival Monday 2027 past Tuesday to Ash Wednesday', () => {
    expect(boletoDueDate(noonInSaoPaulo('2027-02-05'), 3)).toBe('2027-02-10');
  });

  it('moves Dec 31 2026 past New Year (a Friday) and the weekend to Monday Jan 4', () => {
    expect(boletoDueDate(noonInSaoPaulo('2026-12-28'), 3)).toBe('2027-01-04');
  });
});

describe('boletoExpiresAt', () => {
  it('is the end of the due date in São Paulo without grace: 03:00 UTC the next day', () => {
    expect(boletoExpiresAt('2026-11-23', 0)).toBe('2026-11-24T03:00:00.000Z');
  });

  it('counts grace in business days: a Friday due date plus one ends on Monday', () => {
    expect(boletoExpiresAt('2026-11-27', 1)).toBe('2026-12-01T03:00:00.000Z');
  });

  it('skips a holiday in the grace: Thursday Nov 19 plus one is Monday Nov 23', () => {
    expect(boletoExpiresAt('2026-11-19', 1)).toBe('2026-11-24T03:00:00.000Z');
  });

  it('skips Carnival in the grace: Friday Feb 5 2027 plus three is Friday Feb 12', () => {
    expect(boletoExpiresAt('2027-02-05', 3)).toBe('2027-02-13T03:00:00.000Z');
  });

  it('takes the offset from the time zone data, not a fixed −03:00 (daylight saving in 2018)', () => {
    expect(boletoExpiresAt('2018-12-10', 0)).toBe('2018-12-11T02:00:00.000Z');
  });
});
