import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_SIGNATURE_HEADER } from '#lib/http/webhook-signature.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { CHECKOUT_TIMEOUT, DEFAULT_CHECKOUT_CONCURRENCY } from '../../infra/checkout-stack.ts';
import { DEFAULT_THROTTLE } from '../../infra/constructs/api.ts';
import { describeCdkNag, logicalIdOf, type Synthesized, synth } from './synth.ts';

/**
 * What a deploy decides and what the settings switch: the service URLs and the payment API key
 * as CloudFormation parameters, authentication, the account's API Gateway logging role, the
 * work budget against API Gateway's 29 s, the WAF rules and the reserved concurrency.
 */
let s: Synthesized;
beforeAll(() => {
  s = synth();
});

/** Template JSON, as loosely typed as `Template.toJSON` gives it. */
type Json = ReturnType<Template['toJSON']>;
interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string[];
  DeletionPolicy?: string;
  Properties: Json;
}
const resourcesOf = (x: Synthesized) => x.template.toJSON().Resources as Record<string, Resource>;
const ofType = (x: Synthesized, type: string) =>
  Object.entries(resourcesOf(x)).filter(([, r]) => r.Type === type);
const functionOf = (x: Synthesized, name: FunctionName) =>
  resourcesOf(x)[x.stack.getLogicalId(x.stack.functions[name].node.defaultChild as CfnElement)]
    ?.Properties ?? {};
const roleIdOf = (x: Synthesized, name: FunctionName) =>
  logicalIdOf(x.stack, x.stack.functions[name].role?.roleArn ?? '');
/** `GET /health`-style keys to each method's template properties. */
const methodsOf = (x: Synthesized) =>
  Object.fromEntries(
    x.stack.api.restApi.methods.map((m) => [
      `${m.httpMethod} ${m.resource.path}`,
      resourcesOf(x)[x.stack.getLogicalId(m.node.defaultChild as CfnElement)]?.Properties,
    ]),
  );
/** A CloudFormation AllowedPattern as JavaScript reads it (the same syntax for these). */
const matches = (pattern: string, value: string) => new RegExp(pattern).test(value);

describe('the service URLs', () => {
  const parameters = () => s.template.toJSON().Parameters as Record<string, Record<string, string>>;

  it.each(['PaymentServiceUrl', 'InventoryServiceUrl', 'OrderServiceUrl'])(
    '%s is a parameter without default that only takes an https URL',
    (name) => {
      const parameter = parameters()[name];
      expect(parameter).toMatchObject({ Type: 'String', AllowedPattern: expect.any(String) });
      expect(parameter).not.toHaveProperty('Default');
      const pattern = String(parameter?.AllowedPattern);
      for (const ok of [
        'https://payments.internal.shop',
        'https://pay.shop.io:8443/v2',
        'https://10.0.0.5/api/',
      ]) {
        expect(matches(pattern, ok), ok).toBe(true);
      }
      for (const bad of [
        'http://payments.internal.shop',
        'payments.internal.shop',
        '',
        'https://',
      ]) {
        expect(matches(pattern, bad), bad).toBe(false);
      }
    },
  );

  it.each([
    ['payment', 'PAYMENT_SERVICE_URL', 'PaymentServiceUrl'],
    ['inventory', 'INVENTORY_SERVICE_URL', 'InventoryServiceUrl'],
    ['order', 'ORDER_SERVICE_URL', 'OrderServiceUrl'],
  ])('reach every function and an output: the %s URL', (_, variable, parameter) => {
    for (const name of FUNCTIONS) {
      expect(functionOf(s, name).Environment.Variables[variable], name).toEqual({ Ref: parameter });
    }
    expect(s.template.toJSON().Outputs[parameter].Value).toEqual({ Ref: parameter });
  });

  it.each([
    ['dev', {}],
    ['prod', { stage: 'prod' }],
    ['localstack', { target: 'localstack' }],
  ])('leave no placeholder host in the template (%s)', (_, context) => {
    const template = JSON.stringify(synth(context).template.toJSON());
    expect(template).not.toMatch(/example\.(com|org|net)/);
  });
});

describe('the payment API key', () => {
  // The webhook function looks up the payment an event names.
  const PAYMENT_CALLERS = ['checkout', 'recovery', 'operator', 'webhooks'] as const;
  const parameter = () =>
    (s.template.toJSON().Parameters as Record<string, Record<string, string>>)
      .PaymentApiKeySecretArn;

  it('is an optional parameter: empty by default, else a complete secret ARN', () => {
    expect(parameter()).toMatchObject({ Type: 'String', Default: '' });
    const pattern = String(parameter()?.AllowedPattern);
    expect(matches(pattern, '')).toBe(true);
    expect(
      matches(
        pattern,
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/payment-api-key-AbC123',
      ),
    ).toBe(true);
    // A partial ARN (without the random suffix) would match no secret in IAM.
    expect(
      matches(pattern, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:checkout/payment'),
    ).toBe(false);
    expect(matches(pattern, 'payment-api-key')).toBe(false);
  });

  it('may be read only when set, by the functions that call the payment service, and only that secret', () => {
    expect(s.template.toJSON().Conditions.HasPaymentApiKey).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'PaymentApiKeySecretArn' }, ''] }],
    });
    const readers = ofType(s, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('PaymentApiKeySecretArn'),
    );
    expect(readers).toHaveLength(1);
    const [, policy] = readers[0] ?? [];
    expect(policy?.Condition).toBe('HasPaymentApiKey');
    expect(policy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Action: 'secretsmanager:GetSecretValue',
        Effect: 'Allow',
        Resource: { Ref: 'PaymentApiKeySecretArn' },
      },
    ]);
    expect(policy?.Properties.Roles).toEqual(
      PAYMENT_CALLERS.map((name) => ({ Ref: roleIdOf(s, name) })),
    );
  });

  it.each(PAYMENT_CALLERS)('is named to %s when set, and not at all when not', (name) => {
    expect(functionOf(s, name).Environment.Variables.PAYMENT_API_KEY_SECRET_ARN).toEqual({
      'Fn::If': ['HasPaymentApiKey', { Ref: 'PaymentApiKeySecretArn' }, { Ref: 'AWS::NoValue' }],
    });
  });

  it.each(['health', 'migrate'] as const)('is not given to %s', (name) => {
    expect(functionOf(s, name).Environment.Variables).not.toHaveProperty(
      'PAYMENT_API_KEY_SECRET_ARN',
    );
  });
});

describe('authentication (-c auth=iam on dev)', () => {
  let iam: Synthesized;
  beforeAll(() => {
    iam = synth({ auth: 'iam' });
  });

  it('signs every method with SigV4 and keeps the API key for the usage plan', () => {
    // But the payment service's webhooks, signed with HMAC (payment-webhooks.test.ts).
    const { 'POST /webhooks/payments': _, ...methods } = methodsOf(iam);
    for (const [method, properties] of Object.entries(methods)) {
      expect(properties, method).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        ApiKeyRequired: true,
      });
    }
    iam.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    expect(Object.keys(iam.template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['ApiInvokeArn', 'ApiKeyId']),
    );
  });

  it('defaults to the API key on dev and answers /health only to a caller that holds it', () => {
    expect(methodsOf(s)['GET /health']).toMatchObject({
      AuthorizationType: 'NONE',
      ApiKeyRequired: true,
    });
    expect(s.template.toJSON().Outputs).not.toHaveProperty('ApiInvokeArn');
  });

  describeCdkNag(() => iam);
});

describe('the API Gateway CloudWatch Logs role', () => {
  it('is set for the account by default, before the stage that logs is created, and kept with the stack', () => {
    const [[accountId, account] = []] = ofType(s, 'AWS::ApiGateway::Account');
    const roleId = account?.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    const role = resourcesOf(s)[roleId];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: 'apigateway.amazonaws.com',
    });
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      'AmazonAPIGatewayPushToCloudWatchLogs',
    );
    expect([account?.DeletionPolicy, role?.DeletionPolicy]).toEqual(['Retain', 'Retain']);
    const [[, stage] = []] = ofType(s, 'AWS::ApiGateway::Stage');
    expect(stage?.DependsOn).toContain(accountId);
    expect(stage?.Properties.AccessLogSetting).toBeDefined();
  });

  it('is left alone with -c apiGatewayCloudWatchRole=false (an account that has one)', () => {
    const without = synth({ apiGatewayCloudWatchRole: 'false' });
    without.template.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(JSON.stringify(without.template.toJSON())).not.toContain(
      'AmazonAPIGatewayPushToCloudWatchLogs',
    );
  });
});

describe('the work budget against API Gateway’s 29 s', () => {
  it('leaves 4 s of the integration timeout for a cold start’s init', () => {
    const timeout = functionOf(s, 'checkout').Timeout as number;
    expect(timeout).toBe(CHECKOUT_TIMEOUT.toSeconds());
    expect(29 - timeout).toBeGreaterThanOrEqual(4);
  });

  it('requires an Idempotency-Key on prod only, unless told', () => {
    expect(functionOf(s, 'checkout').Environment.Variables.REQUIRE_IDEMPOTENCY_KEY).toBe('false');
    const required = synth({ requireIdempotencyKey: 'true' });
    expect(functionOf(required, 'checkout').Environment.Variables.REQUIRE_IDEMPOTENCY_KEY).toBe(
      'true',
    );
  });
});

describe('the WAF web ACL', () => {
  const acl = (x: Synthesized) => ofType(x, 'AWS::WAFv2::WebACL')[0]?.[1].Properties ?? {};
  const rateLimit = (x: Synthesized) =>
    acl(x).Rules.find((r: { Name: string }) => r.Name === 'rate-limit-per-ip').Statement
      .RateBasedStatement.Limit;
  const metricNames = (x: Synthesized) => [
    acl(x).VisibilityConfig.MetricName,
    ...acl(x).Rules.map(
      (r: { VisibilityConfig: { MetricName: string } }) => r.VisibilityConfig.MetricName,
    ),
  ];

  it('lets one IP use the whole stage rate: rate × 300 s per 5 minutes, or -c wafRateLimit', () => {
    expect(rateLimit(s)).toBe(DEFAULT_THROTTLE.rateLimit * 300);
    expect(rateLimit(s)).toBe(15_000);
    expect(rateLimit(synth({ wafRateLimit: '3000' }))).toBe(3000);
  });

  it('blocks through the IP reputation and known bad inputs groups, not the common rule set', () => {
    const groups = acl(s)
      .Rules.filter((r: { Statement: object }) => 'ManagedRuleGroupStatement' in r.Statement)
      .map((r: { Statement: { ManagedRuleGroupStatement: object }; OverrideAction: object }) => [
        r.Statement.ManagedRuleGroupStatement,
        r.OverrideAction,
      ]);
    expect(groups).toEqual([
      [{ VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' }, { None: {} }],
      [{ VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' }, { None: {} }],
    ]);
  });

  it('logs blocked and counted requests to aws-waf-logs-<stack>, kept a month, keys redacted', () => {
    const [[, config] = []] = ofType(s, 'AWS::WAFv2::LoggingConfiguration');
    const [destination] = config?.Properties.LogDestinationConfigs ?? [];
    const groupRef = (destination['Fn::Join'][1] as unknown[]).at(-1) as { Ref: string };
    expect(resourcesOf(s)[groupRef.Ref]?.Properties).toEqual({
      LogGroupName: 'aws-waf-logs-CheckoutCommerce-dev',
      RetentionInDays: 30,
    });
    expect(JSON.stringify(destination)).toContain(':log-group:');
    expect(JSON.stringify(destination)).not.toContain(':*');
    expect(config?.Properties).toMatchObject({
      ResourceArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      RedactedFields: [
        { SingleHeader: { Name: 'x-api-key' } },
        { SingleHeader: { Name: 'authorization' } },
        { SingleHeader: { Name: 'x-amz-security-token' } },
        { SingleHeader: { Name: WEBHOOK_SIGNATURE_HEADER } },
      ],
      LoggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [
              { ActionCondition: { Action: 'BLOCK' } },
              { ActionCondition: { Action: 'COUNT' } },
            ],
          },
        ],
      },
    });
  });

  it('names its metrics after the stack, so that two stacks of an account never share one', () => {
    const dev = metricNames(s);
    const prod = metricNames(synth({ stage: 'prod' }));
    expect(new Set(dev).size).toBe(dev.length);
    for (const name of dev) expect(name).toMatch(/^CheckoutCommerce-dev-/);
    expect(dev.filter((name) => prod.includes(name))).toEqual([]);
  });
});

describe('reserved concurrency', () => {
  const reserved = (x: Synthesized) =>
    Object.fromEntries(
      FUNCTIONS.map((name) => [name, functionOf(x, name).ReservedConcurrentExecutions]),
    );

  it('reserves nothing by default outside production, so a first deploy fits a new account', () => {
    expect(Object.values(reserved(s))).toEqual(FUNCTIONS.map(() => undefined));
  });

  it('bounds checkout to what the database takes and runs recovery one at a time on prod', () => {
    expect(reserved(synth({ stage: 'prod' }))).toEqual({
      health: undefined,
      checkout: DEFAULT_CHECKOUT_CONCURRENCY,
      recovery: 1,
      migrate: undefined,
      operator: undefined,
    });
    expect(DEFAULT_CHECKOUT_CONCURRENCY).toBe(100);
  });

  it('follows -c checkoutConcurrency, and -c reserveConcurrency=false reserves nothing', () => {
    const reserving = { reserveConcurrency: 'true' };
    expect(reserved(synth({ ...reserving, checkoutConcurrency: '40' })).checkout).toBe(40);
    expect(reserved(synth(reserving)).recovery).toBe(1);
    expect(Object.values(reserved(synth({ stage: 'prod', reserveConcurrency: 'false' })))).toEqual(
      FUNCTIONS.map(() => undefined),
    );
  });
});

describe('an account that already has the API Gateway role (-c apiGatewayCloudWatchRole=false)', () => {
  describeCdkNag(() => synth({ apiGatewayCloudWatchRole: 'false' }));
});
