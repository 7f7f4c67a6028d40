/**
 * `unfinished_since`: when a checkout last became unfinished: created, or moved on from waiting
 * or expired (a boleto paid on day 4, a late payment). Recovery's age cap and the
 * oldest-unfinished age count from it, not from the creation, so a paid boleto whose order gets
 * one unanswered try is not given up for being days old. Null on older rows: their creation.
 */
export const statements = ['alter table checkouts add column unfinished_since timestamptz'];
