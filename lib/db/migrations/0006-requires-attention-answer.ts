/**
 * A checkout in `requires_attention` answered 502 `<step>_unavailable` (or 422) until this
 * release, and that answer was stored for replay, although nothing had been undone: a charge or
 * a deduction may still stand. Its answer is now 409 `checkout_requires_attention`, which never
 * claims an undo (`lib/http/checkout-presenter.ts`). The stored answers are rewritten to it, so
 * a client repeating its `Idempotency-Key` gets the same answer as a checkout that ends there
 * from now on, byte for byte (the JSON is written as `JSON.stringify` writes it). A row with no
 * stored answer keeps none. The text is this migration's own, fixed as it shipped.
 */
export const statements = [
  `update checkouts set response_status = 409,
     response_body = '{"checkout_id":"' || id::text || '","status":"requires_attention",'
       || '"error":"checkout_requires_attention","message":"The checkout stopped part-way and a '
       || 'person must finish it: money may be held for it. Do not start another checkout for '
       || 'this purchase; GET /checkout/{id} shows when it has been settled."}'
   where status = 'requires_attention' and response_body is not null`,
];
