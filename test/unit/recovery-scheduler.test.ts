import {
  ConflictException,
  CreateScheduleCommand,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRecoveryScheduler } from '#lib/clients/recovery-scheduler.ts';

const scheduler = mockClient(SchedulerClient);
afterAll(() => scheduler.restore());

const CONFIG = {
  group: 'checkout-commerce-recovery',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:CheckoutCommerce-dev-recovery',
  roleArn: 'arn:aws:iam::123456789012:role/CheckoutCommerce-RecoverySchedulerRole',
};
const CHECKOUT = { id: '3f9c2b1e-8a4d-4c1e-9b7a-2d5e6f7a8b90', attempt: 2 };
const LEASE_ENDS_AT = new Date('2026-11-25T23:59:30.250Z');

const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
const withConfig = () => createRecoveryScheduler({ config: CONFIG, settleDelayMs: 60_000, logger });

beforeEach(() => {
  scheduler.reset();
  vi.clearAllMocks();
});

describe('the recovery scheduler (EventBridge Scheduler)', () => {
  it('creates one one-off schedule per checkout and attempt, at lease end + settle delay + margin in UTC, deleted after it runs', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await withConfig().scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);

    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Name: `recover-${CHECKOUT.id}-2`,
      GroupName: CONFIG.group,
      // 23:59:30.250 + 60 s + 15 s, across midnight, without the fraction of a second.
      ScheduleExpression: 'at(2026-11-26T00:00:45)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: CONFIG.targetArn,
        RoleArn: CONFIG.roleArn,
        Input: JSON.stringify({ source: 'checkout-commerce.recovery', checkoutId: CHECKOUT.id }),
      },
    });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('gives a new attempt of the same checkout a schedule of its own', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const recovery = withConfig();

    await recovery.scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);
    await recovery.scheduleRecovery({ ...CHECKOUT, attempt: 3 }, LEASE_ENDS_AT);

    const names = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    expect(names).toEqual([`recover-${CHECKOUT.id}-2`, `recover-${CHECKOUT.id}-3`]);
  });

  it('takes a schedule that already exists (ConflictException) as done, quietly', async () => {
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule already exists',
        Message: 'Schedule already exists',
        $metadata: {},
      }),
    );

    await expect(withConfig().scheduleRecovery(CHECKOUT, LEASE_ENDS_AT)).resolves.toBeUndefined();

    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it.each([
    [
      'a refusal',
      new ValidationException({
        message: 'bad expression',
        Message: 'bad expression',
        $metadata: {},
      }),
    ],
    ['a network error', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
  ])('logs %s and does not throw: the hourly sweep finds the checkout', async (_, error) => {
    scheduler.on(CreateScheduleCommand).rejects(error);

    await expect(withConfig().scheduleRecovery(CHECKOUT, LEASE_ENDS_AT)).resolves.toBeUndefined();

    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('hourly sweep'), {
      checkout_id: CHECKOUT.id,
      error: error.name,
    });
  });

  it('makes no call at all without a configuration (locally, in tests)', async () => {
    const recovery = createRecoveryScheduler({ settleDelayMs: 60_000, logger });

    await recovery.scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);

    expect(scheduler.calls()).toHaveLength(0);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});
