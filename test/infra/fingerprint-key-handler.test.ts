import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';

/*
 * The fingerprint's HMAC secret on AWS: the checkout function on the Data API has no local
 * stand-in, so without FINGERPRINT_SECRET_ARN every POST with a `customer_document` and an
 * `Idempotency-Key` (mandatory on prod) would fail while fingerprinting (a 500, found by an
 * adversarial review). This runs the real handler with the environment the stack synthesizes
 * for it, Secrets Manager and the Data API mocked.
 */
describe('the AWS deployment has a fingerprint secret', () => {
  it("a keyed checkout with a CPF on the stack's environment is not a 500", async () => {
    // The checkout function's environment as the stack synthesizes it (target aws).
    const { synth, logicalIdOf } = await import('./synth.ts');
    const s = synth({});
    const fn = s.stack.functions.checkout;
    const variables = s.template.toJSON().Resources[logicalIdOf(s.stack, fn.functionArn)].Properties
      .Environment.Variables as Record<string, unknown>;
    const { CLUSTER, SECRET } = await import('../unit/rds-data-fixtures.ts');
    const KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:fingerprint-AbCdEf';
    // The values are CloudFormation references; what matters is which variables it gets.
    Object.assign(process.env, {
      DB_CLUSTER_ARN: CLUSTER,
      DB_SECRET_ARN: SECRET,
      PAYMENT_SERVICE_URL: 'http://127.0.0.1:9',
      INVENTORY_SERVICE_URL: 'http://127.0.0.1:9',
      ORDER_SERVICE_URL: 'http://127.0.0.1:9',
      REQUIRE_IDEMPOTENCY_KEY: 'true',
      AWS_REGION: 'eu-west-1',
      ...('FINGERPRINT_SECRET_ARN' in variables && { FINGERPRINT_SECRET_ARN: KEY_ARN }),
      ...('FINGERPRINT_SECRET' in variables && { FINGERPRINT_SECRET: 'a-deployed-key' }),
    });
    const { GetSecretValueCommand, SecretsManagerClient } = await import(
      '@aws-sdk/client-secrets-manager'
    );
    const { mockClient } = await import('aws-sdk-client-mock');
    const secrets = mockClient(SecretsManagerClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(64) });
    const rds = await import('@aws-sdk/client-rds-data');
    const data = mockClient(rds.RDSDataClient);
    data.on(rds.ExecuteStatementCommand).resolves({ formattedRecords: '[]' });
    const { handler } = await import('#functions/checkout/handler.ts');
    const { closeApp } = await import('#lib/app.ts');
    const body = {
      payment_method: { type: 'card_token', token: 'tok_visa' },
      customer_email: 'customer@example.com',
      customer_document: '529.982.247-25',
      shipping_address: {
        street: 'Rua das Flores',
        number: '123',
        city: 'São Paulo',
        state: 'SP',
        zip_code: '01234-567',
      },
      items: [{ product_id: 'prod_001', quantity: 1 }],
    };
    const event = {
      resource: '/checkout/process',
      path: '/checkout/process',
      httpMethod: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'order-42' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      requestContext: { identity: { apiKeyId: 'key-1' } },
      body: JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEvent;
    const context = {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => 25_000,
    } as unknown as Context;
    try {
      const response = (await handler(event, context)) as APIGatewayProxyResult;
      // With a key it gets as far as the catalog (nothing listens: 503 pricing_unavailable).
      expect(response.statusCode).not.toBe(500);
    } finally {
      await closeApp();
      secrets.restore();
      data.restore();
    }
  }, 120_000);
});
