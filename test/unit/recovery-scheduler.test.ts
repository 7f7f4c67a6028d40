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
  group: 'CheckoutCommerce-prod-recovery',
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
  it('creates a one-off schedule named for the minute it is due (lease end + settle delay + margin, rounded up), in UTC, deleted after it runs', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:schedule' });

    await withConfig().scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);

    const calls = scheduler.commandCalls(CreateScheduleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      Name: 'CheckoutCommerce-prod-due-202611260001',
      GroupName: CONFIG.group,
      // 23:59:30.250 + 60 s + 15 s = 00:00:45.250, across midnight: due at the next minute.
      ScheduleExpression: 'at(2026-11-26T00:01:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: CONFIG.targetArn,
        RoleArn: CONFIG.roleArn,
        Input: JSON.stringify({ source: 'checkout-commerce.recovery' }),
      },
    });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('names a schedule for its minute alone: a takeover with a stale attempt, or another checkout due that minute, asks for the same run', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const recovery = withConfig();

    await recovery.scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);
    await recovery.scheduleRecovery({ ...CHECKOUT, attempt: 3 }, LEASE_ENDS_AT);
    await recovery.scheduleRecovery(
      { id: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', attempt: 1 },
      new Date(LEASE_ENDS_AT.getTime() + 10_000),
    );
    await recovery.scheduleRecovery(CHECKOUT, new Date(LEASE_ENDS_AT.getTime() + 20_000));

    const names = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name);
    expect(names).toEqual([
      'CheckoutCommerce-prod-due-202611260001',
      'CheckoutCommerce-prod-due-202611260001',
      'CheckoutCommerce-prod-due-202611260001',
      'CheckoutCommerce-prod-due-202611260002',
    ]);
  });

  it('keeps a name within the 64 characters EventBridge Scheduler allows', async () => {
    scheduler.on(CreateScheduleCommand).resolves({});
    const group = `${'A'.repeat(70)}-recovery`;
    await createRecoveryScheduler({
      config: { ...CONFIG, group },
      settleDelayMs: 0,
      logger,
    }).scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);

    const [call] = scheduler.commandCalls(CreateScheduleCommand);
    expect(call?.args[0].input.Name).toHaveLength(64);
    expect(call?.args[0].input.Name).toMatch(/-due-202611260000$/);
  });

  it('takes a schedule that already exists (ConflictException) as a run already due, quietly', async () => {
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

  it('wakes the expiry check at the first whole minute at or after it, on the same minute schedules, quietly when one is already due', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .resolvesOnce({})
      .rejects(new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} }));
    const recovery = withConfig();

    // No settle delay or margin: the check is due when the Pix expires.
    await recovery.scheduleCheck(CHECKOUT, new Date('2026-11-24T12:30:00.000Z'));
    await expect(
      recovery.scheduleCheck({ id: 'another' }, new Date('2026-11-24T12:29:00.001Z')),
    ).resolves.toBeUndefined();

    const inputs = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.Name, i.ScheduleExpression])).toEqual([
      ['CheckoutCommerce-prod-due-202611241230', 'at(2026-11-24T12:30:00)'],
      ['CheckoutCommerce-prod-due-202611241230', 'at(2026-11-24T12:30:00)'],
    ]);
    expect(inputs[0]).toMatchObject({ ActionAfterCompletion: 'DELETE', GroupName: CONFIG.group });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('logs an expiry check it could not schedule and does not throw', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('socket hang up'));

    await expect(
      withConfig().scheduleCheck(CHECKOUT, new Date('2026-11-24T12:30:00Z')),
    ).resolves.toBeUndefined();

    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('expiry check'), {
      checkout_id: CHECKOUT.id,
      error: 'Error',
    });
  });

  it('makes no call at all without a configuration (locally, in tests)', async () => {
    const recovery = createRecoveryScheduler({ settleDelayMs: 60_000, logger });

    await recovery.scheduleRecovery(CHECKOUT, LEASE_ENDS_AT);
    await recovery.scheduleCheck(CHECKOUT, LEASE_ENDS_AT);

    expect(scheduler.calls()).toHaveLength(0);
    expect(logger.warn).not.toHaveBeenCalled();
  });
});
