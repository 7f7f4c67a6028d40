import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { FunctionName } from './bundling.ts';
import { CheckoutAlarms } from './constructs/alarms.ts';
import { CheckoutApi } from './constructs/api.ts';
import { CheckoutFunction, type CheckoutFunctionProps } from './constructs/checkout-function.ts';
import { Database } from './constructs/database.ts';
import { SchemaMigration } from './constructs/schema-migration.ts';

/** Base URLs of the downstream services (design §3). */
export interface ServiceUrls {
  readonly payment: string;
  readonly inventory: string;
  readonly order: string;
}

interface CommonProps extends StackProps {
  /** Deletion protection and retained data and logs. */
  readonly production: boolean;
  /** API key and usage plan on the `/checkout` methods. */
  readonly requireApiKey: boolean;
  readonly serviceUrls: ServiceUrls;
  /**
   * How often `functions/recovery` runs. Each run queries the database, so a run more often than
   * the auto-pause delay keeps Aurora from pausing. @default 2 minutes
   */
  readonly recoveryInterval?: Duration;
  /** Fixes the migration resource's deploy stamp; by default every synth differs. */
  readonly deployedAt?: string;
}

/**
 * `aws`: Aurora Serverless v2 through the Data API, WAF in front of the API.
 * `localstack`: the same stack on LocalStack community: no RDS, no WAF; the functions use the
 * `postgres` driver against `databaseUrl` (the docker-compose PostgreSQL).
 */
export type CheckoutStackProps = CommonProps &
  ({ readonly target: 'aws' } | { readonly target: 'localstack'; readonly databaseUrl: string });

/** Per function: what it is for and what it needs beyond the defaults of `CheckoutFunction`. */
const FUNCTION_SETTINGS: Record<
  FunctionName,
  Pick<CheckoutFunctionProps, 'description' | 'timeout' | 'memorySize'>
> = {
  health: {
    description: 'GET /health: answers whether the database responds',
    timeout: Duration.seconds(10),
  },
  checkout: {
    description: 'POST /checkout/process and GET /checkout/{id}',
    // API Gateway's integration timeout; the saga bounds its work by the remaining time.
    timeout: Duration.seconds(29),
    memorySize: 512,
  },
  recovery: {
    description: 'Scheduled: drives checkouts left half-done to a final state',
    timeout: Duration.seconds(90),
  },
  migrate: {
    description: 'Custom resource: applies the SQL migrations on every deploy',
    // Long enough for a paused Aurora writer to resume before the first statement.
    timeout: Duration.minutes(5),
  },
};

/**
 * The checkout service (design §7): four Lambda functions, the REST API in front of two of them,
 * the database they share, the migration run on every deploy, the recovery schedule and the
 * alarms.
 */
export class CheckoutStack extends Stack {
  readonly api: CheckoutApi;
  readonly database?: Database;
  readonly functions: Record<FunctionName, CheckoutFunction>;

  constructor(scope: Construct, id: string, props: CheckoutStackProps) {
    super(scope, id, props);

    const database =
      props.target === 'aws'
        ? new Database(this, 'Database', { production: props.production })
        : undefined;
    this.database = database;
    const environment = {
      ...(database?.environment ??
        (props.target === 'localstack' ? { DATABASE_URL: props.databaseUrl } : {})),
      PAYMENT_SERVICE_URL: props.serviceUrls.payment,
      INVENTORY_SERVICE_URL: props.serviceUrls.inventory,
      ORDER_SERVICE_URL: props.serviceUrls.order,
      PAYMENT_TIMEOUT_MS: '10000',
      INVENTORY_TIMEOUT_MS: '5000',
      ORDER_TIMEOUT_MS: '5000',
      HTTP_MAX_RETRIES: '2',
      CHECKOUT_LEASE_MS: '60000',
    };

    const createFunction = (name: FunctionName, constructId: string) => {
      const fn = new CheckoutFunction(this, constructId, {
        name,
        environment,
        retainLogs: props.production,
        ...FUNCTION_SETTINGS[name],
      });
      database?.grantDataApiAccess(fn);
      return fn;
    };
    this.functions = {
      health: createFunction('health', 'HealthFunction'),
      checkout: createFunction('checkout', 'CheckoutFunction'),
      recovery: createFunction('recovery', 'RecoveryFunction'),
      migrate: createFunction('migrate', 'MigrateFunction'),
    };

    const migration = new SchemaMigration(this, 'SchemaMigration', {
      migrateFunction: this.functions.migrate,
      deployedAt: props.deployedAt,
    });
    if (database) migration.node.addDependency(database);

    new events.Rule(this, 'RecoverySchedule', {
      description: 'Runs functions/recovery: checkouts whose lease expired are settled',
      schedule: events.Schedule.rate(props.recoveryInterval ?? Duration.minutes(2)),
      // The next run picks up whatever this one left: a failed run is not retried.
      targets: [new targets.LambdaFunction(this.functions.recovery, { retryAttempts: 0 })],
    });

    this.api = new CheckoutApi(this, 'Api', {
      healthFunction: this.functions.health,
      checkoutFunction: this.functions.checkout,
      requireApiKey: props.requireApiKey,
      webAcl: props.target === 'aws',
      retainLogs: props.production,
    });
    // No traffic reaches a schema that is not there yet on the first deploy.
    this.api.restApi.deploymentStage.node.addDependency(migration);

    new CheckoutAlarms(this, 'Alarms', { restApi: this.api.restApi });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the checkout API (stage included)',
      value: this.api.restApi.url,
    });
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        description:
          'Id of the API key for /checkout; its value: aws apigateway get-api-key ' +
          '--include-value --query value --output text --api-key <id>',
        value: this.api.apiKey.keyId,
      });
    }
    if (database) {
      new CfnOutput(this, 'DbClusterArn', { value: database.cluster.clusterArn });
      new CfnOutput(this, 'DbSecretArn', { value: database.secret.secretArn });
    }
  }
}
