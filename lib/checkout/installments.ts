import { formatMinorUnits, type MinorUnits } from '#lib/money.ts';

/**
 * Parcelamento: a Brazilian customer may pay a card purchase in up to 12 monthly installments,
 * interest-free ("sem juros"): the shop bears the cost, so the amount authorized is the total
 * and the installments only say how the issuer bills it. Their amounts are computed here, in
 * integer minor units, so that they always add up to the total exactly.
 */

/** The most installments a checkout may ask for (the API's contract: 1 to 12). */
export const MAX_INSTALLMENTS = 12;

/**
 * The default smallest installment, 5.00 BRL in minor units: a floor keeps a small total from
 * being spread into installments of a few cents each. The caller passes the minimum it uses
 * (this or its configuration), so the rule stays a pure function of its arguments.
 */
export const MIN_INSTALLMENT_AMOUNT: MinorUnits = 500;

/**
 * How a total is split: `count` installments, the first `firstCents` and every other one
 * `otherCents`, with `firstCents + (count − 1) × otherCents` equal to the total.
 *
 * The first installment takes the cents that do not divide evenly, so every later month bills
 * the same amount and the odd cents are settled at once. With one
 * installment there is no other: `otherCents` then equals `firstCents` (what the same split
 * gives), so `otherCents` is always the smallest installment.
 */
export interface InstallmentPlan {
  count: number;
  firstCents: MinorUnits;
  otherCents: MinorUnits;
}

/**
 * Splits `totalCents` into `count` installments: each one is the total ÷ count rounded down to
 * the minor unit, and the first also takes the remainder (34970 in 3 → 11658 + 11656 + 11656).
 * Exact for any safe-integer total: the remainder is taken before dividing, so the division
 * has no fraction to round. Throws a `RangeError` for a count or total no checkout can have
 * (check the request with `installmentProblem` first).
 */
export function installmentPlan(totalCents: MinorUnits, count: number): InstallmentPlan {
  if (!Number.isSafeInteger(totalCents) || totalCents < 0) {
    throw new RangeError(`not a total in minor units: ${totalCents}`);
  }
  if (!isInstallmentCount(count)) throw new RangeError(`not an installment count: ${count}`);
  const remainder = totalCents % count;
  const otherCents = (totalCents - remainder) / count;
  return { count, firstCents: otherCents + remainder, otherCents };
}

/** Each installment of a plan, in order: the first, then `count − 1` times the other amount. */
export function installmentAmounts(plan: InstallmentPlan): MinorUnits[] {
  return [plan.firstCents, ...Array<MinorUnits>(plan.count - 1).fill(plan.otherCents)];
}

/**
 * The most installments `totalCents` may be split into when none may be under `minCents`:
 * at least 1 (a single payment has no minimum), at most `MAX_INSTALLMENTS`. What a shop shows
 * as "up to N× interest-free".
 */
export function maxInstallments(totalCents: MinorUnits, minCents: MinorUnits): number {
  if (minCents <= 0) return MAX_INSTALLMENTS;
  // The smallest installment is ⌊total ÷ n⌋, which is ≥ min exactly when total ≥ n × min.
  const fitting = (totalCents - (totalCents % minCents)) / minCents;
  return Math.min(MAX_INSTALLMENTS, Math.max(1, fitting));
}

/**
 * Why `totalCents` may not be paid in `count` installments, for the shop's developer, or
 * `undefined` when it may. Names the smallest installment allowed and the most installments
 * this total allows, so the shop can correct the request (or its "up to N×" display) without
 * guessing. One installment is always allowed, whatever the total. `currency` only formats the
 * amounts: parcelamento is a BRL practice.
 */
export function installmentProblem(
  totalCents: MinorUnits,
  count: number,
  minCents: MinorUnits,
  currency = 'BRL',
): string | undefined {
  if (!isInstallmentCount(count)) {
    return `installments must be a whole number from 1 to ${MAX_INSTALLMENTS}`;
  }
  if (count === 1) return undefined;
  const allowed = maxInstallments(totalCents, minCents);
  if (count <= allowed) return undefined;
  const format = (cents: MinorUnits) => formatMinorUnits(cents, currency);
  return (
    `each installment must be at least ${format(minCents)}: at most ${allowed} ` +
    `${allowed === 1 ? 'installment' : 'installments'} for a total of ${format(totalCents)}`
  );
}

function isInstallmentCount(count: number): boolean {
  return Number.isInteger(count) && count >= 1 && count <= MAX_INSTALLMENTS;
}
