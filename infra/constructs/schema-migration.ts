import { createHash } from 'node:crypto';
import { type CfnElement, CustomResource, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { migrations } from '#lib/db/migrations/index.ts';

export interface SchemaMigrationProps {
  /** `functions/migrate`: the custom resource's `onEvent` handler. */
  readonly migrateFunction: lambda.Function;
  /**
   * Changes on every synth unless fixed, so CloudFormation updates the resource, and the
   * migrations run, on every deploy. @default the synth time
   */
  readonly deployedAt?: string;
}

/**
 * The `Custom::SchemaMigration` resource: on every deploy CloudFormation calls
 * `functions/migrate` through the CDK provider framework, which applies the pending SQL
 * migrations before the deploy completes (a failure rolls the deploy back). Its properties name
 * the migrations it carries (latest version and a hash of every statement) and the deploy time.
 */
export class SchemaMigration extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SchemaMigrationProps) {
    super(scope, id);
    // The framework's own function gets a role of its own too: its log group and, granted by
    // the Provider, invoking the migrate function; not the AWS-managed basic execution policy.
    const logGroup = new logs.LogGroup(this, 'ProviderLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Execution role of the schema migration provider framework',
    });
    logGroup.grantWrite(role);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.migrateFunction,
      logGroup,
      frameworkOnEventRole: role,
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(
        props.migrateFunction.node.defaultChild as CfnElement,
      )}.Arn>:*]`,
      reason:
        'Added by the Provider framework (grantInvoke): the migrate function and its versions ' +
        'and aliases (`<arn>:*`); no other function can be invoked.',
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SchemaMigration',
      properties: {
        MigrationsVersion: migrations.at(-1)?.version ?? 'none',
        MigrationsHash: createHash('sha256').update(JSON.stringify(migrations)).digest('hex'),
        DeployedAt: props.deployedAt ?? new Date().toISOString(),
      },
    });
  }
}
