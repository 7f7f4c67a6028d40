/**
 * Where compensation started: the recovery point whose steps must be undone. Kept on the row so
 * a worker that resumes a `compensating` checkout (a retry, the recovery function) knows
 * whether stock must be released as well as the payment refunded.
 */
export const statements = [
  `alter table checkouts add column compensation_from text
    check (compensation_from in ('payment_processed', 'inventory_deducted'))`,
];
