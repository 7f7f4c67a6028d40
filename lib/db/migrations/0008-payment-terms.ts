/**
 * How each checkout pays, fixed when it is recorded, so that every policy (the saga, a same-key
 * retry, recovery) follows the row's terms, never the current setting:
 * - `payment_flow`: `after_order` (authorize, deduct, order, capture) or `immediate` (the seed's
 *   one-shot charge). Rows from before, and rows an older release still writes during a deploy,
 *   are `immediate`: that is what they are, hence the default.
 * - `payment_method` (`credit_card`, `debit_card`, `card_token`) and `pricing` (`catalog`,
 *   `caller`): `null` on rows from before (the seed's raw cards, priced as the release then did).
 * - `installment_plan`: `{"count","first","other"}` (amounts as decimals, like `total_amount`);
 *   `null` means one installment of the total.
 * The two new states of the `after_order` flow (`payment_authorized`, `order_created`) join the
 * status check, and a token's brand and last 4 are known only once it is authorized, so they
 * may be missing until then.
 */
export const statements = [
  `alter table checkouts
     add column payment_flow text not null default 'immediate'
       check (payment_flow in ('immediate', 'after_order')),
     add column payment_method text
       check (payment_method in ('credit_card', 'debit_card', 'card_token')),
     add column pricing text check (pricing in ('catalog', 'caller')),
     add column installment_plan jsonb,
     alter column card_brand drop not null,
     alter column card_last4 drop not null,
     drop constraint checkouts_status_check,
     add constraint checkouts_status_check check (status in ('pending', 'payment_processed',
       'payment_authorized', 'inventory_deducted', 'order_created', 'completed', 'compensating',
       'failed', 'requires_attention')),
     drop constraint checkouts_compensation_from_check,
     add constraint checkouts_compensation_from_check check (compensation_from in
       ('payment_processed', 'payment_authorized', 'inventory_deducted'))`,
];
