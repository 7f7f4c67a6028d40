import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';

export interface CheckoutApiProps {
  /** Serves `GET /health`. */
  readonly healthFunction: lambda.IFunction;
  /** Serves `POST /checkout/process` and `GET /checkout/{id}` (one function, Middy router). */
  readonly checkoutFunction: lambda.IFunction;
  /** Require an API key (and its usage plan) on the `/checkout` methods. */
  readonly requireApiKey: boolean;
  /** Associate a WAFv2 web ACL with a rate-based rule (not in LocalStack's community edition). */
  readonly webAcl: boolean;
  /** Stage-wide steady rate and burst, in requests per second. @default 50 and 100 */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Requests one client IP may send in any 5 minutes before WAF blocks it. @default 1000 */
  readonly wafRequestsPer5Minutes?: number;
  /** Keep the access log group when the stack is deleted (production). @default false */
  readonly retainLogs?: boolean;
}

/** Fields of one JSON access log line per request. Request bodies and API keys never appear. */
const ACCESS_LOG_FORMAT = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: apigateway.AccessLogField.contextRequestId(),
    requestTime: apigateway.AccessLogField.contextRequestTime(),
    httpMethod: apigateway.AccessLogField.contextHttpMethod(),
    resourcePath: apigateway.AccessLogField.contextResourcePath(),
    status: apigateway.AccessLogField.contextStatus(),
    responseLength: apigateway.AccessLogField.contextResponseLength(),
    responseLatency: apigateway.AccessLogField.contextResponseLatency(),
    integrationStatus: apigateway.AccessLogField.contextIntegrationStatus(),
    integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
    integrationError: apigateway.AccessLogField.contextIntegrationErrorMessage(),
    errorType: apigateway.AccessLogField.contextErrorResponseType(),
    apiKeyId: apigateway.AccessLogField.contextIdentityApiKeyId(),
    sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
    userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
    wafStatus: apigateway.AccessLogField.contextWafStatus(),
    xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
  }),
);

/**
 * The public REST API (design §2): `GET /health`, `POST /checkout/process`, `GET /checkout/{id}`.
 * Stage throttling, JSON access logs, X-Ray, request validation against the JSON Schema generated
 * from the zod request schema (the same one the function validates with), an API key and usage
 * plan on `/checkout` when asked, and a WAF rate-based rule in front of the stage. Gateway-made
 * errors answer in the API's own JSON error shape.
 */
export class CheckoutApi extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly apiKey?: apigateway.IApiKey;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: CheckoutApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const api = new apigateway.RestApi(this, 'RestApi', {
      // The API's CloudWatch metrics are keyed by this name: one per stack.
      restApiName: Stack.of(this).stackName,
      description: 'Checkout orchestrator: payment, inventory and order as a saga',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // The account-wide API Gateway logging role is not this stack's to own; access logs are
      // delivered without it.
      cloudWatchRole: false,
      deployOptions: {
        stageName: 'v1',
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        tracingEnabled: true,
        metricsEnabled: true,
      },
    });
    this.restApi = api;
    // The stack has its own `ApiUrl` output; this one would repeat it under a generated name.
    api.node.tryRemoveChild('Endpoint');
    this.addErrorResponses(api);

    const validator = api.addRequestValidator('Validator', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const checkoutRequest = api.addModel('CheckoutRequest', {
      modelName: 'CheckoutRequest',
      contentType: 'application/json',
      description: 'Generated from the zod request schema (lib/checkout/request-schema.ts)',
      schema: checkoutRequestJsonSchema('draft-4') as apigateway.JsonSchema,
    });

    const integration = (fn: lambda.IFunction) =>
      new apigateway.LambdaIntegration(fn, { allowTestInvoke: false });
    const keyed = { apiKeyRequired: props.requireApiKey };

    api.root
      .addResource('health')
      .addMethod('GET', integration(props.healthFunction), { apiKeyRequired: false });
    const checkout = api.root.addResource('checkout');
    checkout.addResource('process').addMethod('POST', integration(props.checkoutFunction), {
      ...keyed,
      requestValidator: validator,
      requestModels: { 'application/json': checkoutRequest },
    });
    checkout.addResource('{id}').addMethod('GET', integration(props.checkoutFunction), {
      ...keyed,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });

    if (props.requireApiKey) {
      const plan = api.addUsagePlan('UsagePlan', {
        name: Stack.of(this).stackName,
        description: 'Callers of /checkout: one API key each, each held to the stage limits',
        throttle,
        apiStages: [{ api, stage: api.deploymentStage }],
      });
      this.apiKey = api.addApiKey('ApiKey', {
        description: 'Default caller of the /checkout methods',
      });
      plan.addApiKey(this.apiKey);
    }

    if (props.webAcl) this.webAcl = this.addWebAcl(api, props.wafRequestsPer5Minutes ?? 1000);
    else {
      Validations.of(api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAFv2 is not in LocalStack community; only the localstack target omits the web ACL, ' +
          'the aws target always associates it.',
      });
    }

    Validations.of(api).acknowledge(
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'A server-to-server API without end users: /checkout is called by the storefront ' +
          'backend with an API key and usage plan (on by default), behind WAF rate limiting; ' +
          '/health is public on purpose for load balancers and uptime checks.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason:
          'No Cognito user pool: the callers are backends, not signed-in users (see APIG4); ' +
          'an authorizer can be added without changing the functions.',
      },
    );
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Every request is in the JSON access log (status, latencies, integration error, request ' +
        'and trace id) and each function logs in JSON; execution logging would need the ' +
        'account-wide API Gateway CloudWatch role, which this stack does not own.',
    });
  }

  /**
   * Errors made by API Gateway itself (schema rejection, missing or wrong API key, throttling,
   * unknown route) in the API's JSON shape. The schema error stays generic on purpose: the
   * gateway's text would echo the offending value, which may be a card number.
   */
  private addErrorResponses(api: apigateway.RestApi): void {
    const json = (body: Record<string, unknown>) => ({
      'application/json': JSON.stringify(body).replace(
        '"$MESSAGE"',
        '$context.error.messageString',
      ),
    });
    api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: json({
        error: 'validation_error',
        message: 'The request body does not match the checkout request schema',
        details: [],
      }),
    });
    api.addGatewayResponse('Default4xx', {
      type: apigateway.ResponseType.DEFAULT_4XX,
      templates: json({ error: '$context.error.responseType', message: '$MESSAGE' }),
    });
    api.addGatewayResponse('Default5xx', {
      type: apigateway.ResponseType.DEFAULT_5XX,
      templates: json({ error: 'internal_error', message: 'Internal error' }),
    });
  }

  /** A regional web ACL: allow by default, block any client IP over the rate limit. */
  private addWebAcl(api: apigateway.RestApi, limit: number): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('checkout-commerce-web-acl'),
      rules: [
        {
          name: 'rate-limit-per-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('checkout-commerce-rate-limit'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
    return acl;
  }
}
