/**
 * Names shared by the code that emits telemetry and the CDK stack that reads it (alarms,
 * environment), written once. `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_METRICS_NAMESPACE`
 * may override the first two at run time; the stack sets them to these same values.
 */
export const SERVICE_NAME = 'checkout-commerce';
export const METRICS_NAMESPACE = 'CheckoutCommerce';
/** The `source` of the event a checkout's own one-off recovery schedule sends. */
export const RECOVERY_REQUEST_SOURCE = `${SERVICE_NAME}.recovery` as const;
/** Count per checkout outcome; dimension `status`: completed | failed | requires_attention | incomplete. */
export const OUTCOME_METRIC = 'CheckoutOutcome';
/** Count per failed or undone checkout; dimension `failed_step`: payment | inventory | order. */
export const FAILURE_METRIC = 'CheckoutFailure';
/** After each recovery run: how many checkouts are not final (no dimension but `service`). */
export const UNFINISHED_METRIC = 'UnfinishedCheckouts';
/** After each recovery run: seconds since the oldest unfinished checkout was created (0: none). */
export const OLDEST_UNFINISHED_METRIC = 'OldestUnfinishedAgeSeconds';
/**
 * After each recovery run: seconds since the oldest checkout whose card authorization is still
 * open was created (0: none). Alarmed at `AUTHORIZATION_ALARM_HOURS`: it must be captured or
 * voided before the authorization expires.
 */
export const OLDEST_AUTHORIZATION_METRIC = 'OldestOpenAuthorizationAgeSeconds';

/** The service name every Powertools utility reports under. */
export const serviceName = (): string => process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME;
/**
 * Count of `POST /webhooks/payments` requests refused for their signature (missing, malformed,
 * expired or not matching): a forger, a replay, a clock gone wrong, or the payment service
 * signing with another secret than ours. No dimension but `service`; the reason is in the log.
 */
export const WEBHOOK_SIGNATURE_REJECTED_METRIC = 'WebhookSignatureRejected';
/**
 * After each recovery run: how many Pix and boleto checkouts still wait well past their
 * payment's expiry (over an hour: the expiry check that ends them is late). Alarmed above 0.
 */
export const WAITING_PAST_EXPIRY_METRIC = 'CheckoutsWaitingPastExpiry';
/** After each recovery run: Pix and boleto checkouts waiting for their customer, and the oldest's age. */
export const WAITING_METRIC = 'CheckoutsAwaitingPayment';
export const OLDEST_WAITING_METRIC = 'OldestAwaitingPaymentAgeSeconds';
/**
 * Count of completed Pix and boleto checkouts whose payment a webhook showed refunded since (in
 * the payment console): the order stands, so the books need a person.
 */
export const REFUNDED_AFTER_COMPLETION_METRIC = 'PaymentsRefundedAfterCompletion';
