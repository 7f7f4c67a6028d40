import type { APIGatewayProxyEvent } from 'aws-lambda';

/** Every request that carries no identity, as one caller. */
export const ANONYMOUS_CALLER = 'anonymous';

/**
 * Who is calling, as API Gateway vouches for it: the IAM principal that signed the request
 * (an assumed role without its session name, so a shop's retries from a new session stay one
 * caller), else the id of the API key it sent, else one anonymous caller. Idempotency keys are
 * scoped by it, and a checkout is recorded with it: only its caller reads it back.
 */
export function callerOf(event: APIGatewayProxyEvent): string {
  const { userArn, apiKeyId } = event.requestContext?.identity ?? {};
  if (userArn) return `iam:${userArn.replace(ASSUMED_ROLE_SESSION, '$1')}`;
  if (apiKeyId) return `api-key:${apiKeyId}`;
  return ANONYMOUS_CALLER;
}

/** `arn:aws:sts::<account>:assumed-role/<role>/<session>`: everything up to the session. */
const ASSUMED_ROLE_SESSION = /^(arn:[\w-]+:sts::\d+:assumed-role\/[^/]+)\/.+$/;
