import { Duration, Validations } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface RecoveryInvocationsProps {
  readonly recoveryFunction: lambda.Function;
  /**
   * How long an invocation may wait in Lambda's queue (throttled while another run holds the
   * function's single instance) before it is given up and sent to the failure queue.
   * @default 1 hour
   */
  readonly maxEventAge?: Duration;
}

/**
 * How the recovery function's invocations end. Both of its callers invoke it asynchronously:
 * the hourly EventBridge rule and the one-off EventBridge Scheduler schedules hand the event to
 * Lambda's own queue, and from there Lambda, not the caller, retries a failed run, twice by
 * default, whatever retry policy the rule or schedule has (theirs only covers handing the event
 * over). Here Lambda retries nothing: each run takes every checkout whose lease has ended, so the
 * next run (the next schedule or the sweep) does what a retry would, and a retry of a run that
 * failed on a bug would fail the same way.
 *
 * A run that fails, or an event that waited past `maxEventAge`, is sent with its error to an
 * encrypted SQS queue (kept 14 days) that an alarm watches: the record of what recovery did not
 * do, where `recovery-errors` only counts crashes and misses an expired event.
 */
export class RecoveryInvocations extends Construct {
  /** The on-failure destination: one message per failed or expired invocation. */
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: RecoveryInvocationsProps) {
    super(scope, id);
    this.failures = new sqs.Queue(this, 'Failures', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination of the recovery function (Lambda ' +
        'on-failure destination); nothing consumes it automatically, so it needs no DLQ of its own.',
    });
    props.recoveryFunction.configureAsyncInvoke({
      retryAttempts: 0,
      maxEventAge: props.maxEventAge ?? Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.failures),
    });
  }
}
