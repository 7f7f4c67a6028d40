import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** How long a secret read is reused: a rotated secret is picked up within this time. */
const MAX_AGE_MS = 5 * 60_000;

export interface SecretReader {
  (secretArn: string): Promise<string>;
  /** Drops what was read for `secretArn`: the next call reads it again (after a rejection). */
  forget(secretArn: string): void;
}

/** A read that takes longer is given up: a request must not wait on it. */
const READ_TIMEOUT_MS = 2_000;

/**
 * Reads a Secrets Manager secret's string, kept for five minutes per secret. The SDK client
 * is loaded on the first read, so a function that uses no secret never pays for it.
 */
export function createSecretReader(options: { client?: SecretsManagerClient } = {}): SecretReader {
  const cache = new Map<string, { value: Promise<string>; readAt: number }>();
  let client: SecretsManagerClient | undefined = options.client;
  const read = async (secretArn: string) => {
    const cached = cache.get(secretArn);
    if (cached && Date.now() - cached.readAt < MAX_AGE_MS) return cached.value;
    const value = (async () => {
      const sdk = await import('@aws-sdk/client-secrets-manager');
      client ??= new sdk.SecretsManagerClient({});
      const { SecretString } = await client.send(
        new sdk.GetSecretValueCommand({ SecretId: secretArn }),
        { abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS) },
      );
      if (!SecretString) throw new Error(`secret ${secretArn} has no string value`);
      return SecretString;
    })();
    cache.set(secretArn, { value, readAt: Date.now() });
    // A failed read is not kept: the next call asks again.
    value.catch(() => cache.delete(secretArn));
    return value;
  };
  return Object.assign(read, { forget: (secretArn: string) => void cache.delete(secretArn) });
}
