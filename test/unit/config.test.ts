import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '#lib/config.ts';

/** The least environment that loads: the three service URLs. */
const BASE_ENV = {
  PAYMENT_SERVICE_URL: 'http://localhost:8081',
  INVENTORY_SERVICE_URL: 'http://localhost:8082',
  ORDER_SERVICE_URL: 'http://localhost:8083',
} as const;

const withEnv = (extra: Record<string, string | undefined>) => ({ ...BASE_ENV, ...extra });

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('fails naming PAYMENT_SERVICE_URL when it is missing', () => {
    const { PAYMENT_SERVICE_URL: _missing, ...env } = BASE_ENV;
    const error = configError(env);
    expect(error.name).toBe('ConfigError');
    expect(error.message).toContain('PAYMENT_SERVICE_URL');
    expect(error.message).not.toContain('INVENTORY_SERVICE_URL');
  });

  it('names every missing variable at once', () => {
    const error = configError({});
    for (const name of ['PAYMENT_SERVICE_URL', 'INVENTORY_SERVICE_URL', 'ORDER_SERVICE_URL']) {
      expect(error.message).toContain(name);
    }
  });

  it.each(['not a url', 'ftp://payments.internal'])(
    'fails naming ORDER_SERVICE_URL when it is %j',
    (value) => {
      expect(configError(withEnv({ ORDER_SERVICE_URL: value })).message).toContain(
        'ORDER_SERVICE_URL',
      );
    },
  );

  it.each(['abc', '-1', '0', '1.5'])('fails naming PAYMENT_TIMEOUT_MS when it is %j', (value) => {
    expect(configError(withEnv({ PAYMENT_TIMEOUT_MS: value })).message).toContain(
      'PAYMENT_TIMEOUT_MS',
    );
  });

  it.each(['', ' ', 'abc', '99999', '-1'])('fails naming APP_PORT and the value %j', (value) => {
    expect(configError(withEnv({ APP_PORT: value })).message).toContain(
      `APP_PORT: expected a whole number from 0 to 65535, got ${JSON.stringify(value)}`,
    );
  });

  it('fails naming HTTP_MAX_RETRIES when it is negative', () => {
    expect(configError(withEnv({ HTTP_MAX_RETRIES: '-1' })).message).toContain('HTTP_MAX_RETRIES');
  });

  describe('LOG_LEVEL', () => {
    it.each(['verbose', 'INFORMATION', '', ' INFO', 'warning'])(
      'stops the start at %j, listing the levels Powertools knows',
      (value) => {
        expect(configError(withEnv({ LOG_LEVEL: value })).message).toContain(
          `LOG_LEVEL: expected one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT (any case), got ${JSON.stringify(value)}`,
        );
      },
    );

    it.each(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT', 'debug', 'Warn'])(
      'takes %j',
      (value) => {
        expect(() => loadConfig(withEnv({ LOG_LEVEL: value }))).not.toThrow();
      },
    );

    it('is optional (INFO)', () => {
      expect(() => loadConfig(withEnv({ LOG_LEVEL: undefined }))).not.toThrow();
    });
  });

  it('fails naming REQUIRE_IDEMPOTENCY_KEY when it is not a boolean', () => {
    expect(configError(withEnv({ REQUIRE_IDEMPOTENCY_KEY: 'yes' })).message).toContain(
      'REQUIRE_IDEMPOTENCY_KEY',
    );
  });

  describe('RECOVERY_SETTLE_DELAY_MS', () => {
    const WHY =
      'a request still in flight when a lease ends could land after recovery decided it never happened';

    it.each(['0', '1', '9999'])(
      'is refused at %j, under the longest per-try timeout (PAYMENT_TIMEOUT_MS, 10 s by default), saying why',
      (value) => {
        const { message } = configError(withEnv({ RECOVERY_SETTLE_DELAY_MS: value }));
        expect(message).toContain(
          `RECOVERY_SETTLE_DELAY_MS: must be at least PAYMENT_TIMEOUT_MS (10000), the longest per-try timeout, got "${value}"`,
        );
        expect(message).toContain(WHY);
      },
    );

    it.each([
      ['INVENTORY_TIMEOUT_MS', { INVENTORY_TIMEOUT_MS: '30000' }],
      ['ORDER_TIMEOUT_MS', { ORDER_TIMEOUT_MS: '30000', PAYMENT_TIMEOUT_MS: '2000' }],
    ])('is measured against the longest of the three timeouts, here %s', (longest, timeouts) => {
      const { message } = configError(withEnv({ ...timeouts, RECOVERY_SETTLE_DELAY_MS: '20000' }));
      expect(message).toContain(`must be at least ${longest} (30000)`);
    });

    it('refuses its default when a timeout is set above it, naming both', () => {
      const { message } = configError(withEnv({ PAYMENT_TIMEOUT_MS: '90000' }));
      expect(message).toContain(
        'RECOVERY_SETTLE_DELAY_MS: must be at least PAYMENT_TIMEOUT_MS (90000), the longest per-try timeout, got the default 60000',
      );
    });

    it('is accepted from the longest per-try timeout up, 60 s by default', () => {
      expect(loadConfig(BASE_ENV).recovery.settleDelayMs).toBe(60_000);
      const equal = withEnv({ ORDER_TIMEOUT_MS: '12000', RECOVERY_SETTLE_DELAY_MS: '12000' });
      expect(loadConfig(equal).recovery.settleDelayMs).toBe(12_000);
      const short = withEnv({
        PAYMENT_TIMEOUT_MS: '1000',
        INVENTORY_TIMEOUT_MS: '1000',
        ORDER_TIMEOUT_MS: '1000',
        RECOVERY_SETTLE_DELAY_MS: '1000',
      });
      expect(loadConfig(short).recovery.settleDelayMs).toBe(1_000);
    });
  });

  it('applies the documented defaults', () => {
    const config = loadConfig(BASE_ENV);
    expect(config.payment.timeoutMs).toBe(10_000);
    expect(config.inventory.timeoutMs).toBe(5_000);
    expect(config.order.timeoutMs).toBe(5_000);
    expect(config.retry).toEqual({ maxRetries: 2, baseDelayMs: 100, maxDelayMs: 2_000 });
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(8005);
    expect(config.leaseMs).toBe(60_000);
    expect(config.idempotencyTtlHours).toBe(24);
    expect(config.requireIdempotencyKey).toBe(false);
  });

  it('reads numbers and flags from their strings', () => {
    const config = loadConfig(
      withEnv({
        PAYMENT_TIMEOUT_MS: '1500',
        HTTP_MAX_RETRIES: '0',
        APP_PORT: '9000',
        REQUIRE_IDEMPOTENCY_KEY: 'true',
      }),
    );
    expect(config.payment.timeoutMs).toBe(1_500);
    expect(config.retry.maxRetries).toBe(0);
    expect(config.port).toBe(9_000);
    expect(config.requireIdempotencyKey).toBe(true);
  });

  it('prices from the catalog by default, at the inventory service’s URL, 2 s a try', () => {
    expect(loadConfig(BASE_ENV).pricing).toEqual({
      source: 'catalog',
      catalog: { baseUrl: 'http://localhost:8082', timeoutMs: 2_000 },
    });
  });

  it('takes PRICING=caller, CATALOG_SERVICE_URL and CATALOG_TIMEOUT_MS', () => {
    const config = loadConfig(
      withEnv({
        PRICING: 'caller',
        CATALOG_SERVICE_URL: 'https://catalog.example.com/',
        CATALOG_TIMEOUT_MS: '750',
      }),
    );
    expect(config.pricing).toEqual({
      source: 'caller',
      catalog: { baseUrl: 'https://catalog.example.com', timeoutMs: 750 },
    });
  });

  it('fails naming PRICING when it is neither catalog nor caller', () => {
    expect(configError(withEnv({ PRICING: 'request' })).message).toContain(
      'PRICING: expected catalog or caller',
    );
  });

  it('trims trailing slashes from the service URLs', () => {
    const config = loadConfig({
      PAYMENT_SERVICE_URL: 'http://localhost:8081/',
      INVENTORY_SERVICE_URL: 'https://inventory.example.com/api//',
      ORDER_SERVICE_URL: 'http://localhost:8083',
    });
    expect(config.payment.baseUrl).toBe('http://localhost:8081');
    expect(config.inventory.baseUrl).toBe('https://inventory.example.com/api');
    expect(config.order.baseUrl).toBe('http://localhost:8083');
  });

  describe('database driver', () => {
    it('is the embedded PGlite when nothing else is set', () => {
      expect(loadConfig(BASE_ENV).database).toEqual({ driver: 'pglite', dataDir: 'memory://' });
    });

    it('is PGlite on the given data directory', () => {
      expect(loadConfig(withEnv({ PGLITE_DATA_DIR: './.data/pglite' })).database).toEqual({
        driver: 'pglite',
        dataDir: './.data/pglite',
      });
    });

    it('is postgres when DATABASE_URL is set', () => {
      const url = 'postgres://app:secret@localhost:5432/checkout';
      expect(loadConfig(withEnv({ DATABASE_URL: url })).database).toEqual({
        driver: 'postgres',
        url,
      });
    });

    it('is the RDS Data API when DB_CLUSTER_ARN and DB_SECRET_ARN are set, even with DATABASE_URL', () => {
      const clusterArn = 'arn:aws:rds:us-east-1:000000000000:cluster:checkout';
      const secretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:db';
      const config = loadConfig(
        withEnv({
          DB_CLUSTER_ARN: clusterArn,
          DB_SECRET_ARN: secretArn,
          DATABASE_URL: 'postgres://localhost/x',
        }),
      );
      expect(config.database).toEqual({
        driver: 'rds-data',
        clusterArn,
        secretArn,
        database: 'checkout',
        resumeBudgetMs: 20_000,
      });
    });

    it('waits DB_RESUME_BUDGET_MS for a paused cluster (minutes for migrate)', () => {
      const config = loadConfig(
        withEnv({ DB_CLUSTER_ARN: 'arn:c', DB_SECRET_ARN: 'arn:s', DB_RESUME_BUDGET_MS: '240000' }),
      );
      expect(config.database).toMatchObject({ driver: 'rds-data', resumeBudgetMs: 240_000 });
    });

    it('fails naming DB_SECRET_ARN when the cluster is set without it', () => {
      const error = configError(
        withEnv({ DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:checkout' }),
      );
      expect(error.message).toContain('DB_SECRET_ARN');
    });
  });
});
