/**
 * Pix and boleto (design §4a): paid later by the customer, confirmed by a signed webhook or a
 * lookup, cancelled at expiry.
 * - Two new states: `awaiting_payment` (issued, not paid: no lease, outside recovery's claim)
 *   and `expired` (never paid: final to the client, looked up for a late payment a while more).
 *   Both leave the unfinished index, which recovery's claim reads.
 * - `payment_flow` and `payment_method` take `pix` and `boleto`; compensation may start from
 *   `awaiting_payment` (a charge issued and cancelled).
 * - `payment_expires_at` / `payment_due_date`: fixed when recorded; `payment_instructions`: the
 *   QR code or the slip, shown while waiting; `next_check_at`: when the sweep looks a waiting or
 *   expired checkout up next; `paid_late`: stock deducted again after expiry;
 *   `applied_events`: the webhook events whose outcome a transition applied.
 * - `checkouts_waiting` holds every waiting checkout and the expired ones still looked up, by
 *   next check: the sweep's claim reads it, and so does the backlog's count of the waiting ones
 *   (its predicate is the repository's `WAITING`, so the planner proves it for both).
 * - Idempotency keys expire `idempotency_ttl_hours` after the checkout is final, never before: a
 *   key is kept forever (`infinity`) until then, so a retry on day 2 of a boleto finds it. A
 *   key from before was claimed for its expiry less its creation: that is its TTL, kept for a
 *   final write to come (a finished checkout reopened by an operator).
 */
export const statements = [
  `alter table checkouts
     add column payment_expires_at timestamptz,
     add column payment_due_date date,
     add column payment_instructions jsonb,
     add column next_check_at timestamptz,
     add column paid_late boolean not null default false,
     add column applied_events jsonb not null default '[]'::jsonb,
     add column idempotency_ttl_hours integer,
     drop constraint checkouts_status_check,
     add constraint checkouts_status_check check (status in ('pending', 'payment_processed',
       'payment_authorized', 'inventory_deducted', 'order_created', 'awaiting_payment',
       'completed', 'compensating', 'failed', 'expired', 'requires_attention')),
     drop constraint checkouts_payment_flow_check,
     add constraint checkouts_payment_flow_check check (payment_flow in ('immediate',
       'after_order', 'pix', 'boleto')),
     drop constraint checkouts_payment_method_check,
     add constraint checkouts_payment_method_check check (payment_method in ('credit_card',
       'debit_card', 'card_token', 'pix', 'boleto')),
     drop constraint checkouts_compensation_from_check,
     add constraint checkouts_compensation_from_check check (compensation_from in
       ('payment_processed', 'payment_authorized', 'inventory_deducted', 'awaiting_payment'))`,
  'drop index checkouts_unfinished',
  `create index checkouts_unfinished on checkouts (locked_until)
    where status not in ('completed', 'failed', 'expired', 'requires_attention',
      'awaiting_payment')`,
  `create index checkouts_waiting on checkouts (next_check_at)
    where (status = 'awaiting_payment' or (status = 'expired' and next_check_at is not null))`,
  // A key whose checkout is not final yet is kept until it is (then for the TTL it was given).
  `update checkouts set idempotency_ttl_hours = greatest(1,
       round(extract(epoch from (idempotency_expires_at - created_at)) / 3600))::integer,
     idempotency_expires_at = case when status in ('completed', 'failed', 'requires_attention')
       then idempotency_expires_at else 'infinity' end
   where idempotency_key is not null and idempotency_expires_at is not null`,
];
