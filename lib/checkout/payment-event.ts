/**
 * A payment service's webhook event (design §2, `POST /webhooks/payments`), once its signature
 * is verified. The body is a hint, never the truth: the checkout it names is looked up at the
 * payment service and moved by what the lookup says, whatever `type` claims.
 */
export interface PaymentEvent {
  /** The service's id of the event: a duplicate of one already applied does nothing. */
  eventId: string;
  /** What the event claims (`payment.paid`, `payment.expired`, ...): logged, and compared. */
  type: string;
  transactionId: string;
  checkoutId: string;
  occurredAt: string;
}

/** What became of an event: the HTTP layer answers 200, or 503 so the service sends it again. */
export type PaymentEventOutcome =
  /** Its outcome was applied now, or the checkout already stood where the lookup says. */
  | { kind: 'applied'; status: string }
  /** An event applied before: nothing done. */
  | { kind: 'duplicate' }
  /** No such checkout (here): nothing to do, and nothing to send again. */
  | { kind: 'ignored' }
  /**
   * Not applied yet: the lookup does not show what the event claims, or another worker holds
   * the checkout. Nothing written; the service should deliver it again.
   */
  | { kind: 'not_yet'; reason: 'not_shown_yet' | 'held' | 'lookup_failed'; retryInMs: number };
