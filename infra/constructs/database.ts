import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface DatabaseProps {
  /** Deletion protection, cluster and secret kept on stack deletion, longer backups. */
  readonly production: boolean;
  /** @default 'checkout' */
  readonly databaseName?: string;
  /** Upper bound of the writer's capacity, in Aurora capacity units. @default 2 */
  readonly maxCapacity?: number;
  /** Idle time before the writer pauses at 0 ACU. @default 5 minutes */
  readonly autoPauseAfter?: Duration;
  /** @default 14 days in production, 1 day otherwise */
  readonly backupRetention?: Duration;
}

/** The PostgreSQL role the runtime functions sign in as (`lib/db/migrate.ts` keeps it). */
export const RUNTIME_DB_USER = 'checkout_app';

/**
 * The newest Aurora PostgreSQL 16 minor that this aws-cdk-lib knows (2.276: 16.13). Minors that
 * are not long-term support reach end of standard support about a year after release, and
 * `autoMinorVersionUpgrade` moves the writer on in maintenance windows; bump this with
 * aws-cdk-lib. What a region can order: README, "On AWS".
 */
export const ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_13;

/** How a function reaches the database (see `Database.connect`). */
export interface DatabaseAccess {
  /**
   * `runtime`: `checkout_app`, which may only read and write the application's tables.
   * `owner`: the master user, which owns the schema; only the migration uses it, and it also
   * reads the runtime secret to keep `checkout_app`'s password in step with it.
   */
  readonly user: 'runtime' | 'owner';
  /** BeginTransaction, CommitTransaction and RollbackTransaction besides ExecuteStatement. */
  readonly transactions: boolean;
}

/**
 * Aurora PostgreSQL Serverless v2 reached only through the Data API: the Lambdas stay out of the
 * VPC, the cluster lives in isolated subnets (no NAT, no route out, no ingress) and the
 * credentials of its two users sit in Secrets Manager: the master user, which owns the schema
 * and only the migration signs in as, and `checkout_app`, which the migration creates with the
 * runtime secret's password and which may only read and write the application's tables. The
 * writer scales to 0 ACU and pauses when idle, so at rest only storage and backups are billed;
 * the first call after a pause fails with `DatabaseResumingException`, which the `rds-data`
 * driver retries.
 */
export class Database extends Construct {
  readonly cluster: rds.DatabaseCluster;
  /** The master user's credentials: the schema's owner, for the migration only. */
  readonly ownerSecret: secretsmanager.ISecret;
  /** `checkout_app`'s credentials: what every other function signs in with. */
  readonly runtimeSecret: secretsmanager.ISecret;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'checkout';
    const removalPolicy = props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        rejected: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', {
              retention: logs.RetentionDays.ONE_MONTH,
              removalPolicy,
            }),
          ),
        },
      },
    });

    // Unnamed on purpose: a deleted secret's name stays taken for its recovery window. Both
    // under the default aws/secretsmanager key, so the grants below need no KMS permission.
    const credentials = new rds.DatabaseSecret(this, 'Credentials', { username: 'postgres' });
    // The migration creates this role with this password and grants it the application's
    // tables; `masterSecret` is what a multi-user rotation would sign in with to change it.
    const runtimeCredentials = new rds.DatabaseSecret(this, 'RuntimeCredentials', {
      username: RUNTIME_DB_USER,
      dbname: this.databaseName,
      masterSecret: credentials,
    });
    for (const secret of [credentials, runtimeCredentials]) {
      secret.applyRemovalPolicy(removalPolicy);
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Rotation needs a rotation Lambda inside the VPC plus a NAT gateway or a Secrets ' +
          'Manager interface endpoint, a standing cost this service avoids; the secret is only ' +
          'read by the Data API for IAM-authorised callers, and no network path to the database exists.',
      });
    }

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: ENGINE_VERSION }),
      writer: rds.ClusterInstance.serverlessV2('writer', {
        autoMinorVersionUpgrade: true,
        publiclyAccessible: false,
      }),
      serverlessV2MinCapacity: 0,
      serverlessV2MaxCapacity: props.maxCapacity ?? 2,
      serverlessV2AutoPauseDuration: props.autoPauseAfter ?? Duration.minutes(5),
      enableDataApi: true,
      defaultDatabaseName: this.databaseName,
      credentials: rds.Credentials.fromSecret(credentials),
      storageEncrypted: true,
      iamAuthentication: true,
      backup: {
        retention: props.backupRetention ?? Duration.days(props.production ? 14 : 1),
      },
      deletionProtection: props.production,
      removalPolicy,
      copyTagsToSnapshot: true,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    });
    // The secret attached to the cluster: same ARN, with the cluster's host and port added.
    if (!this.cluster.secret) throw new Error('the cluster must have its credentials secret');
    this.ownerSecret = this.cluster.secret;
    this.runtimeSecret = runtimeCredentials.attach(this.cluster);

    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS11',
      reason:
        'Nothing connects to the port: the cluster sits in isolated subnets behind a security ' +
        'group without ingress rules, and every query goes through the Data API (HTTPS + IAM).',
    });
    if (!props.production) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is on in production (-c stage=prod); development stacks are ' +
          'disposable and must be deletable by `cdk destroy`.',
      });
    }
  }

  /**
   * Connects `fn` to the database through the Data API as `access.user`: the variables
   * `lib/config.ts` reads to pick the `rds-data` driver, and exactly the permissions it uses:
   * `rds-data:ExecuteStatement` (plus the three transaction actions if it opens transactions) on
   * this cluster, and `secretsmanager:GetSecretValue` on the secret it signs in with (the Data
   * API reads it with the caller's permissions). Nothing else of rds-data or Secrets Manager.
   */
  connect(fn: lambda.Function, access: DatabaseAccess): void {
    const owner = access.user === 'owner';
    fn.addEnvironment('DB_CLUSTER_ARN', this.cluster.clusterArn);
    fn.addEnvironment('DB_NAME', this.databaseName);
    fn.addEnvironment('DB_SECRET_ARN', (owner ? this.ownerSecret : this.runtimeSecret).secretArn);
    if (owner) fn.addEnvironment('RUNTIME_DB_SECRET_ARN', this.runtimeSecret.secretArn);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [
        'rds-data:ExecuteStatement',
        ...(access.transactions
          ? [
              'rds-data:BeginTransaction',
              'rds-data:CommitTransaction',
              'rds-data:RollbackTransaction',
            ]
          : []),
      ],
      resourceArns: [this.cluster.clusterArn],
    });
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: owner
        ? [this.ownerSecret.secretArn, this.runtimeSecret.secretArn]
        : [this.runtimeSecret.secretArn],
    });
  }
}
