import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { RecoveryScheduler, SagaLogger } from '#lib/checkout/ports.ts';
import type { RecoverySchedulerConfig } from '#lib/config.ts';
import { RECOVERY_REQUEST_SOURCE } from '#lib/observability/constants.ts';

/** Added to the settle delay: EventBridge's clock and the database's may differ a little. */
const MARGIN_MS = 15_000;
/** The checkout's answer waits for the schedule: never long (the work budget keeps 2 s back). */
const CREATE_TIMEOUT_MS = 1_000;

export interface RecoverySchedulerOptions {
  /** Absent (locally, in tests): no schedules; the local server's own loop runs recovery. */
  config?: RecoverySchedulerConfig;
  /** Recovery claims a checkout only this long after its lease ended. */
  settleDelayMs: number;
  logger: SagaLogger;
  client?: SchedulerClient;
}

/**
 * EventBridge Scheduler one-off schedules that invoke the recovery function once a checkout's
 * lease has ended and its settle delay passed, or once a Pix's or boleto's expiry check is due,
 * then delete themselves. A schedule is named for the minute it is due
 * (`<stage>-due-<yyyymmddhhmm>`, at the start of the first whole minute at or after it), not for
 * a checkout: each run claims every checkout due by then, so one that exists for that minute
 * (ConflictException) means a run is already due, whoever asked for it. No name ever depends on
 * a checkout's attempt, so a worker that holds a stale copy still asks correctly. The SDK client
 * is loaded on the first schedule: a cold start that leaves nothing incomplete never pays for it.
 */
export function createRecoveryScheduler(options: RecoverySchedulerOptions): RecoveryScheduler {
  const { config, settleDelayMs, logger } = options;
  if (!config) return { async scheduleRecovery() {}, async scheduleCheck() {} };
  let client: Promise<SchedulerClient> | undefined;
  const sdk = () => import('@aws-sdk/client-scheduler');

  /** Asks for a run at the minute `due` falls in (or after); logs what fails, never throws. */
  const runAt = async (due: Date, checkoutId: string, what: string) => {
    const at = dueMinute(due);
    try {
      const { CreateScheduleCommand, SchedulerClient } = await sdk();
      client ??= Promise.resolve(options.client ?? new SchedulerClient({}));
      await (await client).send(
        new CreateScheduleCommand({
          Name: scheduleName(config.group, at),
          GroupName: config.group,
          ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: config.targetArn,
            RoleArn: config.roleArn,
            Input: JSON.stringify({ source: RECOVERY_REQUEST_SOURCE }),
          },
        }),
        { abortSignal: AbortSignal.timeout(CREATE_TIMEOUT_MS) },
      );
    } catch (error) {
      // A run is already due that minute: it will claim this checkout too.
      if ((error as { name?: string }).name === 'ConflictException') return;
      logger.warn(`${what} schedule not created; the hourly sweep will find the checkout`, {
        checkout_id: checkoutId,
        error: (error as { name?: string }).name ?? String(error),
      });
    }
  };

  return {
    scheduleRecovery: (checkout, leaseEndsAt) =>
      runAt(new Date(leaseEndsAt.getTime() + settleDelayMs + MARGIN_MS), checkout.id, 'recovery'),
    scheduleCheck: (checkout, at) => runAt(at, checkout.id, 'expiry check'),
  };
}

/** The start of the first whole minute at or after `at`: when the run is due. */
function dueMinute(at: Date): Date {
  const minute = 60_000;
  return new Date(Math.ceil(at.getTime() / minute) * minute);
}

/** Schedule names are at most 64 characters (EventBridge Scheduler). */
const MAX_NAME = 64;

/**
 * `<stage>-due-<yyyymmddhhmm>`: the stage is the schedule group's name without its
 * `-recovery` suffix (the group is the stage's own), cut to fit the name's limit.
 */
function scheduleName(group: string, due: Date): string {
  const minute = due.toISOString().slice(0, 16).replace(/[-T:]/g, '');
  const suffix = `-due-${minute}`;
  return group.replace(/-recovery$/, '').slice(0, MAX_NAME - suffix.length) + suffix;
}
