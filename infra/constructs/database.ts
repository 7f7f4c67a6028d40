import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
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

/**
 * Aurora PostgreSQL Serverless v2 reached only through the Data API: the Lambdas stay out of the
 * VPC, the cluster lives in isolated subnets (no NAT, no route out, no ingress) and its
 * credentials sit in Secrets Manager. The writer scales to 0 ACU and pauses when idle, so at rest
 * only storage and backups are billed; the first call after a pause fails with
 * `DatabaseResumingException`, which the `rds-data` driver retries.
 */
export class Database extends Construct {
  readonly cluster: rds.DatabaseCluster;
  readonly secret: secretsmanager.ISecret;
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

    // Unnamed on purpose: a deleted secret's name stays taken for its recovery window.
    const credentials = new rds.DatabaseSecret(this, 'Credentials', { username: 'postgres' });
    credentials.applyRemovalPolicy(removalPolicy);
    Validations.of(credentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotation needs a rotation Lambda inside the VPC plus a NAT gateway or a Secrets Manager ' +
        'interface endpoint, a standing cost this service avoids; the secret is only read by the ' +
        'Data API for IAM-authorised callers, and no network path to the database exists.',
    });

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({
        version: rds.AuroraPostgresEngineVersion.VER_16_6,
      }),
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
    this.secret = this.cluster.secret;

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

  /** Lets `grantee` run SQL through the Data API: rds-data on this cluster, read on its secret. */
  grantDataApiAccess(grantee: iam.IGrantable): void {
    this.cluster.grantDataApiAccess(grantee);
  }

  /** The variables `lib/config.ts` reads to pick the `rds-data` driver. */
  get environment(): Record<string, string> {
    return {
      DB_CLUSTER_ARN: this.cluster.clusterArn,
      DB_SECRET_ARN: this.secret.secretArn,
      DB_NAME: this.databaseName,
    };
  }
}
