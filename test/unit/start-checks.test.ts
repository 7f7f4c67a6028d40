import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { databaseUrlProblem } from '#dev/local/database-url-check.ts';
import { startSettings, takenPortsProblem } from '#dev/local/start-checks.ts';
import { freePort } from '#dev/local/wiremock-process.ts';
import { ConfigError, loadConfig } from '#lib/config.ts';

/** What `npm start` checks before it starts Java or opens the database. */

const SERVICES = {
  PAYMENT_SERVICE_URL: 'http://127.0.0.1:8081',
  INVENTORY_SERVICE_URL: 'http://127.0.0.1:8082',
  ORDER_SERVICE_URL: 'http://127.0.0.1:8083',
};

function failure(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to fail');
}

describe('the configuration', () => {
  it.each(['abc', '70000', '80.5', '-1'])(
    'names APP_PORT and the value %j it was given',
    (value) => {
      const error = failure(() => loadConfig({ ...SERVICES, APP_PORT: value }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        `Invalid configuration: APP_PORT: expected a whole number from 0 to 65535, got "${value}"`,
      );
    },
  );

  it('shows a bad URL without its password', () => {
    const error = failure(() =>
      loadConfig({ ...SERVICES, ORDER_SERVICE_URL: 'ftp://shop:s3cret@orders.internal' }),
    );
    expect(error.message).toContain('ORDER_SERVICE_URL: expected an http(s):// URL, got "ftp://');
    expect(error.message).not.toContain('s3cret');
  });

  it('says which variable is missing without a value', () => {
    const { ORDER_SERVICE_URL: _missing, ...env } = SERVICES;
    expect(failure(() => loadConfig(env)).message).toBe(
      'Invalid configuration: ORDER_SERVICE_URL: required, an http(s):// URL',
    );
  });

  it('checks the start script’s own variables: defaults, free WireMock ports, bad values named', () => {
    expect(startSettings({})).toEqual({
      recoveryIntervalMs: 30_000,
      wireMockPorts: { payment: 8081, inventory: 8082, order: 8083 },
    });
    expect(startSettings({ WIREMOCK_BASE_PORT: '0' }).wireMockPorts).toEqual({
      payment: 0,
      inventory: 0,
      order: 0,
    });
    const error = failure(() =>
      startSettings({ WIREMOCK_BASE_PORT: 'x', RECOVERY_INTERVAL_MS: '' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('RECOVERY_INTERVAL_MS: expected a whole number from 100');
    expect(error.message).toContain('got ""');
    expect(error.message).toContain(
      'WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got "x"',
    );
  });
});

describe('DATABASE_URL', () => {
  it('is refused when it is not a URL, without showing it', async () => {
    const problem = await databaseUrlProblem('postgres://checkout:s3cret@db:5432:x/checkout');
    expect(problem).toContain('DATABASE_URL is not a valid URL');
    expect(problem).not.toContain('s3cret');
  });

  it('is refused when it is not a PostgreSQL URL', async () => {
    expect(await databaseUrlProblem('mysql://checkout:s3cret@db/checkout')).toBe(
      'DATABASE_URL must be a postgres:// or postgresql:// URL, not mysql://...',
    );
  });

  it('is refused when nothing answers there, naming the host but never the password', async () => {
    const port = await freePort();
    const problem = await databaseUrlProblem(
      `postgresql+asyncpg://checkout:s3cret@127.0.0.1:${port}/checkout`,
    );
    expect(problem).toBe(
      `DATABASE_URL: cannot use the database at 127.0.0.1:${port}: connection refused (is PostgreSQL running there?)`,
    );
  });

  it('is refused when its host does not resolve', async () => {
    const problem = await databaseUrlProblem('postgres://checkout:s3cret@db.invalid/checkout');
    expect(problem).toContain('DATABASE_URL: cannot use the database at db.invalid:5432');
    expect(problem).not.toContain('s3cret');
  });
});

describe('the ports', () => {
  it('pass when free, and name the process holding a taken one', async () => {
    const free = await freePort();
    expect(await takenPortsProblem([{ port: free, host: '127.0.0.1', purpose: 'APP_PORT' }])).toBe(
      undefined,
    );

    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const problem = await takenPortsProblem([
        { port, host: '127.0.0.1', purpose: 'payment WireMock' },
        { port: 0, host: '127.0.0.1', purpose: 'a free one' },
      ]);
      expect(problem).toContain('npm start cannot start: ports it needs are taken.');
      expect(problem).toContain(`port ${port} (payment WireMock): pid ${process.pid}, `);
      expect(problem).toContain(`Stop them (kill ${process.pid})`);
      expect(problem).not.toContain('a free one');
    } finally {
      holder.close();
    }
  });
});
