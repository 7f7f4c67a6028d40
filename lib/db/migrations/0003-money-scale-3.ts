/**
 * Money exact for every currency: `total_amount` goes from `numeric(12,2)` to `numeric(15,3)`,
 * which holds 3-decimal minor units (KWD, BHD: 1.234) as well as 2 (BRL) and 0 (JPY).
 * A wider `numeric` rather than integer minor units: existing rows keep their value as is (the
 * widening is exact, no per-currency conversion in SQL), and the column still reads as money in
 * reports and `psql`. Up to 999 999 999 999.999: the largest possible total (100 items × 999
 * units × the 10 000 000 price cap) fits. Item prices are stored in `items` as decimal text
 * already written with the currency's decimals; they need no change.
 */
export const statements = ['alter table checkouts alter column total_amount type numeric(15, 3)'];
