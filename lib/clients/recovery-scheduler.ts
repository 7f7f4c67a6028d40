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
 * lease has ended and its settle delay passed, then delete themselves. One per checkout and
 * attempt (the name), so a repeat is a no-op. The SDK client is loaded on the first schedule:
 * a cold start that leaves nothing incomplete never pays for it.
 */
export function createRecoveryScheduler(options: RecoverySchedulerOptions): RecoveryScheduler {
  const { config, settleDelayMs, logger } = options;
  if (!config) return { async scheduleRecovery() {} };
  let client: Promise<SchedulerClient> | undefined;
  const sdk = () => import('@aws-sdk/client-scheduler');
  return {
    async scheduleRecovery(checkout, leaseEndsAt) {
      const at = new Date(leaseEndsAt.getTime() + settleDelayMs + MARGIN_MS);
      try {
        const { CreateScheduleCommand, SchedulerClient } = await sdk();
        client ??= Promise.resolve(options.client ?? new SchedulerClient({}));
        await (await client).send(
          new CreateScheduleCommand({
            Name: `recover-${checkout.id}-${checkout.attempt}`,
            GroupName: config.group,
            ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
            ScheduleExpressionTimezone: 'UTC',
            FlexibleTimeWindow: { Mode: 'OFF' },
            ActionAfterCompletion: 'DELETE',
            Target: {
              Arn: config.targetArn,
              RoleArn: config.roleArn,
              Input: JSON.stringify({
                source: RECOVERY_REQUEST_SOURCE,
                checkoutId: checkout.id,
              }),
            },
          }),
          { abortSignal: AbortSignal.timeout(CREATE_TIMEOUT_MS) },
        );
      } catch (error) {
        // This attempt's schedule already exists: nothing to do.
        if ((error as { name?: string }).name === 'ConflictException') return;
        logger.warn('recovery schedule not created; the hourly sweep will find the checkout', {
          checkout_id: checkout.id,
          error: (error as { name?: string }).name ?? String(error),
        });
      }
    },
  };
}
