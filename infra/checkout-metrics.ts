import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import {
  FAILURE_METRIC,
  METRICS_NAMESPACE,
  type OLDEST_AUTHORIZATION_METRIC,
  type OLDEST_UNFINISHED_METRIC,
  type OLDEST_WAITING_METRIC,
  OUTCOME_METRIC,
  type REFUNDED_AFTER_COMPLETION_METRIC,
  SERVICE_NAME,
  type UNFINISHED_METRIC,
  type WAITING_METRIC,
  type WAITING_PAST_EXPIRY_METRIC,
  WEBHOOK_SIGNATURE_REJECTED_METRIC,
} from '#lib/observability/constants.ts';

/**
 * The service's own metrics as `lib/observability/metrics.ts` writes them (EMF, namespace and
 * dimensions from the shared constants), for the alarms and the dashboard. No labels: a labelled
 * metric turns an alarm into a metric-math one.
 */

export const OUTCOME_STATUSES = [
  'completed',
  'failed',
  'requires_attention',
  'incomplete',
] as const;
export type OutcomeStatus = (typeof OUTCOME_STATUSES)[number];
export const SAGA_STEPS = ['payment', 'inventory', 'order'] as const;

const DEFAULT_PERIOD = Duration.minutes(5);

/** Checkouts that ended with `status` (the checkout and recovery functions both count them). */
export function outcomeMetric(status: OutcomeStatus, period = DEFAULT_PERIOD): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: OUTCOME_METRIC,
    dimensionsMap: { service: SERVICE_NAME, status },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

/** Failed or undone checkouts by the saga step that failed. */
export function failureMetric(
  step: (typeof SAGA_STEPS)[number],
  period = DEFAULT_PERIOD,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: FAILURE_METRIC,
    dimensionsMap: { service: SERVICE_NAME, failed_step: step },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

/** What recovery reports after each run (`CheckoutMetrics.backlog`). */
export type BacklogMetricName =
  | typeof UNFINISHED_METRIC
  | typeof OLDEST_UNFINISHED_METRIC
  | typeof OLDEST_AUTHORIZATION_METRIC
  | typeof WAITING_METRIC
  | typeof OLDEST_WAITING_METRIC
  | typeof WAITING_PAST_EXPIRY_METRIC;

/**
 * Written after each recovery run only (the hourly sweep and the one-off schedules): at rest
 * there is one data point an hour, in between none. The two ages are 0 when nothing is open.
 */
export function backlogMetric(name: BacklogMetricName, period = DEFAULT_PERIOD): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: cloudwatch.Stats.MAXIMUM,
    period,
  });
}

/**
 * Counts with no dimension but the service's: payment webhooks refused for their signature (the
 * webhook function counts them), completed payments found refunded since (the webhook use case).
 */
export function serviceCountMetric(
  name: typeof WEBHOOK_SIGNATURE_REJECTED_METRIC | typeof REFUNDED_AFTER_COMPLETION_METRIC,
  period = DEFAULT_PERIOD,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}

/** Payment webhooks refused for their signature. */
export const webhookSignatureRejectedMetric = (period = DEFAULT_PERIOD) =>
  serviceCountMetric(WEBHOOK_SIGNATURE_REJECTED_METRIC, period);
