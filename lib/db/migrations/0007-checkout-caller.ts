/**
 * Who recorded each checkout (`caller`: `iam:<principal>`, `api-key:<id>` or `anonymous`, the
 * identity that scopes idempotency keys), written by the insert that records it, so that
 * `GET /checkout/{id}` shows a checkout to that caller only. Rows from before are given the
 * caller their idempotency key was stored with (`<caller>\u001f<key>`). A row without one (no
 * key, a key released on expiry, or a bare key from before keys had callers) keeps `null`:
 * nobody can be shown to have recorded it, so no shop reads it and only an operator sees it.
 * Adding a column without a default does not rewrite the table; the backfill updates only the
 * rows with a key.
 */
export const statements = [
  'alter table checkouts add column caller text',
  `update checkouts set caller = split_part(idempotency_key, chr(31), 1)
   where strpos(idempotency_key, chr(31)) > 0`,
];
