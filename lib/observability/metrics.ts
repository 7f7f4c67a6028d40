import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CheckoutMetrics } from '#lib/checkout/ports.ts';
import {
  FAILURE_METRIC,
  METRICS_NAMESPACE,
  OLDEST_AUTHORIZATION_METRIC,
  OLDEST_UNFINISHED_METRIC,
  OLDEST_WAITING_METRIC,
  OUTCOME_METRIC,
  REFUNDED_AFTER_COMPLETION_METRIC,
  serviceName,
  UNFINISHED_METRIC,
  WAITING_METRIC,
  WAITING_PAST_EXPIRY_METRIC,
  WEBHOOK_SIGNATURE_REJECTED_METRIC,
} from './constants.ts';

/**
 * Embedded Metric Format through Powertools: each outcome is published at once, so nothing is
 * lost if an invocation ends abruptly. One instance, its buffer filled and flushed in a single
 * synchronous run (nothing interleaves): `singleMetric()` would build a new Metrics object per
 * call, which cost ≈ 0.1 ms of CPU per checkout. `POWERTOOLS_METRICS_DISABLED` turns it off
 * (the local server and tests).
 */
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: serviceName(),
});

export const checkoutMetrics: CheckoutMetrics = {
  outcome(status, failedStep) {
    metrics.addDimension('status', status);
    metrics.addMetric(OUTCOME_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    if (failedStep) {
      metrics.addDimension('failed_step', failedStep);
      metrics.addMetric(FAILURE_METRIC, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
  },
  backlog(report) {
    metrics.addMetric(UNFINISHED_METRIC, MetricUnit.Count, report.unfinished);
    metrics.addMetric(OLDEST_UNFINISHED_METRIC, MetricUnit.Seconds, report.oldestAgeSeconds);
    const { oldestAuthorizationAgeSeconds: authorization, oldestWaitingAgeSeconds } = report;
    metrics.addMetric(OLDEST_AUTHORIZATION_METRIC, MetricUnit.Seconds, authorization);
    metrics.addMetric(WAITING_METRIC, MetricUnit.Count, report.waiting);
    metrics.addMetric(OLDEST_WAITING_METRIC, MetricUnit.Seconds, oldestWaitingAgeSeconds);
    metrics.addMetric(WAITING_PAST_EXPIRY_METRIC, MetricUnit.Count, report.waitingPastExpiry);
    metrics.publishStoredMetrics();
  },
  refundedAfterCompletion() {
    metrics.addMetric(REFUNDED_AFTER_COMPLETION_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  },
};

/**
 * What the payment webhook endpoint counts (the HTTP layer's own, not the domain's: the
 * domain never sees a request that was refused before it was read).
 */
export interface WebhookMetrics {
  /** A webhook refused for its signature. */
  signatureRejected(): void;
}

export const webhookMetrics: WebhookMetrics = {
  signatureRejected() {
    metrics.addMetric(WEBHOOK_SIGNATURE_REJECTED_METRIC, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  },
};
