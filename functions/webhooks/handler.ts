import type { APIGatewayProxyEvent } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { httpFunction } from '#lib/http/http-function.ts';
import { type PaymentWebhookRead, readPaymentWebhook } from '#lib/http/payment-webhook-request.ts';
import {
  paymentEventResponse,
  refusedWebhookResponse,
} from '#lib/http/payment-webhook-response.ts';
import { logger } from '#lib/observability/index.ts';
import { webhookMetrics } from '#lib/observability/metrics.ts';

/**
 * `POST /webhooks/payments`: the payment service's signed events (a Pix paid, a boleto
 * expired). No IAM or API key: the signature is the authentication, checked on the raw body
 * before anything is parsed; a signed event is handed to the use case, which looks the payment
 * up and moves the checkout by what the service says, under the checkout's lease.
 */
export const handler = httpFunction(async (event, context) => {
  const read = await readPaymentWebhook(
    event,
    async () => (await getApp()).webhookKey(),
    Math.floor(Date.now() / 1000),
  );
  if (read.kind !== 'event') {
    noteRefusal(read, event);
    return refusedWebhookResponse(read);
  }
  const app = await getApp();
  const worker = `webhook:${context.awsRequestId}`;
  const budget = workBudget(app.config.leaseMs, context.getRemainingTimeInMillis(), worker);
  return paymentEventResponse(await app.receivePaymentEvent(read.event, budget));
});

/**
 * A refused signature is counted (`WebhookSignatureRejected`, alarmed) and logged with its
 * reason; the secret missing is an error someone must fix. Never the body or the signature.
 */
function noteRefusal(
  read: Exclude<PaymentWebhookRead, { kind: 'event' }>,
  event: APIGatewayProxyEvent,
) {
  if (read.kind === 'unsigned') {
    webhookMetrics.signatureRejected();
    logger.warn('payment webhook refused: signature', {
      reason: read.reason,
      source_ip: event.requestContext?.identity?.sourceIp,
    });
  } else if (read.kind === 'no_key') {
    const error = read.error as Error;
    logger.error('payment webhook not read: no signing secret', {
      error: { name: error?.name, message: error?.message },
    });
  } else if (read.kind === 'not_ours') {
    logger.info('payment webhook ignored: its checkout_id is not one of ours');
  } else {
    logger.warn('payment webhook refused', { refusal: read.kind });
  }
}
