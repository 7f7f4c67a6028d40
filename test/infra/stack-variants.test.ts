import { App, type CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutApp, stackPropsFromContext } from '../../infra/app.ts';
import { FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { actionsOf, describeCdkNag, policyStatements, type Synthesized, synth } from './synth.ts';

const FUNCTION_NAMES = FUNCTIONS;

const variablesOf = (s: Synthesized, name: FunctionName) =>
  s.template.toJSON().Resources[
    s.stack.getLogicalId(s.stack.functions[name].node.defaultChild as CfnElement)
  ].Properties.Environment.Variables as Record<string, unknown>;

describe('the production stack without API key (-c stage=prod -c requireApiKey=false): auth=iam', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ stage: 'prod', requireApiKey: 'false' });
  });

  it('protects the cluster from deletion and keeps it, its secret and two weeks of backups', () => {
    s.template.hasResource('AWS::RDS::DBCluster', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtection: true, BackupRetentionPeriod: 14 }),
    });
    s.template.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Retain' });
  });

  it('keeps every log group but the migration provider framework one when the stack is deleted', () => {
    const groups = Object.values(s.template.findResources('AWS::Logs::LogGroup'));
    expect(groups.filter((g) => g.DeletionPolicy !== 'Retain')).toHaveLength(1);
  });

  it('is named after its stage', () => {
    expect(s.stack.stackName).toBe('CheckoutCommerce-prod');
  });

  it('signs every method with IAM (SigV4), /health included, and creates no key or usage plan', () => {
    // But the payment service's webhooks, signed with HMAC (payment-webhooks.test.ts).
    const methods = s.stack.api.restApi.methods.filter(
      (m) => m.resource.path !== '/webhooks/payments',
    );
    expect(methods).toHaveLength(3);
    for (const method of methods) {
      const id = s.stack.getLogicalId(method.node.defaultChild as CfnElement);
      expect(
        s.template.toJSON().Resources[id].Properties,
        `${method.httpMethod} ${method.resource.path}`,
      ).toMatchObject({ AuthorizationType: 'AWS_IAM', ApiKeyRequired: false });
    }
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    s.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
    expect(s.template.toJSON().Outputs).not.toHaveProperty('ApiKeyId');
  });

  it('outputs the stage ARN a caller’s IAM policy allows execute-api:Invoke on', () => {
    const arn = s.template.toJSON().Outputs.ApiInvokeArn.Value;
    expect(arn).toEqual(s.stack.resolve(s.stack.api.invokeArn));
    const stageId = s.stack.getLogicalId(
      s.stack.api.restApi.deploymentStage.node.defaultChild as CfnElement,
    );
    // …:execute-api:<region>:<account>:<api id>/<stage>/*/*: any method, any path of the stage.
    expect(arn['Fn::Join'][1].slice(-3)).toEqual(['/', { Ref: stageId }, '/*/*']);
  });

  it('requires an Idempotency-Key on POST /checkout/process', () => {
    expect(variablesOf(s, 'checkout').REQUIRE_IDEMPOTENCY_KEY).toBe('true');
  });

  it('still validates requests and keeps the WAF rate limit', () => {
    s.template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    s.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  describeCdkNag(() => s);
});

describe('the localstack stack (-c target=localstack)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ target: 'localstack' });
  });

  it('has no Aurora, VPC, database secret, WAF or API Gateway account role', () => {
    s.template.resourceCountIs('AWS::RDS::DBCluster', 0);
    s.template.resourceCountIs('AWS::EC2::VPC', 0);
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    s.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    s.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    s.template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  it('keeps its local service URLs: no URL parameter to pass at deploy', () => {
    expect(Object.keys(s.template.toJSON().Parameters)).not.toEqual(
      expect.arrayContaining(['PaymentServiceUrl']),
    );
    expect(s.template.toJSON().Outputs.PaymentServiceUrl.Value).toBe(
      'http://wiremock-payment:8080',
    );
  });

  it('keys /checkout and leaves /health open (no Aurora to wake)', () => {
    const keyed = Object.fromEntries(
      s.stack.api.restApi.methods.map((m) => [
        `${m.httpMethod} ${m.resource.path}`,
        s.template.toJSON().Resources[s.stack.getLogicalId(m.node.defaultChild as CfnElement)]
          .Properties.ApiKeyRequired,
      ]),
    );
    expect(keyed).toEqual({
      'GET /health': false,
      'POST /checkout/process': true,
      'GET /checkout/{id}': true,
      // Signed with HMAC by the payment service instead (payment-webhooks.test.ts).
      'POST /webhooks/payments': false,
    });
  });

  it.each(FUNCTION_NAMES)('points %s at the compose PostgreSQL and WireMocks', (name) => {
    const variables = variablesOf(s, name);
    expect(variables).toMatchObject({
      DATABASE_URL: 'postgres://postgres:postgres@postgres:5432/checkout_db',
      PAYMENT_SERVICE_URL: 'http://wiremock-payment:8080',
      INVENTORY_SERVICE_URL: 'http://wiremock-inventory:8080',
      ORDER_SERVICE_URL: 'http://wiremock-order:8080',
    });
    expect(variables).not.toHaveProperty('DB_CLUSTER_ARN');
    expect(variables).not.toHaveProperty('DB_SECRET_ARN');
  });

  it('grants no Data API access, and secrets only the payment API key (when its parameter is set)', () => {
    const statements = policyStatements(s.template);
    const actions = statements.flatMap(({ statement }) => actionsOf(statement));
    expect(actions.filter((a) => a.startsWith('rds-data:'))).toEqual([]);
    const secrets = statements.filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(secrets.map(({ statement }) => statement.Resource)).toEqual([
      { Ref: 'PaymentApiKeySecretArn' },
    ]);
  });

  it('keeps the rest: API key, request validation, migration, recovery schedules, alarms, dashboard', () => {
    s.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    s.template.resourceCountIs('AWS::ApiGateway::RequestValidator', 1);
    s.template.resourceCountIs('Custom::SchemaMigration', 1);
    s.template.resourceCountIs('AWS::Events::Rule', 1);
    s.template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 16);
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  describeCdkNag(() => s);
});

describe('the app context', () => {
  const propsOf = (context: Record<string, unknown>) => stackPropsFromContext(new App({ context }));

  it('defaults to the aws target, stage dev, API key auth, a recovery sweep every hour, no alarm email', () => {
    const props = propsOf({});
    expect(props).toMatchObject({
      target: 'aws',
      stackName: 'CheckoutCommerce-dev',
      production: false,
      auth: 'apiKey',
      requireApiKey: true,
      requireIdempotencyKey: false,
      apiGatewayCloudWatchRole: true,
      reserveConcurrency: false,
    });
    expect(props).not.toHaveProperty('serviceUrls');
    expect(props.wafRateLimit).toBeUndefined();
    expect(props.checkoutConcurrency).toBeUndefined();
    expect(props.recoveryInterval?.toMinutes()).toBe(60);
    expect(props.alarmEmail).toBeUndefined();
  });

  it('defaults the prod stage to IAM auth and a required Idempotency-Key', () => {
    expect(propsOf({ stage: 'prod' })).toMatchObject({
      production: true,
      auth: 'iam',
      requireApiKey: true,
      requireIdempotencyKey: true,
    });
    expect(
      propsOf({ stage: 'prod', auth: 'apiKey', requireIdempotencyKey: 'false' }),
    ).toMatchObject({ auth: 'apiKey', requireIdempotencyKey: false });
  });

  it('takes other service and database URLs and a recovery interval on localstack', () => {
    const props = propsOf({
      target: 'localstack',
      requireApiKey: false,
      databaseUrl: 'postgres://app:secret@db:5432/checkout',
      paymentServiceUrl: 'http://payments:9000',
      recoveryIntervalMinutes: '1440',
      alarmEmail: 'oncall@shop.example',
    });
    expect(props).toMatchObject({
      target: 'localstack',
      requireApiKey: false,
      apiGatewayCloudWatchRole: false,
      databaseUrl: 'postgres://app:secret@db:5432/checkout',
      serviceUrls: {
        payment: 'http://payments:9000',
        inventory: 'http://wiremock-inventory:8080',
        order: 'http://wiremock-order:8080',
      },
    });
    expect(props.recoveryInterval?.toMinutes()).toBe(1440);
    expect(props.alarmEmail).toBe('oncall@shop.example');
  });

  it('takes the WAF limit, the checkout concurrency and the switches as numbers and flags', () => {
    expect(
      propsOf({
        wafRateLimit: '2000',
        checkoutConcurrency: '40',
        reserveConcurrency: 'false',
        apiGatewayCloudWatchRole: 'false',
      }),
    ).toMatchObject({
      wafRateLimit: 2000,
      checkoutConcurrency: 40,
      reserveConcurrency: false,
      apiGatewayCloudWatchRole: false,
    });
  });

  it('refuses an unknown target, a malformed flag, an interval under an hour, a malformed email', () => {
    expect(() => propsOf({ target: 'gcp' })).toThrow(
      /context target: expected one of aws, localstack/,
    );
    expect(() => propsOf({ requireApiKey: 'yes' })).toThrow(/context requireApiKey/);
    expect(() => propsOf({ recoveryIntervalMinutes: '0' })).toThrow(/recoveryIntervalMinutes/);
    expect(() => propsOf({ recoveryIntervalMinutes: '59' })).toThrow(
      /recoveryIntervalMinutes: expected an integer of at least 60, got 59/,
    );
    expect(() => propsOf({ alarmEmail: 'oncall' })).toThrow(/context alarmEmail/);
    expect(() => propsOf({ auth: 'cognito' })).toThrow(/context auth: expected one of iam, apiKey/);
    expect(() => propsOf({ wafRateLimit: '5' })).toThrow(/wafRateLimit: .* at least 10/);
    expect(() => propsOf({ checkoutConcurrency: '0' })).toThrow(/checkoutConcurrency/);
  });

  it('refuses an aws API that nothing guards: auth=apiKey without the API key', () => {
    expect(() => propsOf({ auth: 'apiKey', requireApiKey: 'false' })).toThrow(
      /would take card data from anyone/,
    );
    expect(propsOf({ auth: 'iam', requireApiKey: 'false' })).toMatchObject({ auth: 'iam' });
  });

  it('refuses service URLs as context on aws: they are deploy-time parameters there', () => {
    expect(() => propsOf({ paymentServiceUrl: 'https://pay.shop.example' })).toThrow(
      /--parameters PaymentServiceUrl=/,
    );
  });

  it('fails synthesis on an unacknowledged cdk-nag finding, as `cdk synth` does', () => {
    const { app, stack } = createCheckoutApp({
      context: { target: 'localstack', 'aws:cdk:bundling-stacks': [] },
    });
    new s3.Bucket(stack, 'StrayBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1[\s\S]*StrayBucket/);
  });
});
