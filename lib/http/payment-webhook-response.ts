import type { APIGatewayProxyResult } from 'aws-lambda';
import type { PaymentEventOutcome } from '#lib/checkout/payment-event.ts';
import type { PaymentWebhookRead } from './payment-webhook-request.ts';
import { MAX_BODY_BYTES } from './request-guard.ts';
import { jsonResponse } from './responses.ts';

/**
 * The answers of `POST /webhooks/payments`, in one place. The payment service reads only the
 * status: any 2xx ends its deliveries, anything else makes it deliver again later. So what is
 * done, or can never be done (not our checkout), is a 200; what may work later is a 503 with
 * `Retry-After`; what is wrong with the request is a 4xx. No answer echoes the body, names the
 * secret, or says which part of a signature was wrong (that is logged, not told).
 */

/** How soon a service may deliver again after a 503 that has no better estimate. */
const RETRY_AFTER_SECONDS = 30;

const retryAfter = (ms: number) => ({
  'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
});

/** 200 `{"received":true,...}`: the service stops delivering the event. */
const received = (extra: Record<string, unknown>) =>
  jsonResponse(200, { received: true, ...extra });

/** The answer to an event the use case took: applied, a duplicate, ignored, or not yet. */
export function paymentEventResponse(outcome: PaymentEventOutcome): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'applied':
      return received({ status: outcome.status });
    case 'duplicate':
      return received({ duplicate: true });
    case 'ignored':
      return received({ ignored: true });
    case 'not_yet':
      return jsonResponse(
        503,
        {
          error: 'not_applied_yet',
          message: 'The event could not be applied yet; deliver it again later',
        },
        retryAfter(outcome.retryInMs),
      );
  }
}

/** The answer to a request that never reached the use case (`readPaymentWebhook`). */
export function refusedWebhookResponse(
  read: Exclude<PaymentWebhookRead, { kind: 'event' }>,
): APIGatewayProxyResult {
  switch (read.kind) {
    // Signed by the service, but naming no checkout of ours: nothing to apply, ever.
    case 'not_ours':
      return paymentEventResponse({ kind: 'ignored' });
    case 'too_large':
      return jsonResponse(413, {
        error: 'payload_too_large',
        message: `The request body must not exceed ${MAX_BODY_BYTES} bytes`,
      });
    case 'unsigned':
      return jsonResponse(401, {
        error: 'invalid_signature',
        message: 'The webhook signature is missing, malformed, expired or does not match',
      });
    // 400, not 415: the verdict is on the signed bytes, which do not parse. The content type is
    // not signed and providers label it loosely, so it is not checked; telling the sender to
    // change it (415) would not help.
    case 'not_json':
      return jsonResponse(400, {
        error: 'validation_error',
        message: 'The webhook body is not valid JSON',
        details: [{ path: '(body)', message: 'malformed JSON' }],
      });
    case 'invalid':
      return jsonResponse(400, {
        error: 'validation_error',
        message: 'The webhook body is not a payment event',
        details: read.details,
      });
    // The webhook may be genuine: the service is asked to deliver it again, not told it is
    // refused. What failed is logged, never answered.
    case 'no_key':
      return jsonResponse(
        503,
        {
          error: 'service_unavailable',
          message: 'The service is temporarily unavailable, please retry',
        },
        retryAfter(RETRY_AFTER_SECONDS * 1000),
      );
  }
}
