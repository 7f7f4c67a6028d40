import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  installmentAmounts,
  installmentPlan,
  installmentProblem,
  MAX_INSTALLMENTS,
  MIN_INSTALLMENT_AMOUNT,
  maxInstallments,
} from '#lib/checkout/installments.ts';

const sum = (amounts: readonly number[]) => amounts.reduce((a, b) => a + b, 0);

describe('installmentPlan', () => {
  it('splits the seed checkout, 349.70 in 3, as 116.58 + 116.56 + 116.56', () => {
    const plan = installmentPlan(34970, 3);
    expect(plan).toEqual({ count: 3, firstCents: 11658, otherCents: 11656 });
    expect(installmentAmounts(plan)).toEqual([11658, 11656, 11656]);
  });

  it('puts the leftover cents on the first installment only', () => {
    expect(installmentAmounts(installmentPlan(1000, 3))).toEqual([334, 333, 333]);
    expect(installmentAmounts(installmentPlan(1019, 12))).toEqual([95, ...Array(11).fill(84)]);
  });

  it('splits a total that divides evenly into equal installments', () => {
    expect(installmentAmounts(installmentPlan(120000, 12))).toEqual(Array(12).fill(10000));
  });

  it('gives one installment of the whole total, with otherCents equal to firstCents', () => {
    expect(installmentPlan(1, 1)).toEqual({ count: 1, firstCents: 1, otherCents: 1 });
    expect(installmentAmounts(installmentPlan(34970, 1))).toEqual([34970]);
  });

  it('always adds up to the total, the first the largest and within count − 1 cents of the rest', () => {
    for (let total = 0; total <= 3000; total++) {
      for (let count = 1; count <= MAX_INSTALLMENTS; count++) {
        const plan = installmentPlan(total, count);
        const amounts = installmentAmounts(plan);
        expect(amounts).toHaveLength(count);
        expect(sum(amounts)).toBe(total);
        expect(plan.firstCents + (count - 1) * plan.otherCents).toBe(total);
        expect(plan.firstCents - plan.otherCents).toBeGreaterThanOrEqual(0);
        expect(plan.firstCents - plan.otherCents).toBeLessThan(count);
      }
    }
  });

  it('is exact for any safe-integer total, checked against BigInt arithmetic', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 10_000_000 }),
          fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          fc.constant(Number.MAX_SAFE_INTEGER),
        ),
        fc.integer({ min: 1, max: MAX_INSTALLMENTS }),
        (total, count) => {
          const plan = installmentPlan(total, count);
          const other = BigInt(total) / BigInt(count);
          expect(BigInt(plan.otherCents)).toBe(other);
          expect(BigInt(plan.firstCents)).toBe(BigInt(total) - other * BigInt(count - 1));
        },
      ),
    );
  });

  it.each([0, 13, -1, 1.5, Number.NaN])('refuses %s installments', (count) => {
    expect(() => installmentPlan(1000, count)).toThrow(RangeError);
  });

  it.each([-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN])('refuses a total of %s', (total) => {
    expect(() => installmentPlan(total, 2)).toThrow(RangeError);
  });
});

describe('maxInstallments', () => {
  it.each([
    [1700, 3],
    [1500, 3],
    [1499, 2],
    [1000, 2],
    [999, 1],
    [499, 1],
    [0, 1],
    [6000, 12],
    [5999, 11],
    [1_000_000, 12],
  ])('allows a total of %s minor units at most %s installments of 5.00 or more', (total, most) => {
    expect(maxInstallments(total, MIN_INSTALLMENT_AMOUNT)).toBe(most);
  });

  it('allows every count when there is no minimum', () => {
    expect(maxInstallments(1, 0)).toBe(MAX_INSTALLMENTS);
  });

  it('agrees with the plans: the most installments whose smallest is not under the minimum', () => {
    for (let total = 0; total <= 7000; total += 7) {
      for (const min of [1, 100, 500, 999]) {
        const fits = (count: number) => installmentPlan(total, count).otherCents >= min;
        const most = maxInstallments(total, min);
        expect(most === 1 || fits(most)).toBe(true);
        if (most < MAX_INSTALLMENTS) expect(fits(most + 1)).toBe(false);
      }
    }
  });
});

describe('installmentProblem', () => {
  it('allows 349.70 in 12 installments of at least 5.00', () => {
    expect(installmentProblem(34970, 12, MIN_INSTALLMENT_AMOUNT)).toBeUndefined();
  });

  it('names the minimum and the most installments allowed', () => {
    expect(installmentProblem(1700, 4, MIN_INSTALLMENT_AMOUNT)).toBe(
      'each installment must be at least 5.00: at most 3 installments for a total of 17.00',
    );
  });

  it('allows installments of exactly the minimum, and refuses one cent less', () => {
    expect(installmentProblem(1500, 3, 500)).toBeUndefined();
    expect(installmentProblem(1499, 3, 500)).toBe(
      'each installment must be at least 5.00: at most 2 installments for a total of 14.99',
    );
  });

  it('checks the smaller installments, not the first that holds the leftover cents', () => {
    // 10.01 in 2: 5.01 + 5.00, both allowed; 10.01 in 3 would be 3.35 + 3.33 + 3.33.
    expect(installmentProblem(1001, 2, 500)).toBeUndefined();
    expect(installmentProblem(1001, 3, 500)).toBe(
      'each installment must be at least 5.00: at most 2 installments for a total of 10.01',
    );
  });

  it('always allows a single payment, whatever the total', () => {
    for (const total of [0, 1, 499, 500, 34970]) {
      expect(installmentProblem(total, 1, MIN_INSTALLMENT_AMOUNT)).toBeUndefined();
    }
  });

  it('says "1 installment" when the total allows only a single payment', () => {
    expect(installmentProblem(999, 2, 500)).toBe(
      'each installment must be at least 5.00: at most 1 installment for a total of 9.99',
    );
  });

  it('uses the minimum it is given', () => {
    expect(installmentProblem(1700, 4, 400)).toBeUndefined();
    expect(installmentProblem(3000, 4, 1000)).toBe(
      'each installment must be at least 10.00: at most 3 installments for a total of 30.00',
    );
  });

  it('formats amounts in the currency it is given', () => {
    expect(installmentProblem(1700, 4, 500, 'JPY')).toBe(
      'each installment must be at least 500: at most 3 installments for a total of 1700',
    );
  });

  it.each([0, 13, -2, 2.5, Number.NaN])('refuses %s installments', (count) => {
    expect(installmentProblem(34970, count, MIN_INSTALLMENT_AMOUNT)).toBe(
      'installments must be a whole number from 1 to 12',
    );
  });
});
