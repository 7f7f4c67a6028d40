import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { callerOf } from '#lib/http/caller.ts';

const event = (identity: Record<string, string | null>) =>
  ({ requestContext: { identity } }) as unknown as APIGatewayProxyEvent;

describe('callerOf: whose idempotency keys a request uses', () => {
  it('names an IAM user by its ARN', () => {
    const arn = 'arn:aws:iam::123456789012:user/shop-backend';
    expect(callerOf(event({ userArn: arn, apiKeyId: 'k1' }))).toBe(`iam:${arn}`);
  });

  it('names an assumed role without its session, so new sessions stay one caller', () => {
    const role = 'arn:aws:sts::123456789012:assumed-role/ShopBackend';
    expect(callerOf(event({ userArn: `${role}/i-0abc123` }))).toBe(`iam:${role}`);
    expect(callerOf(event({ userArn: `${role}/other-session` }))).toBe(`iam:${role}`);
  });

  it('names an API key by its id when the request is not signed', () => {
    expect(callerOf(event({ userArn: null, apiKeyId: 'a1b2c3' }))).toBe('api-key:a1b2c3');
  });

  it('makes every request with neither one anonymous caller', () => {
    expect(callerOf(event({ userArn: null, apiKeyId: null }))).toBe('anonymous');
    expect(callerOf({} as APIGatewayProxyEvent)).toBe('anonymous');
  });
});
