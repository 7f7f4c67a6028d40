import type { CfnElement } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  METRICS_NAMESPACE,
  SERVICE_NAME,
  WAITING_PAST_EXPIRY_METRIC,
  WEBHOOK_SIGNATURE_REJECTED_METRIC,
} from '#lib/observability/constants.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { CHECKOUT_TIMEOUT } from '../../infra/checkout-stack.ts';
import { DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES } from '../../infra/constructs/alarms.ts';
import { PAYMENT_WEBHOOK_SECRET_PARAMETER } from '../../infra/constructs/payment-webhook-secret.ts';
import {
  actionsOf,
  describeCdkNag,
  logicalIdOf,
  nagAcknowledgements,
  policyStatements,
  render,
  type Synthesized,
  synth,
} from './synth.ts';

/**
 * The payment service's webhooks on AWS: the function that takes them with what it may do (the
 * database and the webhook secret; not the fingerprint key, not the scheduler), the secret as a
 * deploy-time parameter, the route without IAM or API key (the signature is the authentication),
 * and the two alarms of asynchronous payments.
 */
let dev: Synthesized;
let iam: Synthesized;
let localstack: Synthesized;
beforeAll(() => {
  dev = synth();
  iam = synth({ auth: 'iam' });
  localstack = synth({ target: 'localstack' });
});

type Json = ReturnType<Synthesized['template']['toJSON']>;
const resourcesOf = (x: Synthesized) =>
  x.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
const functionOf = (x: Synthesized, name: FunctionName) =>
  resourcesOf(x)[x.stack.getLogicalId(x.stack.functions[name].node.defaultChild as CfnElement)]
    ?.Properties as Json;
const roleIdOf = (x: Synthesized, name: FunctionName) =>
  logicalIdOf(x.stack, x.stack.functions[name].role?.roleArn ?? '');
/** Every statement of the policies attached to `name`'s role, with the policy's condition. */
const grantsOf = (x: Synthesized, name: FunctionName) => {
  const role = { Ref: roleIdOf(x, name) };
  return Object.entries(resourcesOf(x))
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .filter(([, r]) => JSON.stringify(r.Properties.Roles).includes(JSON.stringify(role)))
    .flatMap(([id, r]) =>
      (
        r.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]
      ).map((statement) => ({ policy: id, statement })),
    );
};
const webhookMethod = (x: Synthesized) => {
  const method = x.stack.api.restApi.methods.find(
    (m) => m.httpMethod === 'POST' && m.resource.path === '/webhooks/payments',
  );
  if (!method) throw new Error('no POST /webhooks/payments');
  return method;
};
const alarmOf = (x: Synthesized, suffix: string) => {
  const name = `${x.stack.stackName}-${suffix}`;
  const alarm = Object.values(resourcesOf(x))
    .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
    .map((r) => r.Properties)
    .find((a) => a.AlarmName === name);
  if (!alarm) throw new Error(`no alarm ${name}`);
  return alarm;
};
const parameterRef = { Ref: PAYMENT_WEBHOOK_SECRET_PARAMETER };

describe('the webhook function', () => {
  it('runs the webhooks handler on the runtime user, within API Gateway’s 29 s', () => {
    expect(functionOf(dev, 'webhooks')).toMatchObject({
      Runtime: 'nodejs22.x',
      Timeout: CHECKOUT_TIMEOUT.toSeconds(),
      Description: expect.stringContaining('POST /webhooks/payments'),
      Environment: {
        Variables: expect.objectContaining({
          DB_CLUSTER_ARN: expect.anything(),
          DB_SECRET_ARN: dev.stack.resolve(dev.stack.database?.runtimeSecret.secretArn),
          PAYMENT_SERVICE_URL: { Ref: 'PaymentServiceUrl' },
          PAYMENT_WEBHOOK_SECRET_ARN: parameterRef,
        }),
      },
    });
  });

  it('is the only function told where the webhook secret is, and the only one that may read it', () => {
    for (const name of FUNCTIONS.filter((n) => n !== 'webhooks')) {
      expect(functionOf(dev, name).Environment.Variables, name).not.toHaveProperty(
        'PAYMENT_WEBHOOK_SECRET_ARN',
      );
    }
    const readers = policyStatements(dev.template).filter(({ statement }) =>
      JSON.stringify(statement.Resource).includes(PAYMENT_WEBHOOK_SECRET_PARAMETER),
    );
    expect(readers.map(({ policy }) => policy)).toEqual([
      grantsOf(dev, 'webhooks').find(({ statement }) =>
        JSON.stringify(statement.Resource).includes(PAYMENT_WEBHOOK_SECRET_PARAMETER),
      )?.policy,
    ]);
    expect(actionsOf(readers[0]?.statement ?? { Action: [], Effect: '', Resource: '' })).toEqual([
      'secretsmanager:GetSecretValue',
    ]);
  });

  it('may write its logs and traces, run single statements, read its two secrets (and the payment API key when set), nothing more', () => {
    const grants = grantsOf(dev, 'webhooks').map(({ statement }) => ({
      actions: actionsOf(statement as never).sort(),
      resources: [statement.Resource]
        .flat()
        .map((r) => JSON.stringify(r))
        .sort(),
    }));
    const actions = grants.flatMap((g) => g.actions).sort();
    expect(actions).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'rds-data:ExecuteStatement',
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const secrets = grants
      .filter((g) => g.actions.includes('secretsmanager:GetSecretValue'))
      .flatMap((g) => g.resources)
      .sort();
    expect(secrets).toEqual(
      [
        JSON.stringify(dev.stack.resolve(dev.stack.database?.runtimeSecret.secretArn)),
        JSON.stringify(parameterRef),
        JSON.stringify({ Ref: 'PaymentApiKeySecretArn' }),
      ].sort(),
    );
  });

  it('may neither read the fingerprint key nor make schedules nor pass a role', () => {
    const text = JSON.stringify(grantsOf(dev, 'webhooks'));
    const fingerprint = logicalIdOf(dev.stack, dev.stack.fingerprintKey?.secret.secretArn ?? '');
    expect(text).not.toContain(fingerprint);
    expect(text).not.toMatch(/scheduler:|iam:PassRole|lambda:InvokeFunction/);
    expect(functionOf(dev, 'webhooks').Environment.Variables).not.toHaveProperty(
      'FINGERPRINT_SECRET_ARN',
    );
    expect(Object.keys(functionOf(dev, 'webhooks').Environment.Variables)).not.toEqual(
      expect.arrayContaining(['RECOVERY_SCHEDULE_GROUP']),
    );
  });
});

describe('the webhook secret', () => {
  it('is a deploy-time parameter without default, a complete secret ARN only', () => {
    const parameter = (dev.template.toJSON().Parameters as Record<string, Json>)[
      PAYMENT_WEBHOOK_SECRET_PARAMETER
    ];
    expect(parameter).toMatchObject({ Type: 'String' });
    expect(parameter).not.toHaveProperty('Default');
    const pattern = new RegExp(parameter?.AllowedPattern);
    expect(
      pattern.test('arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/webhook-AbC123'),
    ).toBe(true);
    expect(pattern.test('')).toBe(false);
    expect(
      pattern.test('arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/webhook'),
    ).toBe(false);
    expect(pattern.test('whsec_placeholder')).toBe(false);
  });

  it('is not asked for on localstack, where lib/config.ts signs with its local secret', () => {
    expect(localstack.template.toJSON().Parameters).not.toHaveProperty(
      PAYMENT_WEBHOOK_SECRET_PARAMETER,
    );
    expect(functionOf(localstack, 'webhooks').Environment.Variables).not.toHaveProperty(
      'PAYMENT_WEBHOOK_SECRET_ARN',
    );
  });
});

describe('POST /webhooks/payments', () => {
  it.each([
    ['dev (auth=apiKey)', () => dev],
    ['auth=iam', () => iam],
    ['localstack', () => localstack],
  ])('has no authorizer and no API key on %s, and reaches the webhook function', (_, of) => {
    const x = of();
    const method = resourcesOf(x)[
      x.stack.getLogicalId(webhookMethod(x).node.defaultChild as CfnElement)
    ]?.Properties as Json;
    expect(method).toMatchObject({
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      ApiKeyRequired: false,
    });
    expect(method).not.toHaveProperty('AuthorizerId');
    expect(method).not.toHaveProperty('RequestValidatorId');
    expect(JSON.stringify(method.Integration.Uri)).toContain(
      logicalIdOf(x.stack, x.stack.functions.webhooks.functionArn),
    );
  });

  it('acknowledges cdk-nag’s authorization findings on that method alone, saying why', () => {
    const path = webhookMethod(dev).node.path;
    const acks = nagAcknowledgements(dev.app).filter((a) => a.path === path);
    expect(acks.map((a) => a.rule).sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
    for (const ack of acks) expect(ack.reason).toMatch(/HMAC/);
  });

  it('stays behind the stage’s throttling and WAF web ACL', () => {
    const stage = Object.values(resourcesOf(dev)).find((r) => r.Type === 'AWS::ApiGateway::Stage');
    expect(stage?.Properties.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50 }),
    ]);
    dev.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });
});

describe('the alarms of asynchronous payments', () => {
  const topicRef = () => ({ Ref: logicalIdOf(dev.stack, dev.stack.alarmTopic.topic.topicArn) });

  it('webhook-signature-rejected: ≥ 5 refused signatures in 5 minutes, on the metric lib counts', () => {
    expect(alarmOf(dev, 'webhook-signature-rejected')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: WEBHOOK_SIGNATURE_REJECTED_METRIC,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef()],
      OKActions: [topicRef()],
    });
    expect(DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES).toBe(5);
  });

  it('waiting-past-expiry: any checkout still waiting for an expired Pix or boleto, after a recovery run', () => {
    const alarm = alarmOf(dev, 'waiting-past-expiry');
    expect(alarm).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: WAITING_PAST_EXPIRY_METRIC,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef()],
      OKActions: [topicRef()],
    });
    // Written by recovery like the oldest unfinished age: the last run's value stands.
    expect(alarm.TreatMissingData).toBe(alarmOf(dev, 'oldest-unfinished').TreatMissingData);
    expect(alarm.Period).toBe(alarmOf(dev, 'oldest-unfinished').Period);
  });

  it('webhooks-errors: the function’s crashes and timeouts, like every function’s', () => {
    expect(alarmOf(dev, 'webhooks-errors')).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
  });

  it('are drawn on the dashboard and shown in its alarm widget', () => {
    const [dashboard] = Object.values(resourcesOf(dev)).filter(
      (r) => r.Type === 'AWS::CloudWatch::Dashboard',
    );
    const body = render(dashboard?.Properties.DashboardBody);
    const widgets = (
      JSON.parse(body) as { widgets: { properties: { title?: string; metrics?: unknown[][] } }[] }
    ).widgets;
    const drawing = (metric: string) =>
      widgets.filter((w) => (w.properties.metrics ?? []).some((m) => m.includes(metric)));
    expect(drawing(WAITING_PAST_EXPIRY_METRIC)).toHaveLength(1);
    expect(drawing(WEBHOOK_SIGNATURE_REJECTED_METRIC)).toHaveLength(1);
    for (const alarm of [
      dev.stack.alarms.webhookSignatureRejected,
      dev.stack.alarms.waitingPastExpiry,
    ]) {
      expect(body).toContain(logicalIdOf(dev.stack, alarm.alarmArn));
    }
  });
});

describe('with the webhooks, on each target', () => {
  describe('aws', () => describeCdkNag(() => dev));
  describe('localstack', () => describeCdkNag(() => localstack));
});
