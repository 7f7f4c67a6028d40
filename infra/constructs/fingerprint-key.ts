import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface FingerprintKeyProps {
  /** Kept when the stack is deleted or the secret replaced (production). */
  readonly production: boolean;
}

/**
 * The key a CPF/CNPJ (`customer_document`) enters a request's idempotency fingerprint with
 * (HMAC, `lib/app.ts` `fingerprintKey`): a generated Secrets Manager secret whose string is the
 * key, under the default `aws/secretsmanager` key like the database's two secrets. Without it
 * the checkout function on the Data API cannot fingerprint a request that carries a document.
 *
 * Unnamed, so a deleted secret's name (held for its recovery window) never blocks a new deploy.
 * In production it is kept on deletion and replacement, but not when its own creation rolls
 * back (`RETAIN_ON_UPDATE_OR_DELETE`): a failed first deploy leaves nothing behind and can be
 * run again. It never rotates by itself: a new key makes every stored fingerprint of a request
 * with a document differ, so a same-key retry within `IDEMPOTENCY_TTL_HOURS` would be refused
 * (422 `idempotency_key_mismatch`). It is rotated by hand (docs/operations.md).
 */
export class FingerprintKey extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: FingerprintKeyProps) {
    super(scope, id);
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description:
        'HMAC key of the CPF/CNPJ in checkout idempotency fingerprints; read by the checkout ' +
        'function only; rotate by hand (docs/operations.md)',
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      removalPolicy: props.production
        ? RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
        : RemovalPolicy.DESTROY,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it changes the fingerprint of every request that carries a CPF/CNPJ: a ' +
        'same-key retry recorded under the old key would be refused for up to ' +
        'IDEMPOTENCY_TTL_HOURS. It is rotated by hand only, as docs/operations.md describes.',
    });
  }

  /**
   * For the function that fingerprints requests (checkout): `FINGERPRINT_SECRET_ARN` and
   * `secretsmanager:GetSecretValue` on this secret, nothing more.
   */
  allowFingerprinting(fn: lambda.Function): void {
    fn.addEnvironment('FINGERPRINT_SECRET_ARN', this.secret.secretArn);
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
  }
}
