import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { tracer } from '#lib/observability/index.ts';

/** How long a secret read is reused: a rotated secret is picked up within this time. */
const MAX_AGE_MS = 5 * 60_000;

export type SecretReader = (secretArn: string) => Promise<string>;

/**
 * Reads a Secrets Manager secret's string, kept for five minutes per secret. The SDK client
 * is loaded on the first read, so a function that uses no secret never pays for it.
 */
export function createSecretReader(options: { client?: SecretsManagerClient } = {}): SecretReader {
  const cache = new Map<string, { value: Promise<string>; readAt: number }>();
  let client: SecretsManagerClient | undefined = options.client;
  return async (secretArn) => {
    const cached = cache.get(secretArn);
    if (cached && Date.now() - cached.readAt < MAX_AGE_MS) return cached.value;
    const value = (async () => {
      const sdk = await import('@aws-sdk/client-secrets-manager');
      client ??= tracer.captureAWSv3Client(new sdk.SecretsManagerClient({}));
      const { SecretString } = await client.send(
        new sdk.GetSecretValueCommand({ SecretId: secretArn }),
      );
      if (!SecretString) throw new Error(`secret ${secretArn} has no string value`);
      return SecretString;
    })();
    cache.set(secretArn, { value, readAt: Date.now() });
    // A failed read is not kept: the next call asks again.
    value.catch(() => cache.delete(secretArn));
    return value;
  };
}
