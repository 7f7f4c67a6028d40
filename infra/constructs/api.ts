import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';
import { WEBHOOK_SIGNATURE_HEADER } from '#lib/http/webhook-signature.ts';

/** How callers prove who they are: SigV4-signed requests, or the API key alone. */
export type ApiAuth = 'iam' | 'apiKey';

/** Stage-wide steady rate and burst, in requests per second. */
export const DEFAULT_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** WAF's 5-minute window, in seconds: the rate limit counts requests per IP within it. */
const WAF_WINDOW_SECONDS = 300;

/** The lowest limit a WAF rate-based rule accepts. */
export const MIN_WAF_RATE_LIMIT = 10;

export interface CheckoutApiProps {
  /** Serves `GET /health`. */
  readonly healthFunction: lambda.IFunction;
  /** Serves `POST /checkout/process` and `GET /checkout/{id}` (one function, Middy router). */
  readonly checkoutFunction: lambda.IFunction;
  /**
   * Serves `POST /webhooks/payments`: without IAM or API key, since the payment service can
   * neither sign SigV4 nor hold our key; the function verifies its HMAC signature instead.
   */
  readonly webhookFunction: lambda.IFunction;
  /**
   * `iam`: every method is `AWS_IAM` (SigV4; the caller needs execute-api:Invoke on the stage).
   * `apiKey`: the API key is the only gate, which AWS says is not authentication.
   */
  readonly auth: ApiAuth;
  /** An API key and usage plan on the methods: the gate with `apiKey`, per-caller limits with `iam`. */
  readonly requireApiKey: boolean;
  /**
   * `GET /health` takes the same authorization as `/checkout`, so anonymous traffic can neither
   * wake nor load the database (monitors carry the key or sign). `false` leaves it open
   * (LocalStack: no Aurora to wake).
   */
  readonly guardHealth: boolean;
  /** Associate a WAFv2 web ACL (not in LocalStack's community edition). */
  readonly webAcl: boolean;
  /**
   * Make the account's API Gateway CloudWatch Logs role (`AWS::ApiGateway::Account`): without
   * one, a stage with access logs fails to deploy on a fresh account. `false` for an account
   * (or region) that already has it.
   */
  readonly cloudWatchRole: boolean;
  /** Stage-wide steady rate and burst, in requests per second. @default DEFAULT_THROTTLE */
  readonly throttle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Requests one client IP may send in any 5 minutes before WAF blocks it. A shop's backend
   * calls from a few IPs, so one IP must be able to use the whole stage rate.
   * @default the stage rate × 300 s (15 000 at 50 requests per second)
   */
  readonly wafRateLimit?: number;
  /** Keep the access and WAF log groups when the stack is deleted (production). @default false */
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
    // The SigV4 caller (auth=iam): the IAM user or role ARN that signed the request.
    userArn: apigateway.AccessLogField.contextIdentityUserArn(),
    sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
    userAgent: apigateway.AccessLogField.contextIdentityUserAgent(),
    wafStatus: apigateway.AccessLogField.contextWafStatus(),
    xrayTraceId: apigateway.AccessLogField.contextXrayTraceId(),
  }),
);

/**
 * The public REST API (design §2): `GET /health`, `POST /checkout/process`, `GET /checkout/{id}`,
 * and the payment service's `POST /webhooks/payments`.
 * Stage throttling, JSON access logs, X-Ray, request validation against the JSON Schema generated
 * from the zod request schema (the same one the function validates with), IAM (SigV4)
 * authorization or an API key, an API key and usage plan when asked, and a WAF web ACL (per-IP
 * rate limit and AWS managed rule groups, blocked requests logged) in front of the stage.
 * Gateway-made errors answer in the API's own JSON error shape.
 */
export class CheckoutApi extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly apiKey?: apigateway.IApiKey;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: CheckoutApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    const logRemoval = props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: logRemoval,
    });
    const api = new apigateway.RestApi(this, 'RestApi', {
      // The API's CloudWatch metrics are keyed by this name: one per stack.
      restApiName: Stack.of(this).stackName,
      description: 'Checkout orchestrator: payment, inventory and order as a saga',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes access logs with the account's (and region's) one logging role; a
      // stage that logs cannot be created while none is set. The role and the account setting
      // are kept when the stack is deleted: other APIs of the account log with them too.
      cloudWatchRole: props.cloudWatchRole,
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
    const guarded = {
      authorizationType:
        props.auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
      apiKeyRequired: props.requireApiKey,
    };
    const open = { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: false };

    api.root
      .addResource('health')
      .addMethod('GET', integration(props.healthFunction), props.guardHealth ? guarded : open);
    const checkout = api.root.addResource('checkout');
    checkout.addResource('process').addMethod('POST', integration(props.checkoutFunction), {
      ...guarded,
      requestValidator: validator,
      requestModels: { 'application/json': checkoutRequest },
    });
    checkout.addResource('{id}').addMethod('GET', integration(props.checkoutFunction), {
      ...guarded,
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
    this.addWebhookRoute(api, integration(props.webhookFunction));

    if (props.requireApiKey) {
      const plan = api.addUsagePlan('UsagePlan', {
        name: Stack.of(this).stackName,
        description: 'Callers of the API: one API key each, each held to the stage limits',
        throttle,
        apiStages: [{ api, stage: api.deploymentStage }],
      });
      this.apiKey = api.addApiKey('ApiKey', { description: 'Default caller of the API' });
      plan.addApiKey(this.apiKey);
    }

    if (props.webAcl) {
      this.webAcl = this.addWebAcl(
        api,
        props.wafRateLimit ?? throttle.rateLimit * WAF_WINDOW_SECONDS,
        logRemoval,
      );
    } else {
      Validations.of(api.deploymentStage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAFv2 is not in LocalStack community; only the localstack target omits the web ACL, ' +
          'the aws target always associates it.',
      });
    }

    const anonymous = props.auth === 'apiKey' || !props.guardHealth;
    if (anonymous) {
      Validations.of(api).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          props.auth === 'apiKey'
            ? 'auth=apiKey (the dev default): a server-to-server API whose callers hold an API ' +
              'key of the usage plan, behind WAF; production stages default to auth=iam (SigV4).'
            : 'Only GET /health of the localstack target is open: LocalStack has no Aurora to ' +
              'wake, and the aws target signs or keys every method.',
      });
    }
    Validations.of(api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito user pool: the callers are shop backends, not signed-in users; they sign ' +
        'with IAM (SigV4, auth=iam) or hold an API key of the usage plan.',
    });
    Validations.of(api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Every request is in the JSON access log (status, latencies, integration error, request ' +
        'and trace id) and each function logs in JSON; execution logs are off because they ' +
        "record the validator's messages, which quote the offending value (a card number).",
    });
    if (props.cloudWatchRole) {
      const role = api.node.findChild('CloudWatchRole');
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'The account-wide API Gateway logging role serves every API of the account and region ' +
          '(log groups it cannot know in advance): AWS publishes this managed policy for it.',
      });
    }
  }

  /**
   * `POST /webhooks/payments`, open at the gateway: the payment service signs each event with
   * HMAC-SHA256 (`X-Signature`), which the function checks on the raw body before reading
   * it, and refuses (401, counted, alarmed) otherwise. It stays behind the stage's throttling
   * and the WAF web ACL like every method. No gateway body model: the function reads the body
   * only once the signature holds, and a size limit is the function's too (64 KiB; REST APIs
   * have none below their 10 MB).
   */
  private addWebhookRoute(api: apigateway.RestApi, integration: apigateway.Integration): void {
    const method = api.root
      .addResource('webhooks')
      .addResource('payments')
      .addMethod('POST', integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
        apiKeyRequired: false,
      });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The payment service cannot sign SigV4 requests or hold our API key: each webhook is ' +
        'authenticated by its HMAC-SHA256 signature over the raw body and a timestamp within ' +
        '300 s, checked by the function before anything is parsed or written (401 otherwise).',
    });
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The caller is the payment service, not a signed-in user: no Cognito user pool can ' +
        'stand for it; its HMAC signature, checked by the function, is the authentication.',
    });
  }

  /** The ARN a caller's IAM policy allows `execute-api:Invoke` on: every method of the stage. */
  get invokeArn(): string {
    return this.restApi.arnForExecuteApi('*', '/*', this.restApi.deploymentStage.stageName);
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

  /**
   * A regional web ACL, allow by default, whose rules block:
   * - any client IP over `limit` requests in 5 minutes;
   * - `AWSManagedRulesAmazonIpReputationList` (25 WCU): IPs Amazon threat intelligence sees
   *   sending bots, reconnaissance or DDoS; a shop's backend is not among them;
   * - `AWSManagedRulesKnownBadInputsRuleSet` (200 WCU): exploit payloads (Log4j JNDI lookups,
   *   Java deserialization, `localhost` host headers) that no checkout request carries.
   *
   * Left out on purpose: `AWSManagedRulesCommonRuleSet` blocks bodies over 8 KB
   * (SizeRestrictions_BODY), below the largest valid checkout request (up to 100 items), and
   * requests without a User-Agent (NoUserAgent_HEADER), which server-side HTTP clients may omit;
   * its XSS/LFI/RFI rules guard HTML and file paths this JSON API neither renders nor opens, and
   * the body is already held to a strict JSON Schema by the gateway. The SQL injection set adds
   * nothing over statements that only bind parameters. `AWSManagedRulesAnonymousIpList` would
   * block hosting providers, where shop backends run.
   *
   * Blocked requests are logged (allowed ones are in the access log) with the API key and the
   * SigV4 `Authorization` header redacted; sampled requests are off, as they would show those
   * headers in the console. Metric names start with the stack name: two stacks of the account
   * do not share a WAF metric.
   */
  private addWebAcl(
    api: apigateway.RestApi,
    limit: number,
    removalPolicy: RemovalPolicy,
  ): wafv2.CfnWebACL {
    const stackName = Stack.of(this).stackName;
    const visibility = (name: string) => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: false,
      metricName: `${stackName}-${name}`,
    });
    const managed = (name: string, priority: number) => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
      visibilityConfig: visibility(name),
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('web-acl'),
      rules: [
        {
          name: 'rate-limit-per-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('rate-limit-per-ip'),
        },
        managed('AWSManagedRulesAmazonIpReputationList', 1),
        managed('AWSManagedRulesKnownBadInputsRuleSet', 2),
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: api.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });

    // WAF delivers only to log groups whose name starts with `aws-waf-logs-`, given by an ARN
    // without the `:*` that `logGroupArn` ends with.
    const wafLogs = new logs.LogGroup(this, 'WafLogs', {
      logGroupName: `aws-waf-logs-${stackName}`,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
    });
    new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: acl.attrArn,
      logDestinationConfigs: [
        Stack.of(this).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: wafLogs.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
      redactedFields: [
        { singleHeader: { Name: 'x-api-key' } },
        { singleHeader: { Name: 'authorization' } },
        // A SigV4 request's temporary credentials carry a session token.
        { singleHeader: { Name: 'x-amz-security-token' } },
        // A payment webhook's signature: no secret, but replayable for its 300 s.
        { singleHeader: { Name: WEBHOOK_SIGNATURE_HEADER } },
      ],
      loggingFilter: {
        DefaultBehavior: 'DROP',
        Filters: [
          {
            Behavior: 'KEEP',
            Requirement: 'MEETS_ANY',
            Conditions: [
              { ActionCondition: { Action: 'BLOCK' } },
              { ActionCondition: { Action: 'COUNT' } },
            ],
          },
        ],
      },
    });
    return acl;
  }
}
