import { CfnParameter } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { COMPLETE_SECRET_ARN_PATTERN } from './downstream-services.ts';

export const PAYMENT_WEBHOOK_SECRET_PARAMETER = 'PaymentWebhookSecretArn';

/**
 * The secret the payment service signs its webhooks with (`POST /webhooks/payments`), which the
 * payment service gives us: a Secrets Manager secret the operator creates with its value, named
 * at deploy time by its complete ARN (`--parameters PaymentWebhookSecretArn=…`), like the
 * payment API key's, rather than generated here (the service, not this stack, chooses it).
 *
 * Required, without a default, as the service URLs are: `cdk synth` needs nothing and runs
 * offline, while a deploy without it fails before creating anything. A stack whose webhook
 * endpoint has no secret would answer every payment with a 503 until someone noticed, and a
 * placeholder would let anyone who knows it post a payment. The `localstack` target has none:
 * its functions run the `postgres` driver, where `lib/config.ts` uses its local development
 * secret (the one `npm run pay` signs with).
 */
export class PaymentWebhookSecret extends Construct {
  readonly secretArn: CfnParameter;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.secretArn = new CfnParameter(this, PAYMENT_WEBHOOK_SECRET_PARAMETER, {
      type: 'String',
      allowedPattern: COMPLETE_SECRET_ARN_PATTERN,
      constraintDescription: 'the complete ARN of a Secrets Manager secret (with its suffix)',
      description:
        "Complete ARN of the secret holding the payment service's webhook signing secret " +
        '(required at deploy; no default)',
    });
    this.secretArn.overrideLogicalId(PAYMENT_WEBHOOK_SECRET_PARAMETER);
  }

  /**
   * For the webhook function alone: `PAYMENT_WEBHOOK_SECRET_ARN` and
   * `secretsmanager:GetSecretValue` on that one secret. A secret under a customer managed KMS
   * key also needs that key to let this role decrypt.
   */
  allowVerifying(fn: lambda.Function): void {
    fn.addEnvironment('PAYMENT_WEBHOOK_SECRET_ARN', this.secretArn.valueAsString);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secretArn.valueAsString],
    });
  }
}
