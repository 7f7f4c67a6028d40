import type { Checkout, CheckoutStatus } from '#lib/checkout/checkout.ts';
import type { CheckoutRepository } from '#lib/checkout/ports.ts';

/** What needs a person, and what is not finished yet: the default of `list`. */
export const NEEDS_LOOKING_AT: readonly CheckoutStatus[] = [
  'requires_attention',
  'pending',
  'payment_processed',
  'payment_authorized',
  'inventory_deducted',
  'order_created',
  'compensating',
  'awaiting_payment',
];

export interface ListQuery {
  statuses?: readonly CheckoutStatus[];
  /** Only checkouts created at least this long ago. */
  olderThanMs?: number;
  limit?: number;
}

/**
 * Operator use case `list`: checkouts in the given states (by default those that need a
 * person or are not finished), oldest first, and the ids of rows this version cannot read.
 */
export function listCheckouts(
  deps: { repository: Pick<CheckoutRepository, 'list'> },
  query: ListQuery,
): Promise<{ checkouts: Checkout[]; unreadable: string[] }> {
  return deps.repository.list({
    statuses: [...(query.statuses ?? NEEDS_LOOKING_AT)],
    olderThanMs: query.olderThanMs,
    limit: query.limit ?? 100,
  });
}
