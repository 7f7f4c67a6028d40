import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, OUTCOME_METRIC, SERVICE_NAME } from '#lib/observability/constants.ts';

export interface CheckoutAlarmsProps {
  readonly restApi: apigateway.RestApi;
  /** 5xx answers in 5 minutes that raise the alarm. @default 5 */
  readonly serverErrorsPer5Minutes?: number;
  /** Failed checkouts in 5 minutes that raise the alarm (declines are normal). @default 10 */
  readonly failedCheckoutsPer5Minutes?: number;
}

/**
 * What someone must look at: the API answering 5xx (services unavailable, incomplete checkouts,
 * crashes), an unusual number of failed checkouts, and any checkout whose undo kept failing
 * (`requires_attention`: money or stock may be held and a person has to settle it). The
 * checkout metrics are the ones `lib/observability/metrics.ts` writes (EMF, namespace and dimensions shared).
 * The alarms have no action: subscribe a topic or an on-call tool to them per environment.
 */
export class CheckoutAlarms extends Construct {
  readonly serverErrors: cloudwatch.Alarm;
  readonly failedCheckouts: cloudwatch.Alarm;
  readonly requiresAttention: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CheckoutAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);

    this.serverErrors = props.restApi
      .metricServerError({ period, statistic: cloudwatch.Stats.SUM })
      .createAlarm(this, 'ServerErrors', {
        alarmDescription: 'The checkout API answered 5xx (see the access log and the functions)',
        threshold: props.serverErrorsPer5Minutes ?? 5,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    this.failedCheckouts = outcome('failed', period).createAlarm(this, 'FailedCheckouts', {
      alarmDescription: 'More checkouts failed than usual (refusals, unavailable services)',
      threshold: props.failedCheckoutsPer5Minutes ?? 10,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.requiresAttention = outcome('requires_attention', period).createAlarm(
      this,
      'RequiresAttention',
      {
        alarmDescription:
          'A checkout could not be undone and needs a person (log: CHECKOUT REQUIRES ATTENTION)',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
    );
  }
}

/** Count of checkouts that ended with `status`, as written by `checkoutMetrics.outcome`. */
function outcome(status: 'failed' | 'requires_attention', period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: OUTCOME_METRIC,
    dimensionsMap: { service: SERVICE_NAME, status },
    statistic: cloudwatch.Stats.SUM,
    period,
  });
}
