import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as rds from 'aws-cdk-lib/aws-rds';
import { beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '#lib/db/migrations/index.ts';
import { FUNCTIONS, type FunctionName, REQUIRE_BANNER } from '../../infra/bundling.ts';
import { ENGINE_VERSION } from '../../infra/constructs/database.ts';
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
/** Every function but the migration: they sign in as checkout_app. */
const RUNTIME_FUNCTIONS = ['health', 'checkout', 'recovery', 'operator', 'webhooks'] as const;

const variablesOf = (name: FunctionName) =>
  s.template.toJSON().Resources[logicalIdOf(s.stack, s.stack.functions[name].functionArn)]
    .Properties.Environment.Variables as Record<string, unknown>;

describe('the aws stack', () => {
  it('has the resources of design §7, one of each where one is meant', () => {
    const { template } = s;
    // Six service functions, the provider framework, and CDK's default-security-group restrictor.
    template.resourceCountIs('AWS::Lambda::Function', 8);
    template.resourceCountIs('AWS::RDS::DBCluster', 1);
    template.resourceCountIs('AWS::RDS::DBInstance', 1);
    // The master user's, checkout_app's and the fingerprint key.
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    template.resourceCountIs('AWS::ApiGateway::Method', 4);
    template.resourceCountIs('AWS::ApiGateway::Model', 1);
    template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    template.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    template.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 1);
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
    template.resourceCountIs('Custom::SchemaMigration', 1);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 16);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
  });

  it('runs Aurora PostgreSQL Serverless v2 with the Data API, encrypted, backed up, scaling to zero', () => {
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      EngineVersion: '16.13',
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

  it('runs the newest Aurora PostgreSQL 16 minor this aws-cdk-lib offers', () => {
    const minors = Object.keys(rds.AuroraPostgresEngineVersion)
      .map((name) => /^VER_16_(\d+)$/.exec(name)?.[1])
      .filter((minor): minor is string => minor !== undefined)
      .map(Number);
    expect(ENGINE_VERSION.auroraPostgresFullVersion).toBe(`16.${Math.max(...minors)}`);
  });

  it('keeps the master credentials in a generated Secrets Manager secret', () => {
    s.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"postgres"}' }),
    });
    s.template.hasResourceProperties('AWS::RDS::DBCluster', {
      MasterUserPassword: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    });
  });

  it('keeps checkout_app’s credentials in a second generated secret, under the same (default) key', () => {
    // The third, the fingerprint key, is under the same key too (card-payments.test.ts).
    const secrets = Object.values(s.template.findResources('AWS::SecretsManager::Secret'));
    const generated = secrets.map((secret) =>
      JSON.stringify(secret.Properties.GenerateSecretString),
    );
    const runtime = generated.filter((g) => g.includes('checkout_app'));
    expect(runtime).toHaveLength(1);
    expect(runtime[0]).toContain('"GenerateStringKey":"password"');
    expect(runtime[0]).toMatch(/dbname.{0,6}checkout\b/);
    // Quotes never appear in the password: it goes into the migration's ALTER ROLE as a literal.
    expect(runtime[0]).toMatch(/"ExcludeCharacters":"[^"]*'/);
    for (const secret of secrets) expect(secret.Properties.KmsKeyId).toBeUndefined();
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
          PAYMENT_SERVICE_URL: { Ref: 'PaymentServiceUrl' },
          INVENTORY_SERVICE_URL: { Ref: 'InventoryServiceUrl' },
          ORDER_SERVICE_URL: { Ref: 'OrderServiceUrl' },
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

  it.each(RUNTIME_FUNCTIONS)(
    'signs %s in as checkout_app, with no access to the owner’s secret',
    (name) => {
      const vars = variablesOf(name);
      const db = s.stack.database;
      expect(vars.DB_CLUSTER_ARN).toEqual(s.stack.resolve(db?.cluster.clusterArn));
      expect(vars.DB_SECRET_ARN).toEqual(s.stack.resolve(db?.runtimeSecret.secretArn));
      expect(vars).not.toHaveProperty('RUNTIME_DB_SECRET_ARN');
    },
  );

  it('signs the migration in as the owner and hands it the runtime secret to keep checkout_app', () => {
    const vars = variablesOf('migrate');
    const db = s.stack.database;
    expect(vars.DB_SECRET_ARN).toEqual(s.stack.resolve(db?.ownerSecret.secretArn));
    expect(vars.RUNTIME_DB_SECRET_ARN).toEqual(s.stack.resolve(db?.runtimeSecret.secretArn));
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

  /**
   * The function's rds-data and Secrets Manager statements, actions and resources sorted; but for
   * the payment API key's policy, which exists only when its parameter is set (tested apart).
   */
  const databaseGrants = (name: FunctionName) => {
    const roleId = logicalIdOf(s.stack, s.stack.functions[name].role?.roleArn ?? '');
    const policies = s.template.findResources('AWS::IAM::Policy') as Record<
      string,
      { Condition?: string; Properties: { Roles: unknown[] } }
    >;
    const ofRole = Object.entries(policies)
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .filter(([, p]) => p.Condition !== 'HasPaymentApiKey')
      .map(([id]) => id);
    return policyStatements(s.template)
      .filter(({ policy }) => ofRole.includes(policy))
      .map(({ statement }) => statement)
      .filter((st) => actionsOf(st).some((a) => /^(rds-data|secretsmanager):/.test(a)))
      .map((st) => ({
        Action: actionsOf(st).sort(),
        Resource: [st.Resource]
          .flat()
          .map((r) => JSON.stringify(r))
          .sort(),
      }));
  };
  const clusterArn = () => JSON.stringify(s.stack.resolve(s.stack.database?.cluster.clusterArn));
  const runtimeSecret = () =>
    JSON.stringify(s.stack.resolve(s.stack.database?.runtimeSecret.secretArn));
  const ownerSecret = () =>
    JSON.stringify(s.stack.resolve(s.stack.database?.ownerSecret.secretArn));
  const fingerprintSecret = () =>
    JSON.stringify(s.stack.resolve(s.stack.fingerprintKey?.secret.secretArn));
  const webhookSecret = () =>
    JSON.stringify(s.stack.resolve(s.stack.paymentWebhookSecret?.secretArn.valueAsString));

  it.each(RUNTIME_FUNCTIONS)(
    'let %s run single statements on the cluster and read checkout_app’s secret (checkout: and the fingerprint key; webhooks: and the webhook secret), nothing more',
    (name) => {
      const own = { checkout: [fingerprintSecret()], webhooks: [webhookSecret()] };
      const secrets = [runtimeSecret(), ...(own[name as keyof typeof own] ?? [])];
      expect(databaseGrants(name)).toEqual([
        { Action: ['rds-data:ExecuteStatement'], Resource: [clusterArn()] },
        { Action: ['secretsmanager:GetSecretValue'], Resource: secrets.sort() },
      ]);
    },
  );

  it('let the migration open transactions and read both secrets, nothing more', () => {
    expect(databaseGrants('migrate')).toEqual([
      {
        Action: [
          'rds-data:BeginTransaction',
          'rds-data:CommitTransaction',
          'rds-data:ExecuteStatement',
          'rds-data:RollbackTransaction',
        ],
        Resource: [clusterArn()],
      },
      {
        Action: ['secretsmanager:GetSecretValue'],
        Resource: [ownerSecret(), runtimeSecret()].sort(),
      },
    ]);
  });

  it('grant transactions only to what opens them: lib/db/migrate.ts is the one caller', () => {
    const callers = ['lib', 'functions']
      .flatMap((dir) =>
        readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)),
      )
      .filter((file) => file.endsWith('.ts') && !file.startsWith('lib/db/drivers/'))
      .filter((file) => /\.transaction\(/.test(readFileSync(file, 'utf8')));
    expect(callers).toEqual(['lib/db/migrate.ts']);
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

  it('requires the API key on every method, /health included (dev default: auth=apiKey), but the payment webhooks', () => {
    expect(
      Object.fromEntries(
        Object.entries(methods()).map(([k, m]) => [k, [m.AuthorizationType, m.ApiKeyRequired]]),
      ),
    ).toEqual({
      'GET /health': ['NONE', true],
      'POST /checkout/process': ['NONE', true],
      'GET /checkout/{id}': ['NONE', true],
      // Signed by the payment service with HMAC instead (payment-webhooks.test.ts).
      'POST /webhooks/payments': ['NONE', false],
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
      Rules: Match.arrayWith([
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 15_000, AggregateKeyType: 'IP' } },
        }),
      ]),
    });
    const stageId = logicalIdOf(s.stack, s.stack.api.restApi.deploymentStage.stageName);
    s.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { 'Fn::Join': ['', Match.arrayWith([{ Ref: stageId }])] },
    });
  });

  it('outputs the API URL, the API key id, the alarm topic, the operator, the services and the Data API settings', () => {
    const outputs = s.template.toJSON().Outputs;
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'ApiKeyId',
      'ApiUrl',
      'DbClusterArn',
      'DbName',
      'DbSecretArn',
      'InventoryServiceUrl',
      'OperatorFunctionName',
      'OrderServiceUrl',
      'PaymentServiceUrl',
    ]);
    expect(outputs.DbName.Value).toBe('checkout');
    // What `npm run checkouts` signs in with: checkout_app, not the owner.
    expect(outputs.DbSecretArn.Value).toEqual(
      s.stack.resolve(s.stack.database?.runtimeSecret.secretArn),
    );
    expect(outputs.PaymentServiceUrl.Value).toEqual({ Ref: 'PaymentServiceUrl' });
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

  it('lets the migration wait minutes for a paused cluster, and requests the default 20 s', () => {
    const variables = (name: (typeof FUNCTION_NAMES)[number]) =>
      (s.template.toJSON().Resources[logicalIdOf(s.stack, s.stack.functions[name].functionName)]
        ?.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
    expect(variables('migrate').DB_RESUME_BUDGET_MS).toBe('240000');
    expect(variables('checkout').DB_RESUME_BUDGET_MS).toBeUndefined();
  });

  it('updates the functions that touch checkouts only after the migrations have run', () => {
    const [migrationId] = Object.keys(s.template.findResources('Custom::SchemaMigration'));
    const resources = s.template.toJSON().Resources as Record<string, { DependsOn?: string[] }>;
    for (const name of RUNTIME_FUNCTIONS) {
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
