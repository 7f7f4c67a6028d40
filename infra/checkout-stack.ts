import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { FunctionName } from './bundling.ts';
import { AlarmTopic } from './constructs/alarm-topic.ts';
import { CheckoutAlarms, oldestUnfinishedThreshold } from './constructs/alarms.ts';
import { CheckoutApi } from './constructs/api.ts';
import { CheckoutFunction, type CheckoutFunctionProps } from './constructs/checkout-function.ts';
import { CheckoutDashboard } from './constructs/dashboard.ts';
import { Database } from './constructs/database.ts';
import { RecoverySchedules } from './constructs/recovery-schedules.ts';
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
   * How often the recovery sweep runs: the safety net behind the one-off schedules. Each run
   * queries the database and keeps Aurora awake for its auto-pause delay, so nothing may run
   * more often than hourly. @default 1 hour
   */
  readonly recoveryInterval?: Duration;
  /** `CHECKOUT_LEASE_MS`: how long a running checkout is held. @default 60 seconds */
  readonly lease?: Duration;
  /**
   * `RECOVERY_SETTLE_DELAY_MS`: how long after a lease ended recovery waits before asking the
   * services. @default 60 seconds
   */
  readonly recoverySettleDelay?: Duration;
  /** Subscribed to the alarm topic by email. @default none: subscribe the topic yourself */
  readonly alarmEmail?: string;
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
    description: 'Hourly sweep and one-off schedules: drives unfinished checkouts to a final state',
    timeout: Duration.seconds(90),
  },
  operator: {
    description:
      'Operator commands (list, show, retry, resolve) through aws lambda invoke; no route',
    // As long as recovery: `retry` settles through the services as a recovery run does.
    timeout: Duration.seconds(90),
  },
  migrate: {
    description: 'Custom resource: applies the SQL migrations on every deploy',
    // Long enough for a paused Aurora writer to resume before the first statement.
    timeout: Duration.minutes(5),
  },
};

/** Nothing in the stack may run more often: each run wakes the database. */
export const MIN_RECOVERY_INTERVAL = Duration.hours(1);

/**
 * The checkout service (design §7): five Lambda functions, the REST API in front of two of them,
 * the database they share, the migration run on every deploy, the hourly recovery sweep and
 * the group of one-off recovery schedules, the alarms with their topic, and a dashboard.
 */
export class CheckoutStack extends Stack {
  readonly api: CheckoutApi;
  readonly database?: Database;
  readonly functions: Record<FunctionName, CheckoutFunction>;
  readonly alarms: CheckoutAlarms;
  readonly alarmTopic: AlarmTopic;
  readonly recoverySchedules: RecoverySchedules;

  constructor(scope: Construct, id: string, props: CheckoutStackProps) {
    super(scope, id, props);
    const lease = props.lease ?? Duration.seconds(60);
    const recoverySettleDelay = props.recoverySettleDelay ?? Duration.seconds(60);
    const recoveryInterval = props.recoveryInterval ?? MIN_RECOVERY_INTERVAL;
    if (recoveryInterval.toMinutes() < MIN_RECOVERY_INTERVAL.toMinutes()) {
      throw new Error(
        `recoveryInterval: at least ${MIN_RECOVERY_INTERVAL.toHumanString()}, got ${recoveryInterval.toHumanString()}`,
      );
    }

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
      // The alarm on the oldest unfinished checkout is computed from these same two values.
      CHECKOUT_LEASE_MS: String(lease.toMilliseconds()),
      RECOVERY_SETTLE_DELAY_MS: String(recoverySettleDelay.toMilliseconds()),
    };

    // Named: the recovery function's ARN goes into its own environment (it makes schedules that
    // invoke itself), and a person types the operator's name in `aws lambda invoke`.
    const physicalNames: Partial<Record<FunctionName, string>> = {
      recovery: functionName(this.stackName, 'recovery'),
      operator: functionName(this.stackName, 'operator'),
    };
    const createFunction = (name: FunctionName, constructId: string) => {
      const fn = new CheckoutFunction(this, constructId, {
        name,
        functionName: physicalNames[name],
        environment,
        retainLogs: props.production,
        ...FUNCTION_SETTINGS[name],
      });
      database?.grantDataApiAccess(fn);
      return fn;
    };

    this.recoverySchedules = new RecoverySchedules(this, 'RecoverySchedules', {
      groupName: `${this.stackName}-recovery`,
      recoveryFunctionArn: this.formatArn({
        service: 'lambda',
        resource: 'function',
        resourceName: physicalNames.recovery,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    });
    this.functions = {
      health: createFunction('health', 'HealthFunction'),
      checkout: createFunction('checkout', 'CheckoutFunction'),
      recovery: createFunction('recovery', 'RecoveryFunction'),
      migrate: createFunction('migrate', 'MigrateFunction'),
      operator: createFunction('operator', 'OperatorFunction'),
    };
    this.recoverySchedules.allowInvoking(this.functions.recovery);
    this.recoverySchedules.allowScheduling(this.functions.checkout);
    this.recoverySchedules.allowScheduling(this.functions.recovery);
    // An operator's retry that a service leaves unfinished schedules its own recovery too.
    this.recoverySchedules.allowScheduling(this.functions.operator);

    const migration = new SchemaMigration(this, 'SchemaMigration', {
      migrateFunction: this.functions.migrate,
      deployedAt: props.deployedAt,
    });
    if (database) migration.node.addDependency(database);
    // New code may read and write columns the new migrations add: the functions that touch the
    // checkouts are updated only once the schema is.
    for (const name of ['health', 'checkout', 'recovery', 'operator'] as const) {
      this.functions[name].node.addDependency(migration);
    }

    new events.Rule(this, 'RecoverySchedule', {
      description:
        'Safety net of the one-off recovery schedules: settles any checkout whose lease expired',
      schedule: events.Schedule.rate(recoveryInterval),
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

    // The topic lets alarms of this prefix publish, and only them.
    const alarmNamePrefix = `${this.stackName}-`;
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      alarmNamePrefix,
      email: props.alarmEmail,
    });
    this.alarms = new CheckoutAlarms(this, 'Alarms', {
      namePrefix: alarmNamePrefix,
      restApi: this.api.restApi,
      functions: this.functions,
      topic: this.alarmTopic.topic,
      lease,
      recoverySettleDelay,
    });
    new CheckoutDashboard(this, 'Dashboard', {
      restApi: this.api.restApi,
      functions: this.functions,
      oldestUnfinishedThreshold: oldestUnfinishedThreshold(lease, recoverySettleDelay),
      alarms: this.alarms.all,
    });

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
    new CfnOutput(this, 'OperatorFunctionName', {
      description:
        'The operator function (no API route): aws lambda invoke --function-name <name> ' +
        '--cli-binary-format raw-in-base64-out --payload \'{"command":"list"}\' out.json',
      value: this.functions.operator.functionName,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm notifies (-c alarmEmail=<address> subscribes one)',
      value: this.alarmTopic.topic.topicArn,
    });
    if (database) {
      // What `npm run checkouts` needs to reach the database through the Data API.
      new CfnOutput(this, 'DbClusterArn', {
        description: 'Aurora cluster (Data API): DB_CLUSTER_ARN',
        value: database.cluster.clusterArn,
      });
      new CfnOutput(this, 'DbSecretArn', {
        description: 'Its credentials secret: DB_SECRET_ARN',
        value: database.secret.secretArn,
      });
      new CfnOutput(this, 'DbName', {
        description: 'Its database: DB_NAME',
        value: database.databaseName,
      });
    }
  }
}

/** `<stack>-<function>`, within Lambda's 64 characters. */
function functionName(stackName: string, name: FunctionName): string {
  const physical = `${stackName}-${name}`;
  if (physical.length > 64) {
    throw new Error(
      `function name ${physical}: longer than Lambda's 64 characters (shorten the stage)`,
    );
  }
  return physical;
}
