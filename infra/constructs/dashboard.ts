import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  OLDEST_AUTHORIZATION_METRIC,
  OLDEST_UNFINISHED_METRIC,
  OLDEST_WAITING_METRIC,
  UNFINISHED_METRIC,
  WAITING_METRIC,
  WAITING_PAST_EXPIRY_METRIC,
} from '#lib/observability/constants.ts';
import type { FunctionName } from '../bundling.ts';
import {
  backlogMetric,
  failureMetric,
  OUTCOME_STATUSES,
  outcomeMetric,
  SAGA_STEPS,
  webhookSignatureRejectedMetric,
} from '../checkout-metrics.ts';

export interface CheckoutDashboardProps {
  readonly restApi: apigateway.RestApi;
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  /** Drawn as a line on the oldest-unfinished graph: the alarm's threshold. */
  readonly oldestUnfinishedThreshold: Duration;
  /** Drawn as a line on the oldest-open-authorization graph: that alarm's threshold. */
  readonly authorizationAlarm: Duration;
  /** Drawn as a line on the refused-webhooks graph: that alarm's threshold. */
  readonly webhookRejectionsThreshold: number;
  /** Shown in one status widget. */
  readonly alarms: cloudwatch.IAlarm[];
}

/**
 * One CloudWatch dashboard named after the stack: how checkouts end and where they fail, the
 * latency callers see, what recovery still has to finish, the oldest open card authorization,
 * the checkouts still waiting for an expired Pix or boleto, the payment webhooks refused for
 * their signature, and the alarms. Written with the `aws-cloudwatch` widgets: a dozen widgets do not need a
 * library that creates its own alarms and dashboards. It stays under 50 metrics, so it fits CloudWatch's free three dashboards.
 */
export class CheckoutDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: CheckoutDashboardProps) {
    super(scope, id);
    const functions = Object.entries(props.functions) as [FunctionName, lambda.IFunction][];
    const period = Duration.minutes(5);
    const api = props.restApi;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.days(1),
      widgets: [
        [
          graph(
            'Checkout outcomes (per 5 min)',
            OUTCOME_STATUSES.map((s) => outcomeMetric(s).with({ label: s })),
            {
              width: 12,
              stacked: true,
            },
          ),
          graph(
            'Failed or undone checkouts by step',
            SAGA_STEPS.map((s) => failureMetric(s).with({ label: s })),
            {
              width: 12,
              stacked: true,
            },
          ),
        ],
        [
          graph('API latency (ms)', [
            api.metricLatency({ period, statistic: 'p50', label: 'p50' }),
            api.metricLatency({ period, statistic: 'p99', label: 'p99' }),
          ]),
          graph(
            'Function duration p99 (ms)',
            functions.map(([name, fn]) =>
              fn.metricDuration({ period, statistic: 'p99', label: name }),
            ),
          ),
          graph('API requests and errors', [
            api.metricCount({ period, statistic: cloudwatch.Stats.SUM, label: 'requests' }),
            api.metricClientError({ period, statistic: cloudwatch.Stats.SUM, label: '4xx' }),
            api.metricServerError({ period, statistic: cloudwatch.Stats.SUM, label: '5xx' }),
          ]),
        ],
        [
          graph(
            'Oldest unfinished checkout (s, after each recovery run)',
            [backlogMetric(OLDEST_UNFINISHED_METRIC)],
            { width: 6, leftAnnotations: [alarmLine(props.oldestUnfinishedThreshold)] },
          ),
          graph(
            'Oldest open card authorization (s, after each recovery run)',
            [backlogMetric(OLDEST_AUTHORIZATION_METRIC)],
            { width: 6, leftAnnotations: [alarmLine(props.authorizationAlarm)] },
          ),
          graph(
            'Unfinished checkouts (after each recovery run)',
            [backlogMetric(UNFINISHED_METRIC)],
            { width: 6 },
          ),
          graph(
            'Function errors',
            functions.map(([name, fn]) =>
              fn.metricErrors({ period, statistic: cloudwatch.Stats.SUM, label: name }),
            ),
            { width: 6 },
          ),
        ],
        [
          graph(
            "Checkouts waiting for a Pix or boleto, and the oldest one's age (after each recovery run)",
            [
              backlogMetric(WAITING_METRIC).with({ label: 'waiting' }),
              backlogMetric(WAITING_PAST_EXPIRY_METRIC).with({ label: 'waiting past expiry' }),
            ],
            {
              width: 12,
              leftAnnotations: [countLine(0)],
              right: [backlogMetric(OLDEST_WAITING_METRIC).with({ label: 'oldest waiting (s)' })],
            },
          ),
          graph(
            'Payment webhooks refused for their signature (per 5 min)',
            [webhookSignatureRejectedMetric().with({ label: 'refused' })],
            { width: 12, leftAnnotations: [countLine(props.webhookRejectionsThreshold)] },
          ),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: props.alarms,
            width: 24,
            height: 4,
          }),
        ],
      ],
    });
  }
}

/** An alarm's threshold as a red line on its metric's graph. */
function alarmLine(threshold: Duration): cloudwatch.HorizontalAnnotation {
  return countLine(threshold.toSeconds());
}

/** A count alarm's threshold as a red line. */
function countLine(threshold: number): cloudwatch.HorizontalAnnotation {
  return { value: threshold, label: 'alarm', color: cloudwatch.Color.RED };
}

function graph(
  title: string,
  metrics: cloudwatch.IMetric[],
  options: Partial<cloudwatch.GraphWidgetProps> = {},
): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6, ...options });
}
