/**
 * The checkout table: one row per checkout, updated once per saga step (its recovery point).
 * Card number and CVV are never stored; only brand and last four digits.
 * `idempotency_key`, `request_hash`, `response_*` and `locked_until` carry the idempotency and
 * lease protocol (replay a finished checkout, refuse a concurrent one, hand an abandoned one to
 * the recovery function).
 */
export const statements = [
  `create table checkouts (
    id uuid primary key,
    status text not null check (status in ('pending', 'payment_processed', 'inventory_deducted',
      'completed', 'compensating', 'failed', 'requires_attention')),
    customer_email text not null,
    currency char(3) not null,
    total_amount numeric(12, 2) not null check (total_amount > 0),
    items jsonb not null,
    shipping_address jsonb not null,
    card_brand text not null,
    card_last4 char(4) not null,
    payment_id text,
    order_id text,
    failed_step text check (failed_step in ('payment', 'inventory', 'order')),
    error text,
    reason text,
    message text,
    undo_failures jsonb,
    idempotency_key text,
    request_hash text,
    idempotency_expires_at timestamptz,
    response_status integer,
    response_body text,
    locked_until timestamptz,
    attempts integer not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  'create unique index checkouts_idempotency_key on checkouts (idempotency_key) where idempotency_key is not null',
  `create index checkouts_unfinished on checkouts (locked_until)
    where status not in ('completed', 'failed', 'requires_attention')`,
];
