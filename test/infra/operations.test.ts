import { App, type CfnElement, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackPropsFromContext } from '../../infra/app.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { CheckoutStack } from '../../infra/checkout-stack.ts';
import { shortestIntervalMinutes } from './schedule-expressions.ts';
import {
  actionsOf,
  logicalIdOf,
  policyStatements,
  render,
  type Synthesized,
  synth,
} from './synth.ts';

/**
 * What the people who run the service get from the stack: alarms on one encrypted topic, a
 * dashboard, recovery that wakes the database at most hourly at rest (the sweep) and otherwise
 * only through one-off schedules, and an operator function without a route.
 */
let s: Synthesized;
beforeAll(() => {
  s = synth();
});

/** Template JSON, as loosely typed as `Template.toJSON` gives it. */
type Json = ReturnType<Template['toJSON']>;
interface Resource {
  Type: string;
  Properties: Json;
}
const resources = () => s.template.toJSON().Resources as Record<string, Resource>;
const ofType = (type: string) =>
  Object.entries(resources()).filter(([, r]) => r.Type === type) as [string, Resource][];
const idOf = (name: FunctionName) =>
  s.stack.getLogicalId(s.stack.functions[name].node.defaultChild as CfnElement);
const variablesOf = (name: FunctionName) =>
  resources()[idOf(name)]?.Properties.Environment.Variables as Record<string, unknown>;
const topicId = () => logicalIdOf(s.stack, s.stack.alarmTopic.topic.topicArn);

describe('its alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const alarmNamed = (suffix: string) => {
    const alarm = alarms().find((a) => a.AlarmName === `CheckoutCommerce-dev-${suffix}`);
    if (!alarm) throw new Error(`no alarm ${suffix}`);
    return alarm;
  };

  it('all notify the one SNS topic, and all but those a person settles say when they clear', () => {
    expect(alarms().length).toBeGreaterThanOrEqual(3);
    const settledByAPerson = [
      'CheckoutCommerce-dev-requires-attention',
      'CheckoutCommerce-dev-refunded-after-completion',
    ];
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([{ Ref: topicId() }]);
      const cleared = settledByAPerson.includes(String(alarm.AlarmName))
        ? undefined
        : [{ Ref: topicId() }];
      expect(alarm.OKActions, alarm.AlarmName).toEqual(cleared);
    }
  });

  it('fire when the oldest unfinished checkout is older than 2 leases + the settle delay the functions get, and missing data changes nothing', () => {
    const env = variablesOf('recovery');
    const threshold =
      (2 * Number(env.CHECKOUT_LEASE_MS) + Number(env.RECOVERY_SETTLE_DELAY_MS)) / 1000;
    expect(threshold).toBe(180);
    expect(alarmNamed('oldest-unfinished')).toMatchObject({
      Namespace: 'CheckoutCommerce',
      MetricName: 'OldestUnfinishedAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'checkout-commerce' }],
      Statistic: 'Maximum',
      Threshold: threshold,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'ignore',
    });
  });

  it('refuse a settle delay under the longest per-try timeout at synth, as the functions would at start', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () =>
        new CheckoutStack(app, 'TooShort', {
          ...stackPropsFromContext(app),
          recoverySettleDelay: Duration.seconds(5),
        }),
    ).toThrow(/recoverySettleDelay: at least the longest per-try timeout \(10000 ms\)/);
  });

  it('follow a different lease and settle delay: one number for the functions and the alarm', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new CheckoutStack(app, 'Other', {
      ...stackPropsFromContext(app),
      lease: Duration.seconds(90),
      recoverySettleDelay: Duration.seconds(30),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CHECKOUT_LEASE_MS: '90000',
          RECOVERY_SETTLE_DELAY_MS: '30000',
        }),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestUnfinishedAgeSeconds',
      Threshold: 210,
    });
  });

  it.each([
    ['requires-attention', 'requires_attention', 1, 1],
    ['incomplete', 'incomplete', 1, 3],
    ['failed', 'failed', 10, 1],
  ])(
    'watch %s checkouts on the metric lib/observability writes',
    (name, status, threshold, periods) => {
      expect(alarmNamed(name)).toMatchObject({
        Namespace: 'CheckoutCommerce',
        MetricName: 'CheckoutOutcome',
        Dimensions: [
          { Name: 'service', Value: 'checkout-commerce' },
          { Name: 'status', Value: status },
        ],
        Statistic: 'Sum',
        Period: 300,
        Threshold: threshold,
        EvaluationPeriods: periods,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      // The incomplete alarm wants every period of three breaching, the others one.
      expect(alarmNamed(name).DatapointsToAlarm ?? 1).toBe(periods);
    },
  );

  it('watch 5xx answers of the API', () => {
    expect(alarmNamed('server-errors')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: 'CheckoutCommerce-dev' }],
      Threshold: 5,
    });
  });

  it.each(FUNCTIONS)('watch the errors of the %s function', (name) => {
    expect(alarmNamed(`${name}-errors`)).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: idOf(name) } }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  });
});

describe('the recovery invocations', () => {
  const queueId = () => logicalIdOf(s.stack, s.stack.recoveryInvocations.failures.queueArn);

  it('are not retried by Lambda, wait an hour at most, and land in the failure queue when they fail or expire', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    expect(configs).toEqual([
      {
        FunctionName: { Ref: idOf('recovery') },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId(), 'Arn'] } } },
      },
    ]);
  });

  it('come from the hourly rule and the one-off schedules, both asynchronous, and run one at a time', () => {
    // EventBridge rules and Scheduler both invoke Lambda asynchronously: the function's own
    // async config above, not the rule's retry policy, decides what is retried.
    s.template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    // One at a time where concurrency is reserved (prod by default; see deploy-settings.test.ts).
    const prod = synth({ stage: 'prod' });
    const recovery = Object.entries(prod.template.findResources('AWS::Lambda::Function')).find(
      ([, fn]) => String(fn.Properties.FunctionName).endsWith('-recovery'),
    );
    expect(recovery?.[1].Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('fail into a queue that is encrypted, TLS only, kept 14 days, and that recovery alone may write to', () => {
    expect(resources()[queueId()]?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    const [[, policy] = []] = ofType('AWS::SQS::QueuePolicy');
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    const writers = policyStatements(s.template)
      .filter(({ statement }) => actionsOf(statement).includes('sqs:SendMessage'))
      .map(({ policy, statement }) => [policy, statement.Resource]);
    const recoveryRole = logicalIdOf(s.stack, s.stack.functions.recovery.role?.roleArn ?? '');
    expect(writers).toHaveLength(1);
    expect(writers[0]?.[1]).toEqual({ 'Fn::GetAtt': [queueId(), 'Arn'] });
    expect(JSON.stringify(resources()[String(writers[0]?.[0])]?.Properties.Roles)).toBe(
      JSON.stringify([{ Ref: recoveryRole }]),
    );
  });

  it('raise an alarm on the topic while a failure waits in the queue', () => {
    const alarm = ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .find((a) => a.AlarmName === 'CheckoutCommerce-dev-recovery-failed-invocations');
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(), 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
      AlarmActions: [{ Ref: topicId() }],
      OKActions: [{ Ref: topicId() }],
    });
  });
});

describe('the alarm topic', () => {
  const topic = () => resources()[topicId()]?.Properties;

  it('is encrypted with a rotated key that CloudWatch may use to publish', () => {
    const keyId = logicalIdOf(s.stack, s.stack.alarmTopic.topic.masterKey?.keyArn ?? '');
    expect(topic()?.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = resources()[keyId];
    expect(key?.Type).toBe('AWS::KMS::Key');
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(key?.Properties.KeyPolicy.Statement).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Resource: '*',
    });
  });

  it('refuses publishing without TLS and lets this stack’s alarms, and only them, publish', () => {
    const [[, policy] = []] = ofType('AWS::SNS::TopicPolicy');
    const statements = (policy?.Properties.PolicyDocument.Statement ?? []) as Json[];
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sns:Publish',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    const allow = statements.find((st) => st.Effect === 'Allow');
    expect(allow).toMatchObject({
      Action: 'sns:Publish',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Resource: { Ref: topicId() },
    });
    const sourceArn = render(allow?.Condition.ArnLike['aws:SourceArn']);
    expect(sourceArn).toBe(
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:CheckoutCommerce-dev-*',
    );
    const prefix = sourceArn.replace(/^.*:alarm:/, '').replace(/\*$/, '');
    for (const [, alarm] of ofType('AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmName.startsWith(prefix), alarm.Properties.AlarmName).toBe(true);
    }
  });

  it('has no subscriber unless -c alarmEmail names one, which is then subscribed by email', () => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const withEmail = synth({ alarmEmail: 'oncall@shop.example' });
    withEmail.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@shop.example',
      TopicArn: { Ref: logicalIdOf(withEmail.stack, withEmail.stack.alarmTopic.topic.topicArn) },
    });
  });
});

describe('the dashboard', () => {
  /** The dashboard body as JSON, references replaced by stand-ins. */
  const body = () => {
    const [[, dashboard] = []] = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboard?.Properties.DashboardName).toBe('CheckoutCommerce-dev');
    return JSON.parse(render(dashboard?.Properties.DashboardBody)) as {
      widgets: { properties: { title?: string; metrics?: unknown[][]; annotations?: unknown } }[];
    };
  };
  const metricsOf = (title: RegExp) =>
    body()
      .widgets.filter((w) => title.test(w.properties.title ?? ''))
      .flatMap((w) => w.properties.metrics ?? []);

  it('shows outcomes by status and failures by step', () => {
    expect(metricsOf(/outcomes/).map((m) => m[5])).toEqual([
      'completed',
      'failed',
      'requires_attention',
      'incomplete',
    ]);
    expect(metricsOf(/by step/).map((m) => m[3])).toEqual(['payment', 'inventory', 'order']);
  });

  it('shows API latency p50 and p99 and each function’s duration', () => {
    expect(metricsOf(/API latency/).map((m) => [m[1], (m[4] as { stat: string }).stat])).toEqual([
      ['Latency', 'p50'],
      ['Latency', 'p99'],
    ]);
    expect(metricsOf(/duration/)).toHaveLength(FUNCTIONS.length);
  });

  it('shows the oldest unfinished age against the alarm threshold, and the unfinished count', () => {
    const [oldest] = body().widgets.filter((w) =>
      /Oldest unfinished/.test(w.properties.title ?? ''),
    );
    expect(oldest?.properties.metrics?.[0]?.[1]).toBe('OldestUnfinishedAgeSeconds');
    expect(oldest?.properties.annotations).toEqual({
      horizontal: [expect.objectContaining({ value: 180 })],
    });
    expect(metricsOf(/Unfinished checkouts/).map((m) => m[1])).toEqual(['UnfinishedCheckouts']);
  });

  it('stays within the 50 metrics of a free dashboard', () => {
    const metrics = body().widgets.flatMap((w) => w.properties.metrics ?? []);
    expect(metrics.length).toBeGreaterThan(10);
    expect(metrics.length).toBeLessThanOrEqual(50);
  });
});

describe('cheap at rest', () => {
  it('reads schedule expressions as the shortest time between two runs', () => {
    expect(shortestIntervalMinutes('rate(2 minutes)')).toBe(2);
    expect(shortestIntervalMinutes('rate(1 hour)')).toBe(60);
    expect(shortestIntervalMinutes('rate(1 day)')).toBe(1440);
    expect(shortestIntervalMinutes('cron(0 * * * ? *)')).toBe(60);
    expect(shortestIntervalMinutes('cron(0/5 * * * ? *)')).toBeLessThan(60);
    expect(shortestIntervalMinutes('at(2026-05-01T12:00:00)')).toBe(Number.POSITIVE_INFINITY);
    expect(() => shortestIntervalMinutes('every minute')).toThrow(/not a schedule expression/);
  });

  it.each([
    ['default', {}],
    ['prod', { stage: 'prod' }],
    ['localstack', { target: 'localstack' }],
  ])('schedules nothing more often than hourly (%s)', (_, context) => {
    const { template } = synth(context);
    const all = Object.values(template.toJSON().Resources as Record<string, Resource>);
    const expressions = all
      .filter((r) => ['AWS::Events::Rule', 'AWS::Scheduler::Schedule'].includes(r.Type))
      .map((r) => r.Properties.ScheduleExpression as string | undefined)
      .filter((e): e is string => e !== undefined);
    expect(expressions).toEqual(['rate(1 hour)']);
    for (const e of expressions) expect(shortestIntervalMinutes(e), e).toBeGreaterThanOrEqual(60);
    // Nor anything else that would call the API or the database on its own.
    for (const type of ['AWS::Synthetics::Canary', 'AWS::Route53::HealthCheck']) {
      expect(all.filter((r) => r.Type === type)).toEqual([]);
    }
  });

  it('refuses a sweep more often than hourly', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(
      () =>
        new CheckoutStack(app, 'Eager', {
          ...stackPropsFromContext(app),
          recoveryInterval: Duration.minutes(30),
        }),
    ).toThrow(/recoveryInterval: at least 1 hour, got 30 minutes/);
  });
});

describe('the one-off recovery schedules', () => {
  const groupId = () => logicalIdOf(s.stack, s.stack.recoverySchedules.group.scheduleGroupArn);
  const roleId = () => logicalIdOf(s.stack, s.stack.recoverySchedules.invokerRole.roleArn);
  const roleIdOf = (name: FunctionName) =>
    logicalIdOf(s.stack, s.stack.functions[name].role?.roleArn ?? '');
  /** The role's own (default) policy: the one attached to it alone. */
  const policyOfRole = (role: string) =>
    ofType('AWS::IAM::Policy').find(
      ([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]),
    )?.[0];

  it('live in a group named after the stack, deleted with it', () => {
    s.template.hasResource('AWS::Scheduler::ScheduleGroup', {
      Properties: { Name: 'CheckoutCommerce-dev-recovery' },
      DeletionPolicy: 'Delete',
    });
  });

  it('run as a role only EventBridge Scheduler may assume, for this group, that may invoke recovery and nothing else', () => {
    s.template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: {
              StringEquals: {
                'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                'aws:SourceArn': { 'Fn::GetAtt': [groupId(), 'Arn'] },
              },
            },
          },
        ],
      },
    });
    const role = resources()[roleId()];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'scheduler.amazonaws.com',
    });
    const statements = policyStatements(s.template).filter(
      ({ policy }) => policy === policyOfRole(roleId()),
    );
    expect(statements.map(({ statement }) => statement)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [idOf('recovery'), 'Arn'] },
      },
    ]);
  });

  it('are made by the checkout, recovery and operator functions only: CreateSchedule in the group, PassRole of that role to Scheduler', () => {
    const statements = policyStatements(s.template);
    const rolesOf = (action: string) =>
      statements
        .filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith(action)))
        .map(({ policy }) => policy)
        .sort();
    const makers = (['checkout', 'recovery', 'operator'] as const)
      .map((name) => policyOfRole(roleIdOf(name)))
      .sort();
    expect(rolesOf('scheduler:')).toEqual(makers);
    expect(rolesOf('iam:PassRole')).toEqual(makers);
    for (const { statement } of statements.filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('scheduler:')),
    )) {
      expect(actionsOf(statement)).toEqual(['scheduler:CreateSchedule']);
      expect(render(statement.Resource)).toBe(
        'arn:aws:scheduler:us-east-1:123456789012:schedule/CheckoutCommerce-dev-recovery/*',
      );
    }
    for (const { statement } of statements.filter(({ statement }) =>
      actionsOf(statement).includes('iam:PassRole'),
    )) {
      expect(statement).toMatchObject({
        Resource: { 'Fn::GetAtt': [roleId(), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      });
    }
  });

  it.each(['checkout', 'recovery', 'operator'] as const)(
    'are configured on %s: the group, the recovery function’s own ARN and the role',
    (name) => {
      const env = variablesOf(name);
      expect(env.RECOVERY_SCHEDULE_GROUP).toEqual({ Ref: groupId() });
      expect(env.RECOVERY_SCHEDULER_ROLE_ARN).toEqual({ 'Fn::GetAtt': [roleId(), 'Arn'] });
      const recoveryName = resources()[idOf('recovery')]?.Properties.FunctionName;
      expect(recoveryName).toBe('CheckoutCommerce-dev-recovery');
      expect(render(env.RECOVERY_TARGET_ARN)).toBe(
        `arn:aws:lambda:us-east-1:123456789012:function:${recoveryName}`,
      );
    },
  );

  it.each(['health', 'migrate'] as const)('are not configured on %s', (name) => {
    const settings = [
      'RECOVERY_SCHEDULE_GROUP',
      'RECOVERY_TARGET_ARN',
      'RECOVERY_SCHEDULER_ROLE_ARN',
    ];
    expect(Object.keys(variablesOf(name)).filter((k) => settings.includes(k))).toEqual([]);
  });
});

describe('the operator function', () => {
  it('has a name a person can type, in an output', () => {
    expect(resources()[idOf('operator')]?.Properties.FunctionName).toBe(
      'CheckoutCommerce-dev-operator',
    );
    expect(s.template.toJSON().Outputs.OperatorFunctionName.Value).toEqual({
      Ref: idOf('operator'),
    });
  });

  it('has no API method and no permission for anything to invoke it', () => {
    const operatorArn = JSON.stringify({ 'Fn::GetAtt': [idOf('operator'), 'Arn'] });
    const methods = ofType('AWS::ApiGateway::Method');
    expect(methods).toHaveLength(4);
    for (const [, method] of methods)
      expect(JSON.stringify(method.Properties)).not.toContain(idOf('operator'));
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) =>
      JSON.stringify(p.Properties.FunctionName),
    );
    expect(permissions.length).toBeGreaterThan(0);
    expect(permissions).not.toContain(operatorArn);
  });

  it('reaches the database through the Data API like the other functions', () => {
    const roleId = logicalIdOf(s.stack, s.stack.functions.operator.role?.roleArn ?? '');
    const policy = ofType('AWS::IAM::Policy').find(
      ([, p]) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
    );
    const statements = (policy?.[1].Properties.PolicyDocument.Statement ?? []) as {
      Action: string | string[];
    }[];
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['rds-data:ExecuteStatement', 'secretsmanager:GetSecretValue']),
    );
    expect(variablesOf('operator')).toMatchObject({ DB_CLUSTER_ARN: expect.anything() });
  });
});
