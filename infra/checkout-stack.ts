import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { PaymentFlow } from '#lib/checkout/checkout.ts';
import type { FunctionName } from './bundling.ts';
import { AlarmTopic } from './constructs/alarm-topic.ts';
import {
  CheckoutAlarms,
  DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES,
  oldestUnfinishedThreshold,
} from './constructs/alarms.ts';
import { type ApiAuth, CheckoutApi } from './constructs/api.ts';
import { CheckoutFunction, type CheckoutFunctionProps } from './constructs/checkout-function.ts';
import { CheckoutDashboard } from './constructs/dashboard.ts';
import { Database, type DatabaseAccess, RUNTIME_DB_USER } from './constructs/database.ts';
import {
  DownstreamServices,
  SERVICE_URL_PARAMETERS,
  type ServiceUrls,
} from './constructs/downstream-services.ts';
import { FingerprintKey } from './constructs/fingerprint-key.ts';
import { PaymentWebhookSecret } from './constructs/payment-webhook-secret.ts';
import { RecoveryInvocations } from './constructs/recovery-invocations.ts';
import { RecoverySchedules } from './constructs/recovery-schedules.ts';
import { SchemaMigration } from './constructs/schema-migration.ts';
import {
  authorizationAlarmThreshold,
  DEFAULT_AUTHORIZATION_ALARM_HOURS,
} from './payment-settings.ts';

export type { ServiceUrls } from './constructs/downstream-services.ts';

interface CommonProps extends StackProps {
  /** Deletion protection and retained data and logs. */
  readonly production: boolean;
  /** `iam`: SigV4 on every method; `apiKey`: the API key alone (see `CheckoutApi`). */
  readonly auth: ApiAuth;
  /** API key and usage plan on the methods. */
  readonly requireApiKey: boolean;
  /** `REQUIRE_IDEMPOTENCY_KEY`: `POST /checkout/process` refuses a request without one. */
  readonly requireIdempotencyKey: boolean;
  /** Make the account's API Gateway CloudWatch Logs role (see `CheckoutApi`). */
  readonly apiGatewayCloudWatchRole: boolean;
  /** WAF's per-IP limit per 5 minutes. @default the stage rate × 300 s */
  readonly wafRateLimit?: number;
  /**
   * Reserved concurrency: `checkoutConcurrency` for checkout, 1 for recovery. `false` for an
   * account whose Lambda quota cannot spare them (it must keep 100 unreserved; new accounts
   * may start at 10).
   */
  readonly reserveConcurrency: boolean;
  /** @default DEFAULT_CHECKOUT_CONCURRENCY */
  readonly checkoutConcurrency?: number;
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
  /** `PAYMENT_CAPTURE` of the checkout function: how new checkouts pay. */
  readonly paymentCapture: PaymentFlow;
  /**
   * `ACCEPT_RAW_CARDS` of the checkout function. Raw card numbers put the whole deployment in
   * PCI DSS scope, so `true` is refused in production: tokens from the payment service's
   * client-side SDK only.
   */
  readonly acceptRawCards: boolean;
  /** `MIN_INSTALLMENT_AMOUNT` (BRL, `5.00`). @default unset: lib's own default */
  readonly minInstallmentAmount?: string;
  /**
   * The `oldest-open-authorization` alarm fires when a card authorization has been open longer
   * than this; with the sweep's interval it must stay under the authorization's 7 days.
   * @default DEFAULT_AUTHORIZATION_ALARM_HOURS (96)
   */
  readonly authorizationAlarmHours?: number;
  /** Fixes the migration resource's deploy stamp; by default every synth differs. */
  readonly deployedAt?: string;
}

/**
 * `aws`: Aurora Serverless v2 through the Data API, WAF in front of the API, the service URLs as
 * deploy-time parameters. `localstack`: the same stack on LocalStack community: no RDS, no WAF;
 * the functions use the `postgres` driver against `databaseUrl` (the docker-compose
 * PostgreSQL) and call `serviceUrls` (the compose WireMocks).
 */
export type CheckoutStackProps = CommonProps &
  (
    | { readonly target: 'aws' }
    | {
        readonly target: 'localstack';
        readonly databaseUrl: string;
        readonly serviceUrls: ServiceUrls;
      }
  );

/**
 * API Gateway gives up on an integration after 29 s, and that time includes the function's
 * cold-start init, which the Lambda timeout does not count. 25 s leaves 4 s for init, and the
 * saga keeps 2 s of its own budget back, so on a cold start it answers (503 if unfinished) by
 * init + 23 s: the gateway's 504 comes only after an init over 6 s.
 */
export const CHECKOUT_TIMEOUT = Duration.seconds(25);

/**
 * Checkout instances at once, each holding at most one database connection (no transactions,
 * one statement at a time). The writer's `max_connections` follows its maximum capacity: at the
 * default 2 ACU about 400 (AWS's table for Aurora PostgreSQL Serverless v2 gives 189 at 1 ACU and
 * 823 at 4 ACU), and the Data API (no request rate limit on Serverless v2) opens its pooled
 * connections within the same limit. 100 leaves three quarters of them to recovery, the
 * operator, health, the migration and the pool's churn; it also equals the stage burst, and at
 * the stage rate of 50 requests per second covers checkouts of 2 s on average. Raise it with the
 * cluster's maximum capacity (`-c checkoutConcurrency=N`).
 */
export const DEFAULT_CHECKOUT_CONCURRENCY = 100;

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
    timeout: CHECKOUT_TIMEOUT,
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
  webhooks: {
    description: "POST /webhooks/payments: the payment service's signed events (Pix, boleto)",
    // Behind API Gateway's 29 s like checkout: it looks the payment up and may move the
    // checkout on through the services under the checkout's lease.
    timeout: CHECKOUT_TIMEOUT,
  },
};

/**
 * Who each function signs in as and whether it opens transactions: only the migration does
 * (`lib/db/migrate.ts`); every other write is a single statement.
 */
const DATABASE_ACCESS: Record<FunctionName, DatabaseAccess> = {
  health: { user: 'runtime', transactions: false },
  checkout: { user: 'runtime', transactions: false },
  recovery: { user: 'runtime', transactions: false },
  operator: { user: 'runtime', transactions: false },
  migrate: { user: 'owner', transactions: true },
  webhooks: { user: 'runtime', transactions: false },
};

/**
 * The functions that call the payment service (charge, refund, look up): the webhook function
 * looks up the payment an event names, so it sends the API key too when there is one.
 */
const PAYMENT_CALLERS = [
  'checkout',
  'recovery',
  'operator',
  'webhooks',
] as const satisfies FunctionName[];

/** The functions that read and write checkouts: updated only once the migration has run. */
const CHECKOUT_FUNCTIONS = [
  'health',
  'checkout',
  'recovery',
  'operator',
  'webhooks',
] as const satisfies FunctionName[];

/** Nothing in the stack may run more often: each run wakes the database. */
export const MIN_RECOVERY_INTERVAL = Duration.hours(1);

/**
 * The checkout service (design §7): six Lambda functions, the REST API in front of three of them,
 * the database they share (two users: the owner for the migration, `checkout_app` for the
 * rest), the migration run on every deploy, the downstream services' deploy-time settings, the
 * key CPF/CNPJ are fingerprinted with (the checkout function's alone), the payment webhook
 * signing secret's parameter (the webhook function's alone), the hourly recovery sweep
 * and the group of one-off recovery schedules with recovery's failure queue, the alarms with
 * their topic, and a dashboard.
 */
/** Each service's per-try timeout, as the functions are configured with it. */
const PER_TRY_TIMEOUT_MS = { payment: 10_000, inventory: 5_000, order: 5_000 } as const;

export class CheckoutStack extends Stack {
  readonly api: CheckoutApi;
  readonly database?: Database;
  readonly functions: Record<FunctionName, CheckoutFunction>;
  readonly alarms: CheckoutAlarms;
  readonly alarmTopic: AlarmTopic;
  readonly recoverySchedules: RecoverySchedules;
  readonly recoveryInvocations: RecoveryInvocations;
  readonly services: DownstreamServices;
  /** The HMAC key of CPF/CNPJ in fingerprints (the aws target only). */
  readonly fingerprintKey?: FingerprintKey;
  /** The payment service's webhook signing secret, a deploy-time parameter (the aws target only). */
  readonly paymentWebhookSecret?: PaymentWebhookSecret;

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

    if (props.production && props.acceptRawCards) {
      throw new Error(
        'acceptRawCards: must be false on the prod stage: raw card numbers put the whole ' +
          "deployment in PCI DSS scope; take tokens from the payment service's client-side SDK",
      );
    }
    const authorizationAlarm = authorizationAlarmThreshold(
      props.authorizationAlarmHours ?? DEFAULT_AUTHORIZATION_ALARM_HOURS,
      recoveryInterval,
    );

    const database =
      props.target === 'aws'
        ? new Database(this, 'Database', { production: props.production })
        : undefined;
    this.database = database;
    this.services = new DownstreamServices(this, 'Services', {
      urls: props.target === 'localstack' ? props.serviceUrls : undefined,
    });
    // A request still in flight could land after recovery decided it never happened: the
    // functions refuse a settle delay under the longest per-try timeout, so synth does too.
    const longestTryMs = Math.max(...Object.values(PER_TRY_TIMEOUT_MS));
    if (recoverySettleDelay.toMilliseconds() < longestTryMs) {
      throw new Error(
        `recoverySettleDelay: at least the longest per-try timeout (${longestTryMs} ms), got ${recoverySettleDelay.toHumanString()}`,
      );
    }
    const environment = {
      ...(props.target === 'localstack' ? { DATABASE_URL: props.databaseUrl } : {}),
      ...this.services.environment,
      PAYMENT_TIMEOUT_MS: String(PER_TRY_TIMEOUT_MS.payment),
      INVENTORY_TIMEOUT_MS: String(PER_TRY_TIMEOUT_MS.inventory),
      ORDER_TIMEOUT_MS: String(PER_TRY_TIMEOUT_MS.order),
      HTTP_MAX_RETRIES: '2',
      REQUIRE_IDEMPOTENCY_KEY: String(props.requireIdempotencyKey),
      // The alarm on the oldest unfinished checkout is computed from these same two values.
      CHECKOUT_LEASE_MS: String(lease.toMilliseconds()),
      RECOVERY_SETTLE_DELAY_MS: String(recoverySettleDelay.toMilliseconds()),
    };
    // Recovery runs one at a time: a one-off schedule that fires during the sweep waits in
    // Lambda's queue (throttled events are retried until their maximum age) instead of
    // running beside it.
    const reservedConcurrency: Partial<Record<FunctionName, number>> = props.reserveConcurrency
      ? { checkout: props.checkoutConcurrency ?? DEFAULT_CHECKOUT_CONCURRENCY, recovery: 1 }
      : {};

    // Named: the recovery function's ARN goes into its own environment (it makes schedules that
    // invoke itself), and a person types the operator's name in `aws lambda invoke`.
    const physicalNames: Partial<Record<FunctionName, string>> = {
      recovery: functionName(this.stackName, 'recovery'),
      operator: functionName(this.stackName, 'operator'),
    };
    // How new checkouts pay is the checkout function's alone: every later step follows the flow
    // recorded on the row, so recovery and the operator need none of it.
    const ownEnvironment: Partial<Record<FunctionName, Record<string, string>>> = {
      checkout: {
        PAYMENT_CAPTURE: props.paymentCapture,
        ACCEPT_RAW_CARDS: String(props.acceptRawCards),
        ...(props.minInstallmentAmount !== undefined && {
          MIN_INSTALLMENT_AMOUNT: props.minInstallmentAmount,
        }),
      },
    };
    const createFunction = (name: FunctionName, constructId: string) => {
      const fn = new CheckoutFunction(this, constructId, {
        name,
        functionName: physicalNames[name],
        environment: { ...environment, ...ownEnvironment[name] },
        retainLogs: props.production,
        reservedConcurrentExecutions: reservedConcurrency[name],
        ...FUNCTION_SETTINGS[name],
      });
      database?.connect(fn, DATABASE_ACCESS[name]);
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
      webhooks: createFunction('webhooks', 'WebhooksFunction'),
    };
    // A deploy must not roll back because the cluster was asleep: the migration waits minutes
    // for it to resume (requests wait at most the driver's default, 20 s).
    this.functions.migrate.addEnvironment('DB_RESUME_BUDGET_MS', '240000');
    for (const name of PAYMENT_CALLERS) this.services.allowPaymentApiKey(this.functions[name]);
    // Only the checkout function fingerprints requests. The other targets run the `postgres`
    // driver, where lib/config.ts keys documents with its local development value.
    if (props.target === 'aws') {
      this.fingerprintKey = new FingerprintKey(this, 'FingerprintKey', {
        production: props.production,
      });
      this.fingerprintKey.allowFingerprinting(this.functions.checkout);
      // Only the webhook function verifies the payment service's signatures. It gets neither
      // the fingerprint key nor the scheduler: an event it cannot apply yet is answered 503,
      // and the service delivers it again.
      this.paymentWebhookSecret = new PaymentWebhookSecret(this, 'PaymentWebhookSecret');
      this.paymentWebhookSecret.allowVerifying(this.functions.webhooks);
    }
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
    // New code may read and write columns the new migrations add, and signs in as the role the
    // migration creates and grants: the functions that touch the checkouts are updated only once
    // the schema and `checkout_app` are.
    for (const name of CHECKOUT_FUNCTIONS) this.functions[name].node.addDependency(migration);

    new events.Rule(this, 'RecoverySchedule', {
      description:
        'Safety net of the one-off recovery schedules: settles any checkout whose lease expired',
      schedule: events.Schedule.rate(recoveryInterval),
      // This covers handing the event to Lambda (an asynchronous invoke) only; a run that fails
      // after that is Lambda's to retry, which `RecoveryInvocations` turns off.
      targets: [new targets.LambdaFunction(this.functions.recovery, { retryAttempts: 0 })],
    });
    this.recoveryInvocations = new RecoveryInvocations(this, 'RecoveryInvocations', {
      recoveryFunction: this.functions.recovery,
    });

    this.api = new CheckoutApi(this, 'Api', {
      healthFunction: this.functions.health,
      checkoutFunction: this.functions.checkout,
      webhookFunction: this.functions.webhooks,
      auth: props.auth,
      requireApiKey: props.requireApiKey,
      guardHealth: props.target === 'aws',
      webAcl: props.target === 'aws',
      cloudWatchRole: props.apiGatewayCloudWatchRole,
      wafRateLimit: props.wafRateLimit,
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
      recoveryFailures: this.recoveryInvocations.failures,
      lease,
      recoverySettleDelay,
      authorizationAlarm,
    });
    new CheckoutDashboard(this, 'Dashboard', {
      restApi: this.api.restApi,
      functions: this.functions,
      oldestUnfinishedThreshold: oldestUnfinishedThreshold(lease, recoverySettleDelay),
      authorizationAlarm,
      webhookRejectionsThreshold: DEFAULT_WEBHOOK_REJECTIONS_PER_5_MINUTES,
      alarms: this.alarms.all,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the checkout API (stage included)',
      value: this.api.restApi.url,
    });
    if (props.auth === 'iam') {
      new CfnOutput(this, 'ApiInvokeArn', {
        description:
          "Resource of the execute-api:Invoke statement in a caller's IAM policy (every method)",
        value: this.api.invokeArn,
      });
    }
    if (this.api.apiKey) {
      new CfnOutput(this, 'ApiKeyId', {
        description:
          'Id of the API key; its value: aws apigateway get-api-key ' +
          '--include-value --query value --output text --api-key <id>',
        value: this.api.apiKey.keyId,
      });
    }
    // The operator CLI (`npm run checkouts -- --stack-outputs`) reads these to ask the services.
    for (const [service, output] of Object.entries(SERVICE_URL_PARAMETERS)) {
      new CfnOutput(this, output, {
        description: `Base URL of the ${service} service`,
        value: this.services.urls[service as keyof ServiceUrls],
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
        description: `The ${RUNTIME_DB_USER} credentials secret (not the owner's): DB_SECRET_ARN`,
        value: database.runtimeSecret.secretArn,
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
