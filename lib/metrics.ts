import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CheckoutMetrics } from './checkout/ports.ts';

/** CloudWatch namespace and metric names: the CDK alarms refer to these same constants. */
export const METRICS_NAMESPACE = 'CheckoutCommerce';
export const SERVICE_NAME = 'checkout-commerce';
/** Count per checkout outcome; dimension `status`: completed | failed | requires_attention | incomplete. */
export const OUTCOME_METRIC = 'CheckoutOutcome';
/** Count per failed or undone checkout; dimension `failed_step`: payment | inventory | order. */
export const FAILURE_METRIC = 'CheckoutFailure';

/**
 * Embedded Metric Format through Powertools: each outcome is flushed at once as a single
 * metric, so nothing is lost if an invocation ends abruptly. `POWERTOOLS_METRICS_DISABLED`
 * turns it off (the local server and tests).
 */
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});

export const checkoutMetrics: CheckoutMetrics = {
  outcome(status, failedStep) {
    const outcome = metrics.singleMetric();
    outcome.addDimension('status', status);
    outcome.addMetric(OUTCOME_METRIC, MetricUnit.Count, 1);
    if (failedStep) {
      const failure = metrics.singleMetric();
      failure.addDimension('failed_step', failedStep);
      failure.addMetric(FAILURE_METRIC, MetricUnit.Count, 1);
    }
  },
};
