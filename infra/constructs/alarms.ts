import { Duration } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  OLDEST_AUTHORIZATION_METRIC,
  OLDEST_UNFINISHED_METRIC,
  REFUNDED_AFTER_COMPLETION_METRIC,
  WAITING_PAST_EXPIRY_METRIC,
} from '#lib/observability/constants.ts';
import type { FunctionName } from '../bundling.ts';
import {
  backlogMetric,
  outcomeMetric,
  serviceCountMetric,
  webhookSignatureRejectedMetric,
} from '../checkout-metrics.ts';

export interface CheckoutAlarmsProps {
  /** Starts every alarm's name (`<stack>-`): the topic lets alarms of this prefix publish. */
  readonly namePrefix: string;
  readonly restApi: apigateway.RestApi;
  /** Each gets an alarm on its errors (crashes and timeouts; handled errors are answers). */
  readonly functions: Readonly<Record<FunctionName, lambda.IFunction>>;
  /** Told when an alarm fires and, but for `requires_attention`, when it clears. */
  readonly topic: sns.ITopic;
  /** Recovery's on-failure destination: invocations that failed or expired. */
  readonly recoveryFailures: sqs.IQueue;
  /** `CHECKOUT_LEASE_MS` as the functions get it. */
  readonly lease: Duration;
  /** `RECOVERY_SETTLE_DELAY_MS` as the functions get it. */
  readonly recoverySettleDelay: Duration;
  /** How old the oldest open card authorization may get (`authorizationAlarmHours`). */
  readonly authorizationAlarm: Duration;
  /** 5xx answers in 5 minutes that raise the alarm. @default 5 */
  readonly serverErrorsPer5Minutes?: number;
  /** Failed checkouts in 5 minutes that raise the alarm (declines are normal). @default 10 */
  readonly failedCheckoutsPer5Minutes?: number;
  /**
   * Payment webhooks refused for their signature in 5 minutes that raise the alarm.
   * @default DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES
   */
  readonly webhookRejectionsPer5Minutes?: number;
}

/**
 * The payment service signs every webhook, so a refusal is never its normal traffic. The
 * endpoint is public, though: a scanner probing POST paths, or one delivery signed a moment
 * before a secret rotation, refuses one or two, which is not worth a page. Five in 5 minutes is
 * what a wrong or rotated secret produces as soon as a few payments are in flight (each
 * delivered again and again), and what anyone trying to forge a payment does.
 */
export const DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES = 5;

/**
 * How old the oldest unfinished checkout may get: a checkout left `incomplete` is taken by
 * recovery once its lease has ended and the settle delay has passed; if that run leaves it
 * unfinished too, it holds a second lease. Older than both leases and the delay, recovery is
 * not getting it done by itself.
 */
export const oldestUnfinishedThreshold = (lease: Duration, recoverySettleDelay: Duration) =>
  Duration.seconds(2 * lease.toSeconds() + recoverySettleDelay.toSeconds());

const FIVE_MINUTES = Duration.minutes(5);

/**
 * What someone must look at, each notifying the alarm topic (`docs/operations.md` says what to
 * do for each):
 *
 * - `requires-attention`: any checkout whose undo kept failing; money or stock may be held.
 * - `oldest-unfinished`: recovery has not finished a checkout within two leases and the settle
 *   delay. Recovery writes this metric after each run only, hourly at rest: missing data keeps
 *   the alarm's state (it neither raises nor clears it), and the next run's value decides.
 * - `oldest-open-authorization`: a card authorization (`after_order`) has been open longer than
 *   `authorizationAlarmHours`: capture or void it before it expires. Written by recovery beside
 *   the oldest unfinished age, and treated alike.
 * - `incomplete`: checkouts left unfinished in three 5-minute periods in a row, a service that
 *   stays unreachable. One on its own is a blip that recovery finishes.
 * - `failed`: more refusals than usual; `server-errors`: the API answering 5xx (incomplete
 *   checkouts answer 503 too); `<function>-errors`: a function crashed or timed out.
 * - `recovery-failed-invocations`: a recovery invocation failed or expired in Lambda's queue and
 *   sits in the failure queue until someone reads and deletes it.
 * - `webhook-signature-rejected`: payment webhooks refused for their signature: the secret we
 *   hold is not the one the service signs with, or someone forges or replays payments.
 * - `waiting-past-expiry`: checkouts still waiting for a Pix or boleto more than an hour after
 *   it expired: the expiry check that ends them is not running. Written by recovery beside the
 *   backlog, and treated alike.
 * - `refunded-after-completion`: a completed Pix or boleto whose payment was refunded outside
 *   the checkout (in the payment console): its order stands unpaid, which a person must settle.
 */
export class CheckoutAlarms extends Construct {
  readonly requiresAttention: cloudwatch.Alarm;
  readonly oldestUnfinished: cloudwatch.Alarm;
  readonly oldestOpenAuthorization: cloudwatch.Alarm;
  readonly incomplete: cloudwatch.Alarm;
  readonly failedCheckouts: cloudwatch.Alarm;
  readonly serverErrors: cloudwatch.Alarm;
  readonly recoveryFailedInvocations: cloudwatch.Alarm;
  readonly webhookSignatureRejected: cloudwatch.Alarm;
  readonly waitingPastExpiry: cloudwatch.Alarm;
  readonly refundedAfterCompletion: cloudwatch.Alarm;
  readonly functionErrors: Record<FunctionName, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: CheckoutAlarmsProps) {
    super(scope, id);
    const prefix = props.namePrefix;
    const notify = (alarm: cloudwatch.Alarm, { whenCleared }: { whenCleared: boolean }) => {
      const action = new actions.SnsAction(props.topic);
      alarm.addAlarmAction(action);
      if (whenCleared) alarm.addOkAction(action);
      return alarm;
    };
    const atLeast = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
    const notBreaching = cloudwatch.TreatMissingData.NOT_BREACHING;

    // A count of events, not a state: the 5-minute period after the checkout ends in
    // requires_attention has no data and the alarm returns to OK while the checkout still waits
    // for a person, so no OK notification (`npm run checkouts -- list` is the state).
    this.requiresAttention = notify(
      outcomeMetric('requires_attention').createAlarm(this, 'RequiresAttention', {
        alarmName: `${prefix}requires-attention`,
        alarmDescription:
          'A checkout could not be undone and needs a person (log: CHECKOUT REQUIRES ATTENTION). ' +
          'Runbook: docs/operations.md',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: notBreaching,
      }),
      { whenCleared: false },
    );

    const threshold = oldestUnfinishedThreshold(props.lease, props.recoverySettleDelay);
    this.oldestUnfinished = notify(
      backlogMetric(OLDEST_UNFINISHED_METRIC).createAlarm(this, 'OldestUnfinished', {
        alarmName: `${prefix}oldest-unfinished`,
        alarmDescription:
          `An unfinished checkout is older than ${threshold.toSeconds()} s (2 leases + the ` +
          'recovery settle delay): recovery is not finishing it. Runbook: docs/operations.md',
        threshold: threshold.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      { whenCleared: true },
    );

    // An authorization expires (7 days card-not-present at Stripe): past that, the capture is
    // refused and the customer has an order nobody was paid for. Same metric source as above, so
    // the same missing-data rule: at rest one point an hour, and the last value stands.
    const hours = props.authorizationAlarm.toHours();
    this.oldestOpenAuthorization = notify(
      backlogMetric(OLDEST_AUTHORIZATION_METRIC).createAlarm(this, 'OldestOpenAuthorization', {
        alarmName: `${prefix}oldest-open-authorization`,
        alarmDescription:
          `A card authorization has been open for more than ${hours} h: capture it (the order ` +
          'exists) or void it (no order) before it expires, 7 days at Stripe. ' +
          'Runbook: docs/operations.md',
        threshold: props.authorizationAlarm.toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      { whenCleared: true },
    );

    this.incomplete = notify(
      outcomeMetric('incomplete').createAlarm(this, 'Incomplete', {
        alarmName: `${prefix}incomplete`,
        alarmDescription:
          'Checkouts were left incomplete in every 5 minutes for 15 minutes: a downstream service ' +
          'stays unreachable or slow. Runbook: docs/operations.md',
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        comparisonOperator: atLeast,
        treatMissingData: notBreaching,
      }),
      { whenCleared: true },
    );

    this.failedCheckouts = notify(
      outcomeMetric('failed').createAlarm(this, 'FailedCheckouts', {
        alarmName: `${prefix}failed`,
        alarmDescription: 'More checkouts failed than usual (refusals, unavailable services)',
        threshold: props.failedCheckoutsPer5Minutes ?? 10,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: notBreaching,
      }),
      { whenCleared: true },
    );

    this.serverErrors = notify(
      props.restApi
        .metricServerError({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM })
        .createAlarm(this, 'ServerErrors', {
          alarmName: `${prefix}server-errors`,
          alarmDescription: 'The checkout API answered 5xx (see the access log and the functions)',
          threshold: props.serverErrorsPer5Minutes ?? 5,
          evaluationPeriods: 1,
          comparisonOperator: atLeast,
          treatMissingData: notBreaching,
        }),
      { whenCleared: true },
    );

    // A state, not a count: it stays raised while a message waits in the queue. SQS stops
    // sending metrics for a queue nobody touches, so missing data keeps the alarm's state.
    this.recoveryFailedInvocations = notify(
      props.recoveryFailures
        .metricApproximateNumberOfMessagesVisible({
          period: FIVE_MINUTES,
          statistic: cloudwatch.Stats.MAXIMUM,
        })
        .createAlarm(this, 'RecoveryFailedInvocations', {
          alarmName: `${prefix}recovery-failed-invocations`,
          alarmDescription:
            'A recovery invocation failed or expired (Lambda does not retry it): the message in ' +
            'the failure queue says which and why. Runbook: docs/operations.md',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: atLeast,
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        }),
      { whenCleared: true },
    );

    // A count of refusals: a forger stops, a fixed secret stops them, and OK says so.
    this.webhookSignatureRejected = notify(
      webhookSignatureRejectedMetric().createAlarm(this, 'WebhookSignatureRejected', {
        alarmName: `${prefix}webhook-signature-rejected`,
        alarmDescription:
          'Payment webhooks were refused for their signature: a wrong or rotated webhook ' +
          'secret, a clock off by minutes, or forged or replayed payments. Runbook: ' +
          'docs/operations.md',
        threshold: props.webhookRejectionsPer5Minutes ?? DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES,
        evaluationPeriods: 1,
        comparisonOperator: atLeast,
        treatMissingData: notBreaching,
      }),
      { whenCleared: true },
    );

    // A state written by recovery after each run, like the oldest unfinished age: missing data
    // keeps the alarm's state, and the next run's value raises or clears it.
    this.waitingPastExpiry = notify(
      backlogMetric(WAITING_PAST_EXPIRY_METRIC).createAlarm(this, 'WaitingPastExpiry', {
        alarmName: `${prefix}waiting-past-expiry`,
        alarmDescription:
          'Checkouts still wait for a Pix or boleto that expired over an hour ago: the expiry ' +
          'check is not ending them. Runbook: docs/operations.md',
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      { whenCleared: true },
    );

    // Each one is an order standing unpaid: one is enough, and it needs a person, not a clear.
    this.refundedAfterCompletion = notify(
      serviceCountMetric(REFUNDED_AFTER_COMPLETION_METRIC).createAlarm(
        this,
        'RefundedAfterCompletion',
        {
          alarmName: `${prefix}refunded-after-completion`,
          alarmDescription:
            'A completed Pix or boleto was refunded outside the checkout: its order stands ' +
            'unpaid (log line PAYMENT REFUNDED AFTER COMPLETION). Runbook: docs/operations.md',
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: atLeast,
          treatMissingData: notBreaching,
        },
      ),
      { whenCleared: false },
    );

    const entries = Object.entries(props.functions) as [FunctionName, lambda.IFunction][];
    this.functionErrors = Object.fromEntries(
      entries.map(([name, fn]) => [
        name,
        notify(
          fn
            .metricErrors({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.SUM })
            .createAlarm(this, `${pascal(name)}Errors`, {
              alarmName: `${prefix}${name}-errors`,
              alarmDescription: `The ${name} function crashed or timed out (see its log group)`,
              threshold: 1,
              evaluationPeriods: 1,
              comparisonOperator: atLeast,
              treatMissingData: notBreaching,
            }),
          { whenCleared: true },
        ),
      ]),
    ) as Record<FunctionName, cloudwatch.Alarm>;
  }

  /** Every alarm of the service, for the dashboard's status widget. */
  get all(): cloudwatch.Alarm[] {
    return [
      this.requiresAttention,
      this.oldestUnfinished,
      this.oldestOpenAuthorization,
      this.incomplete,
      this.failedCheckouts,
      this.serverErrors,
      this.recoveryFailedInvocations,
      this.webhookSignatureRejected,
      this.waitingPastExpiry,
      this.refundedAfterCompletion,
      ...Object.values(this.functionErrors),
    ];
  }
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
