import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '#lib/db/migrations/index.ts';
import { FUNCTIONS, REQUIRE_BANNER } from '../../infra/bundling.ts';
import {
  actionsOf,
  describeCdkNag,
  logicalIdOf,
  policyStatements,
  type Synthesized,
  synth,
} from './synth.ts';

/** The default `cdk synth`: target aws, stage dev, API key on; bundled like a real deploy. */
let s: Synthesized;
beforeAll(() => {
  s = synth({}, { bundle: true });
});

const FUNCTION_NAMES = FUNCTIONS;

describe('the aws stack', () => {
  it('has the resources of design §7, one of each where one is meant', () => {
    const { template } = s;
    // Five service functions, the provider framework, and CDK's default-security-group restrictor.
    template.resourceCountIs('AWS::Lambda::Function', 7);
    template.resourceCountIs('AWS::RDS::DBCluster', 1);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGateway::Method', 3);
    template.resourceCountIs('AWS::ApiGateway::Model', 1);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('Custom::SchemaMigration', 1);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('runs Aurora PostgreSQL Serverless v2 with the Data API, encrypted, backed up, scaling to zero', () => {
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EnableHttpEndpoint: true,
      StorageEncrypted: true,
      BackupRetentionPeriod: 1,
      DatabaseName: 'checkout',
      DeletionProtection: false,
      ServerlessV2ScalingConfiguration: {
        MinCapacity: 0,
        MaxCapacity: 2,
        SecondsUntilAutoPause: 300,
      },
    });
    s.template.hasResourceProperties('AWS::RDS::DBInstance', {
      DBInstanceClass: 'db.serverless',
      PubliclyAccessible: false,
    });
  });

  it('keeps the master credentials in a generated Secrets Manager secret', () => {
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"postgres"}' }),
    });
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      MasterUserPassword: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });

  it.each(FUNCTION_NAMES)('runs %s on nodejs22.x, arm64, traced, ESM with source maps', (name) => {
    const fn = s.stack.functions[name];
    const id = logicalIdOf(s.stack, fn.functionArn);
    const { Properties } = s.template.toJSON().Resources[id];
    expect(Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      LoggingConfig: {
        LogFormat: 'JSON',
        LogGroup: { Ref: logicalIdOf(s.stack, fn.logGroup.logGroupName) },
      },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'checkout-commerce',
          POWERTOOLS_METRICS_NAMESPACE: 'CheckoutCommerce',
          LOG_LEVEL: 'INFO',
          DB_CLUSTER_ARN: expect.anything(),
          DB_SECRET_ARN: expect.anything(),
          DB_NAME: 'checkout',
          PAYMENT_SERVICE_URL: 'https://payment.example.com',
          INVENTORY_SERVICE_URL: 'https://inventory.example.com',
          ORDER_SERVICE_URL: 'https://order.example.com',
          PAYMENT_TIMEOUT_MS: '10000',
          INVENTORY_TIMEOUT_MS: '5000',
          ORDER_TIMEOUT_MS: '5000',
          CHECKOUT_LEASE_MS: '60000',
          RECOVERY_SETTLE_DELAY_MS: '60000',
        },
      },
    });
    expect(Properties.Environment.Variables).not.toHaveProperty('DATABASE_URL');
  });

  it('gives the functions the Data API settings of this cluster and secret', () => {
    const vars =
      s.template.toJSON().Resources[logicalIdOf(s.stack, s.stack.functions.checkout.functionArn)]
        .Properties.Environment.Variables;
    const db = s.stack.database;
    expect(db).toBeDefined();
    expect(vars.DB_CLUSTER_ARN).toEqual(s.stack.resolve(db?.cluster.clusterArn));
    expect(vars.DB_SECRET_ARN).toEqual(s.stack.resolve(db?.secret.secretArn));
  });

  it('bundles each function as an ESM file that starts with the createRequire banner, with its source map', () => {
    const bundles = readdirSync(s.outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(s.outdir, d))
      .filter((dir) => readdirSync(dir).includes('index.mjs'));
    expect(bundles).toHaveLength(FUNCTION_NAMES.length);
    for (const dir of bundles) {
      expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      expect(readFileSync(path.join(dir, 'index.mjs'), 'utf8').startsWith(REQUIRE_BANNER)).toBe(
        true,
      );
    }
  });

  it('gives every function its own log group with a retention', () => {
    const groups = Object.values(s.template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(FUNCTION_NAMES.length);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
    expect(groups.filter((g) => g.DeletionPolicy === 'Retain')).toEqual([]);
  });
});

describe('its IAM policies', () => {
  it('grant "*" only to the X-Ray actions, which have no resource-level permissions', () => {
    const onAnything = policyStatements(s.template).filter(({ statement }) =>
      [statement.Resource].flat().includes('*'),
    );
    expect(onAnything.length).toBeGreaterThan(0);
    for (const { statement } of onAnything) {
      expect(actionsOf(statement).sort()).toEqual([
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
    }
  });

  it('scope rds-data to the cluster and secret reads to its secret, for each function', () => {
    const clusterId = logicalIdOf(s.stack, s.stack.database?.cluster.clusterIdentifier ?? '');
    const secretRef = s.stack.resolve(s.stack.database?.secret.secretArn);
    const statements = policyStatements(s.template);
    const rdsData = statements.filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('rds-data:')),
    );
    const secrets = statements.filter(({ statement }) =>
      actionsOf(statement).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(rdsData).toHaveLength(FUNCTION_NAMES.length);
    expect(secrets).toHaveLength(FUNCTION_NAMES.length);
    for (const { statement } of rdsData) {
      expect(JSON.stringify(statement.Resource)).toContain(`{"Ref":"${clusterId}"}`);
      expect(JSON.stringify(statement.Resource)).not.toContain('*');
    }
    for (const { statement } of secrets) {
      expect(statement.Resource).toEqual(secretRef);
      expect(actionsOf(statement).sort()).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
      ]);
    }
  });

  it('attach no AWS-managed policy to the functions', () => {
    for (const name of FUNCTION_NAMES) {
      const roleId = logicalIdOf(s.stack, s.stack.functions[name].role?.roleArn ?? '');
      const role = s.template.toJSON().Resources[roleId];
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('its REST API', () => {
  /** Each method's template properties, keyed by `VERB /path`. */
  const methods = () =>
    Object.fromEntries(
      s.stack.api.restApi.methods.map((m) => [
        `${m.httpMethod} ${m.resource.path}`,
        s.template.toJSON().Resources[s.stack.getLogicalId(m.node.defaultChild as CfnElement)]
          .Properties,
      ]),
    );

  it('requires the API key on the /checkout methods and not on /health', () => {
    expect(
      Object.fromEntries(Object.entries(methods()).map(([k, m]) => [k, m.ApiKeyRequired])),
    ).toEqual({
      'GET /health': false,
      'POST /checkout/process': true,
      'GET /checkout/{id}': true,
    });
    s.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY' });
  });

  it('validates the checkout body against the JSON Schema generated from the zod schema', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({
        $schema: 'http://json-schema.org/draft-04/schema#',
        required: Match.arrayWith([
          'payment_method',
          'customer_email',
          'shipping_address',
          'items',
        ]),
        additionalProperties: false,
      }),
    });
    s.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const post = methods()['POST /checkout/process'];
    expect(post.RequestModels['application/json']).toBeDefined();
    expect(post.RequestValidatorId).toBeDefined();
  });

  it('throttles the stage and writes JSON access logs', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
      AccessLogSetting: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('^\\{"requestId":"\\$context.requestId".*\\}$'),
      },
    });
  });

  it('answers gateway-made errors in the API JSON shape', () => {
    s.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp('"error":"validation_error"'),
      },
    });
    s.template.resourcePropertiesCountIs(
      'AWS::ApiGateway::GatewayResponse',
      { ResponseType: Match.stringLikeRegexp('^DEFAULT_[45]XX$') },
      2,
    );
  });

  it('sits behind a WAF web ACL with a rate-based rule, associated with the stage', () => {
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 1000, AggregateKeyType: 'IP' } },
        }),
      ],
    });
    const stageId = logicalIdOf(s.stack, s.stack.api.restApi.deploymentStage.stageName);
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stageId }])] },
    });
  });

  it('outputs the API URL, the API key id, the alarm topic, the operator and the Data API settings', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiKeyId',
      'ApiUrl',
      'DbClusterArn',
      'DbName',
      'DbSecretArn',
      'OperatorFunctionName',
    ]);
    expect(outputs.DbName.Value).toBe('checkout');
  });
});

describe('the migration and the recovery schedule', () => {
  it('applies the migrations through the provider framework on every deploy', () => {
    const resources = s.template.findResources('Custom::SchemaMigration');
    const [migration] = Object.values(resources);
    expect(migration?.Properties).toEqual({
      ServiceToken: expect.any(Object),
      MigrationsVersion: migrations.at(-1)?.version,
      MigrationsHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      DeployedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    const clusterId = logicalIdOf(s.stack, s.stack.database?.cluster.clusterIdentifier ?? '');
    expect(migration?.DependsOn).toContain(clusterId);
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            Resource: Match.arrayWith([s.stack.resolve(s.stack.functions.migrate.functionArn)]),
          }),
        ]),
      },
    });
  });

  it('updates the functions that touch checkouts only after the migrations have run', () => {
    const [migrationId] = Object.keys(s.template.findResources('Custom::SchemaMigration'));
    const resources = s.template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    for (const name of ['health', 'checkout', 'recovery', 'operator'] as const) {
      const fn = logicalIdOf(s.stack, s.stack.functions[name].functionName);
      expect(resources[fn]?.DependsOn, name).toContain(migrationId);
    }
  });

  it('runs the recovery sweep hourly', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: s.stack.resolve(s.stack.functions.recovery.functionArn) })],
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: s.stack.resolve(s.stack.functions.recovery.functionArn),
    });
  });
});

describeCdkNag(() => s);
