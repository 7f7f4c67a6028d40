import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '#lib/observability/constants.ts';
import {
  EXTERNAL_MODULES,
  entryOf,
  type FunctionName,
  MAIN_FIELDS,
  NODE_TARGET,
  REQUIRE_BANNER,
} from '../bundling.ts';

export interface CheckoutFunctionProps {
  /** The folder under `functions/`: its `handler.ts` exports `handler`. */
  readonly name: FunctionName;
  readonly description: string;
  /** Variables the function reads through `lib/config.ts`, on top of the defaults. */
  readonly environment: Record<string, string>;
  /** @default 10 seconds */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Keep the log group when the stack is deleted (production). @default false */
  readonly retainLogs?: boolean;
  /** @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * Every function of the service, with every default in one place: Node.js 22 on arm64, an ESM
 * bundle built by the local esbuild with the same options as `npm run build` (the `createRequire`
 * banner, minified, source maps, the same externals, the AWS SDK bundled so the pinned client is
 * the one that runs), X-Ray tracing, and its own log group with a retention.
 *
 * The role is the function's own, without the AWS-managed basic execution policy: it may write
 * to its log group and nowhere else; callers add what the function needs through grants.
 */
export class CheckoutFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: CheckoutFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.name} function`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      entry: entryOf(props.name),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: lambda.Tracing.ACTIVE,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        LOG_LEVEL: props.logLevel ?? 'INFO',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: NODE_TARGET,
        mainFields: MAIN_FIELDS,
        banner: REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        externalModules: EXTERNAL_MODULES,
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose (design §1): the bundles target node22 and the bundle ' +
        'smoke test runs them on Node 22; moving to a newer runtime is a tested change, not a lint fix.',
    });
    // Lambda's X-Ray integration needs xray:PutTraceSegments and xray:PutTelemetryRecords,
    // which accept no resource other than '*'; CDK adds exactly these two for `Tracing.ACTIVE`.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray trace segments and telemetry (added by Tracing.ACTIVE) support no resource-level ' +
        'permissions, so the only possible resource is "*"; no other action is granted on "*".',
    });
  }
}
