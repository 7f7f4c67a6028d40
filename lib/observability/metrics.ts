import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CheckoutMetrics } from '#lib/checkout/ports.ts';
import {
  FAILURE_METRIC,
  METRICS_NAMESPACE,
  OLDEST_UNFINISHED_METRIC,
  OUTCOME_METRIC,
  serviceName,
  UNFINISHED_METRIC,
} from './constants.ts';

/**
 * Embedded Metric Format through Powertools: each outcome is flushed at once as a single
 * metric, so nothing is lost if an invocation ends abruptly. `POWERTOOLS_METRICS_DISABLED`
 * turns it off (the local server and tests).
 */
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: serviceName(),
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
  backlog(unfinished, oldestAgeSeconds) {
    const backlog = metrics.singleMetric();
    backlog.addMetric(UNFINISHED_METRIC, MetricUnit.Count, unfinished);
    backlog.addMetric(OLDEST_UNFINISHED_METRIC, MetricUnit.Seconds, oldestAgeSeconds);
  },
};
