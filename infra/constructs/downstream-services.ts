import { Aws, CfnCondition, CfnParameter, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Base URLs of the downstream services (design §3). */
export interface ServiceUrls {
  readonly payment: string;
  readonly inventory: string;
  readonly order: string;
}

export interface DownstreamServicesProps {
  /**
   * Fixed URLs, for the localstack target's WireMocks. @default CloudFormation parameters
   * `PaymentServiceUrl`, `InventoryServiceUrl` and `OrderServiceUrl`, without defaults
   */
  readonly urls?: ServiceUrls;
}

/** The CloudFormation parameter behind each service URL: `cdk deploy --parameters <name>=…`. */
export const SERVICE_URL_PARAMETERS = {
  payment: 'PaymentServiceUrl',
  inventory: 'InventoryServiceUrl',
  order: 'OrderServiceUrl',
} as const satisfies Record<keyof ServiceUrls, string>;

export const PAYMENT_API_KEY_PARAMETER = 'PaymentApiKeySecretArn';
export const HAS_PAYMENT_API_KEY_CONDITION = 'HasPaymentApiKey';

/**
 * An https URL: a host, an optional port and path, nothing else. CloudFormation matches the
 * whole value (Java regular expressions), so no anchors are needed, and none would hurt.
 */
const HTTPS_URL_PATTERN = '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\\s]*)?$';

/**
 * A complete secret ARN (with the 6-character suffix Secrets Manager adds): IAM matches the ARN
 * it is given, and a partial ARN would match no secret.
 */
export const COMPLETE_SECRET_ARN_PATTERN =
  '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$';

/** A complete secret ARN, or nothing (an optional secret). */
const SECRET_ARN_PATTERN = `^$|${COMPLETE_SECRET_ARN_PATTERN}`;

/**
 * Where the downstream services are and how the payment service is called, settled at deploy
 * time rather than at synth time: `cdk synth` needs no setting and runs offline, while a deploy
 * without the three URLs fails before creating anything (the parameters have no defaults), so
 * no stack can send card data to a placeholder host.
 *
 * The payment API key is optional: `PaymentApiKeySecretArn` names a Secrets Manager secret whose
 * value the functions that call the payment service send as `x-api-key`. Empty (the default),
 * those functions get no variable and no permission; set, they get `PAYMENT_API_KEY_SECRET_ARN`
 * and `secretsmanager:GetSecretValue` on that one secret, both under one CloudFormation
 * condition, so switching it on or off is a parameter change, not a new synth.
 */
export class DownstreamServices extends Construct {
  /** Literal URLs, or references to the parameters. */
  readonly urls: ServiceUrls;
  readonly paymentApiKeySecretArn: CfnParameter;
  readonly hasPaymentApiKey: CfnCondition;
  private readonly paymentApiKeyReaders: iam.Policy;

  constructor(scope: Construct, id: string, props: DownstreamServicesProps = {}) {
    super(scope, id);
    this.urls = props.urls ?? {
      payment: this.urlParameter(SERVICE_URL_PARAMETERS.payment, 'payment'),
      inventory: this.urlParameter(SERVICE_URL_PARAMETERS.inventory, 'inventory'),
      order: this.urlParameter(SERVICE_URL_PARAMETERS.order, 'order'),
    };

    this.paymentApiKeySecretArn = new CfnParameter(this, PAYMENT_API_KEY_PARAMETER, {
      type: 'String',
      default: '',
      allowedPattern: SECRET_ARN_PATTERN,
      constraintDescription: 'empty, or the complete ARN of a Secrets Manager secret',
      description:
        'Optional: complete ARN of the secret whose value is sent to the payment service as ' +
        'x-api-key (empty: no key is sent)',
    });
    this.paymentApiKeySecretArn.overrideLogicalId(PAYMENT_API_KEY_PARAMETER);
    // CloudFormation's validation reports template parameters on the stack, not the parameter.
    Validations.of(Stack.of(this)).acknowledge({
      id: 'CloudFormation-Validate::W2509',
      reason:
        'The parameter holds the ARN of the secret, not the key: the ARN is no secret, and ' +
        'NoEcho would hide from `describe-stacks` which secret the functions read.',
    });
    this.hasPaymentApiKey = new CfnCondition(this, HAS_PAYMENT_API_KEY_CONDITION, {
      expression: Fn.conditionNot(
        Fn.conditionEquals(this.paymentApiKeySecretArn.valueAsString, ''),
      ),
    });
    this.hasPaymentApiKey.overrideLogicalId(HAS_PAYMENT_API_KEY_CONDITION);

    // A policy of its own, so that the condition can leave it out whole: the functions' default
    // policies are unconditional, and a statement without its resource is not valid IAM. A
    // secret under a customer managed key also needs that key to let these roles decrypt.
    this.paymentApiKeyReaders = new iam.Policy(this, 'PaymentApiKeyReaders', {
      statements: [
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.paymentApiKeySecretArn.valueAsString],
        }),
      ],
    });
    (this.paymentApiKeyReaders.node.defaultChild as iam.CfnPolicy).cfnOptions.condition =
      this.hasPaymentApiKey;
  }

  /** `PAYMENT_SERVICE_URL`, `INVENTORY_SERVICE_URL`, `ORDER_SERVICE_URL`. */
  get environment(): Record<string, string> {
    return {
      PAYMENT_SERVICE_URL: this.urls.payment,
      INVENTORY_SERVICE_URL: this.urls.inventory,
      ORDER_SERVICE_URL: this.urls.order,
    };
  }

  /**
   * For a function that calls the payment service: `PAYMENT_API_KEY_SECRET_ARN` and read access
   * to that secret when the parameter is set; no variable at all (not an empty one) when not.
   */
  allowPaymentApiKey(fn: lambda.Function): void {
    if (!fn.role) throw new Error(`${fn.node.path} has no role`);
    fn.addEnvironment(
      'PAYMENT_API_KEY_SECRET_ARN',
      Fn.conditionIf(
        this.hasPaymentApiKey.logicalId,
        this.paymentApiKeySecretArn.valueAsString,
        Aws.NO_VALUE,
      ).toString(),
    );
    this.paymentApiKeyReaders.attachToRole(fn.role);
  }

  /** A required https URL, with the fixed logical id `--parameters` names it by. */
  private urlParameter(name: string, service: keyof ServiceUrls): string {
    const parameter = new CfnParameter(this, name, {
      type: 'String',
      allowedPattern: HTTPS_URL_PATTERN,
      constraintDescription: 'an https URL (https://host[:port][/path])',
      description: `Base URL of the ${service} service (required at deploy; no default)`,
    });
    parameter.overrideLogicalId(name);
    return parameter.valueAsString;
  }
}
