import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSecretReader } from '#lib/clients/secrets.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:payment-api-key-AbCdEf';
const secrets = mockClient(SecretsManagerClient);

afterEach(() => {
  secrets.reset();
  vi.useRealTimers();
});

describe('createSecretReader', () => {
  it('reads a secret once and keeps it for five minutes, then reads it again (rotation)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    secrets
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolvesOnce({ SecretString: 'first' })
      .resolvesOnce({ SecretString: 'rotated' });
    const read = createSecretReader();

    expect([await read(ARN), await read(ARN)]).toEqual(['first', 'first']);
    vi.advanceTimersByTime(5 * 60_000);
    expect(await read(ARN)).toBe('rotated');
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('does not keep a failed read: the next call asks again', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolvesOnce({ SecretString: 'value' });
    const read = createSecretReader();

    await expect(read(ARN)).rejects.toThrow('throttled');
    expect(await read(ARN)).toBe('value');
  });

  it('refuses a secret without a string value', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(createSecretReader()(ARN)).rejects.toThrow(/no string value/);
  });

  it('forgets a secret on request, so a rotated one is read at once', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolvesOnce({ SecretString: 'old' })
      .resolvesOnce({ SecretString: 'rotated' });
    const read = createSecretReader();

    expect(await read(ARN)).toBe('old');
    read.forget(ARN);
    expect(await read(ARN)).toBe('rotated');
  });
});
