import * as z from 'zod/mini';
import {
  ASYNC_PAYMENT_DEFAULTS as ASYNC,
  type AsyncPaymentSettings,
  type CardFlow,
} from './checkout/checkout.ts';
import type { MinorUnits } from './money.ts';

/** An env string as an integer within bounds, or the default when the variable is unset. */
const integer = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) => {
  // One message for every way it can be wrong: zod's own says "received NaN" for `abc`.
  const error =
    max === Number.MAX_SAFE_INTEGER
      ? `expected a whole number of at least ${min}`
      : `expected a whole number from ${min} to ${max}`;
  // Digits first: coercing alone would read an empty value as 0.
  return z._default(
    z.pipe(
      z.string().check(z.regex(/^\s*-?\d+\s*$/, { error })),
      z.coerce.number<string>().check(z.minimum(min, { error }), z.maximum(max, { error })),
    ),
    fallback,
  );
};
const positiveInt = (fallback: number) => integer(fallback, 1);
const nonNegativeInt = (fallback: number) => integer(fallback, 0);
const nonEmpty = z.string().check(z.minLength(1, { error: 'must not be empty when set' }));
const text = (fallback: string) => z._default(nonEmpty, fallback);
const optionalText = z.optional(nonEmpty);
const httpUrl = z.url({
  protocol: /^https?$/,
  error: (issue) =>
    issue.input === undefined ? 'required, an http(s):// URL' : 'expected an http(s):// URL',
});
const flag = z._default(
  z.enum(['true', 'false', '1', '0'], { error: 'expected true, false, 1 or 0' }),
  'false',
);

/** Powertools' log levels; it reads `LOG_LEVEL` in any case. */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'];
const logLevel = z.optional(
  z.string().check(
    z.refine((value) => LOG_LEVELS.includes(value.toUpperCase()), {
      error: `expected one of ${LOG_LEVELS.join(', ')} (any case)`,
    }),
  ),
);

const envSchema = z.object({
  DATABASE_URL: optionalText,
  DB_CLUSTER_ARN: optionalText,
  DB_SECRET_ARN: optionalText,
  DB_NAME: text('checkout'),
  DB_RESUME_BUDGET_MS: positiveInt(20_000),
  PGLITE_DATA_DIR: text('memory://'),
  PAYMENT_SERVICE_URL: httpUrl,
  INVENTORY_SERVICE_URL: httpUrl,
  ORDER_SERVICE_URL: httpUrl,
  CATALOG_SERVICE_URL: z.optional(httpUrl),
  CATALOG_TIMEOUT_MS: positiveInt(2_000),
  PRICING: z._default(
    z.enum(['catalog', 'caller'], { error: 'expected catalog or caller' }),
    'catalog',
  ),
  PAYMENT_CAPTURE: z._default(
    z.enum(['after_order', 'immediate'], { error: 'expected after_order or immediate' }),
    'after_order',
  ),
  ACCEPT_RAW_CARDS: z._default(
    z.enum(['true', 'false', '1', '0'], { error: 'expected true, false, 1 or 0' }),
    'true',
  ),
  MIN_INSTALLMENT_AMOUNT: z._default(
    z.string().check(
      z.regex(/^\d{1,7}(\.\d{1,2})?$/, {
        error: 'expected an amount in BRL such as 5.00 (at most 2 decimals)',
      }),
    ),
    '5.00',
  ),
  FINGERPRINT_SECRET: optionalText,
  FINGERPRINT_SECRET_ARN: optionalText,
  PAYMENT_WEBHOOK_SECRET: optionalText,
  PAYMENT_WEBHOOK_SECRET_ARN: optionalText,
  PIX_EXPIRY_MINUTES: integer(ASYNC.pixExpiryMinutes, 5, 1440),
  BOLETO_DUE_DAYS: integer(ASYNC.boletoDueDays, 1, 30),
  BOLETO_GRACE_DAYS: integer(ASYNC.boletoGraceDays, 0, 30),
  PAYMENT_LATE_WINDOW_DAYS: integer(ASYNC.lateWindowDays, 0, 90),
  PAYMENT_TIMEOUT_MS: positiveInt(10_000),
  PAYMENT_API_KEY_SECRET_ARN: optionalText,
  RUNTIME_DB_SECRET_ARN: optionalText,
  INVENTORY_TIMEOUT_MS: positiveInt(5_000),
  ORDER_TIMEOUT_MS: positiveInt(5_000),
  HTTP_MAX_RETRIES: nonNegativeInt(2),
  HTTP_RETRY_BASE_MS: positiveInt(100),
  HTTP_RETRY_MAX_MS: positiveInt(2_000),
  CHECKOUT_LEASE_MS: positiveInt(60_000),
  IDEMPOTENCY_TTL_HOURS: positiveInt(24),
  REQUIRE_IDEMPOTENCY_KEY: flag,
  RECOVERY_BATCH_SIZE: positiveInt(25),
  RECOVERY_MAX_ATTEMPTS: positiveInt(5),
  RECOVERY_MAX_AGE_HOURS: positiveInt(24),
  RECOVERY_SETTLE_DELAY_MS: nonNegativeInt(60_000),
  RECOVERY_SCHEDULE_GROUP: optionalText,
  RECOVERY_TARGET_ARN: optionalText,
  RECOVERY_SCHEDULER_ROLE_ARN: optionalText,
  APP_HOST: text('127.0.0.1'),
  APP_PORT: integer(8005, 0, 65_535),
  LOG_LEVEL: logLevel,
});

export type DatabaseConfig =
  | {
      driver: 'rds-data';
      clusterArn: string;
      secretArn: string;
      database: string;
      /** How long to wait for a paused cluster to resume (DB_RESUME_BUDGET_MS). */
      resumeBudgetMs: number;
    }
  | { driver: 'postgres'; url: string }
  | { driver: 'pglite'; dataDir: string };

export interface RecoverySchedulerConfig {
  /** The schedule group the one-off schedules are created in. */
  group: string;
  /** The recovery function each schedule invokes. */
  targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it. */
  roleArn: string;
}

export interface ServiceConfig {
  baseUrl: string;
  timeoutMs: number;
  /** A Secrets Manager secret whose string is sent as `x-api-key` (the payment service). */
  apiKeySecretArn?: string;
}

export interface Config {
  database: DatabaseConfig;
  payment: ServiceConfig;
  inventory: ServiceConfig;
  order: ServiceConfig;
  /**
   * How new checkouts pay: `flow` (`PAYMENT_CAPTURE`), whether raw card numbers are taken
   * (`ACCEPT_RAW_CARDS`), the smallest installment in BRL minor units (`MIN_INSTALLMENT_AMOUNT`).
   */
  payments: { flow: CardFlow; acceptRawCards: boolean; minInstallmentCents: MinorUnits };
  /**
   * The secret a CPF/CNPJ is keyed with (HMAC) in a request's fingerprint: `FINGERPRINT_SECRET`,
   * or a Secrets Manager secret (`FINGERPRINT_SECRET_ARN`, on AWS).
   */
  fingerprintKey?: { secret: string } | { secretArn: string };
  /**
   * The secret the payment service signs its webhooks with (`PAYMENT_WEBHOOK_SECRET`, or a
   * Secrets Manager secret, `PAYMENT_WEBHOOK_SECRET_ARN`, on AWS).
   */
  webhookKey?: { secret: string } | { secretArn: string };
  /**
   * Asynchronous payments: a Pix's default lifetime (`PIX_EXPIRY_MINUTES`), a boleto's default
   * days to its due date (`BOLETO_DUE_DAYS`) and the business days it may still be paid after
   * it (`BOLETO_GRACE_DAYS`), and how long after expiry a late payment is still taken
   * (`PAYMENT_LATE_WINDOW_DAYS`).
   */
  asyncPayments: AsyncPaymentSettings;
  /** Where prices come from (`PRICING`): the catalog service, or the caller's own prices. */
  pricing: { source: 'catalog' | 'caller'; catalog: ServiceConfig };
  retry: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
  leaseMs: number;
  idempotencyTtlHours: number;
  requireIdempotencyKey: boolean;
  recovery: { batchSize: number; maxAttempts: number; maxAgeHours: number; settleDelayMs: number };
  /** EventBridge Scheduler one-off schedules that wake recovery (absent: none are made). */
  recoveryScheduler?: RecoverySchedulerConfig;
  /**
   * The runtime database user's secret (`migrate` only): the migration creates that user and
   * lets it read and write the application's tables, nothing more.
   */
  runtimeDbSecretArn?: string;
  host: string;
  port: number;
}

/** Raised when the environment is incomplete or malformed; the message names each variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the configuration from the environment once, failing fast with a message that names
 * every missing or malformed variable. The driver is chosen by what is set: a Data API cluster,
 * then `DATABASE_URL`, else the embedded PGlite.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = i.path.join('.');
      return `${name}: ${i.message}${givenValue(env[name])}`;
    });
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    database: databaseConfig(e),
    payment: {
      baseUrl: trimSlash(e.PAYMENT_SERVICE_URL),
      timeoutMs: e.PAYMENT_TIMEOUT_MS,
      apiKeySecretArn: e.PAYMENT_API_KEY_SECRET_ARN,
    },
    runtimeDbSecretArn: e.RUNTIME_DB_SECRET_ARN,
    inventory: { baseUrl: trimSlash(e.INVENTORY_SERVICE_URL), timeoutMs: e.INVENTORY_TIMEOUT_MS },
    order: { baseUrl: trimSlash(e.ORDER_SERVICE_URL), timeoutMs: e.ORDER_TIMEOUT_MS },
    payments: {
      flow: e.PAYMENT_CAPTURE,
      acceptRawCards: e.ACCEPT_RAW_CARDS === 'true' || e.ACCEPT_RAW_CARDS === '1',
      minInstallmentCents: Math.round(Number(e.MIN_INSTALLMENT_AMOUNT) * 100),
    },
    fingerprintKey: fingerprintKey(e),
    webhookKey: webhookKey(e),
    asyncPayments: {
      pixExpiryMinutes: e.PIX_EXPIRY_MINUTES,
      boletoDueDays: e.BOLETO_DUE_DAYS,
      boletoGraceDays: e.BOLETO_GRACE_DAYS,
      lateWindowDays: e.PAYMENT_LATE_WINDOW_DAYS,
    },
    pricing: {
      source: e.PRICING,
      // The inventory service knows the products, so it is where a catalog is looked for first.
      catalog: {
        baseUrl: trimSlash(e.CATALOG_SERVICE_URL ?? e.INVENTORY_SERVICE_URL),
        timeoutMs: e.CATALOG_TIMEOUT_MS,
      },
    },
    retry: {
      maxRetries: e.HTTP_MAX_RETRIES,
      baseDelayMs: e.HTTP_RETRY_BASE_MS,
      maxDelayMs: e.HTTP_RETRY_MAX_MS,
    },
    leaseMs: e.CHECKOUT_LEASE_MS,
    idempotencyTtlHours: e.IDEMPOTENCY_TTL_HOURS,
    requireIdempotencyKey:
      e.REQUIRE_IDEMPOTENCY_KEY === 'true' || e.REQUIRE_IDEMPOTENCY_KEY === '1',
    recovery: {
      batchSize: e.RECOVERY_BATCH_SIZE,
      maxAttempts: e.RECOVERY_MAX_ATTEMPTS,
      maxAgeHours: e.RECOVERY_MAX_AGE_HOURS,
      settleDelayMs: settleDelay(e, env),
    },
    recoveryScheduler: recoverySchedulerConfig(e),
    host: e.APP_HOST,
    port: e.APP_PORT,
  };
}

/**
 * `RECOVERY_SETTLE_DELAY_MS`, refused under the longest per-try timeout: a try sent just before
 * a lease ends can still reach its service that long after, so recovery (or an operator) asking
 * the service sooner could decide that a request never happened and then see it land (a charge
 * after the checkout was ended `failed` with nothing to refund).
 */
function settleDelay(e: z.infer<typeof envSchema>, env: NodeJS.ProcessEnv): number {
  const timeouts = {
    PAYMENT_TIMEOUT_MS: e.PAYMENT_TIMEOUT_MS,
    INVENTORY_TIMEOUT_MS: e.INVENTORY_TIMEOUT_MS,
    ORDER_TIMEOUT_MS: e.ORDER_TIMEOUT_MS,
  };
  const [longest, longestMs] = Object.entries(timeouts).reduce((a, b) => (b[1] > a[1] ? b : a));
  const delayMs = e.RECOVERY_SETTLE_DELAY_MS;
  if (delayMs >= longestMs) return delayMs;
  throw new ConfigError(
    `Invalid configuration: RECOVERY_SETTLE_DELAY_MS: must be at least ${longest} (${longestMs}), the longest per-try timeout${givenValue(env.RECOVERY_SETTLE_DELAY_MS) || `, got the default ${delayMs}`}: a request still in flight when a lease ends could land after recovery decided it never happened`,
  );
}

function recoverySchedulerConfig(
  e: z.infer<typeof envSchema>,
): RecoverySchedulerConfig | undefined {
  const { RECOVERY_SCHEDULE_GROUP: group, RECOVERY_TARGET_ARN: targetArn } = e;
  const roleArn = e.RECOVERY_SCHEDULER_ROLE_ARN;
  if (!group && !targetArn && !roleArn) return undefined;
  if (!group || !targetArn || !roleArn) {
    throw new ConfigError(
      'Invalid configuration: RECOVERY_SCHEDULE_GROUP, RECOVERY_TARGET_ARN and RECOVERY_SCHEDULER_ROLE_ARN: set all three or none',
    );
  }
  return { group, targetArn, roleArn };
}

/**
 * Where the fingerprint's secret comes from. Locally (the embedded database or a `DATABASE_URL`)
 * a fixed development value stands in when none is set, so a key survives a restart; on AWS
 * (the Data API) there is none unless one is set (a known secret would make the HMAC a plain
 * hash again): the checkout function is given one, the functions that never fingerprint a
 * request need none.
 */
function fingerprintKey(e: z.infer<typeof envSchema>): Config['fingerprintKey'] {
  if (e.FINGERPRINT_SECRET_ARN) return { secretArn: e.FINGERPRINT_SECRET_ARN };
  if (e.FINGERPRINT_SECRET) return { secret: e.FINGERPRINT_SECRET };
  return e.DB_CLUSTER_ARN ? undefined : { secret: LOCAL_FINGERPRINT_SECRET };
}

/** The local stand-in for the fingerprint secret: never used against the Data API. */
const LOCAL_FINGERPRINT_SECRET = 'checkout-commerce-local-development-only';

/**
 * Where the webhook signing secret comes from: like the fingerprint's, a fixed development value
 * locally (`npm run pay` signs with it too), none on AWS unless one is given (a known secret
 * would let anyone post a payment).
 */
function webhookKey(e: z.infer<typeof envSchema>): Config['webhookKey'] {
  if (e.PAYMENT_WEBHOOK_SECRET_ARN) return { secretArn: e.PAYMENT_WEBHOOK_SECRET_ARN };
  if (e.PAYMENT_WEBHOOK_SECRET) return { secret: e.PAYMENT_WEBHOOK_SECRET };
  return e.DB_CLUSTER_ARN ? undefined : { secret: LOCAL_WEBHOOK_SECRET };
}

/** The local stand-in for the webhook signing secret: never used against the Data API. */
export const LOCAL_WEBHOOK_SECRET = 'checkout-commerce-local-webhooks-only';

function databaseConfig(e: z.infer<typeof envSchema>): DatabaseConfig {
  if (e.DB_CLUSTER_ARN) {
    if (!e.DB_SECRET_ARN) {
      throw new ConfigError('Invalid configuration: DB_SECRET_ARN: required with DB_CLUSTER_ARN');
    }
    return {
      driver: 'rds-data',
      clusterArn: e.DB_CLUSTER_ARN,
      secretArn: e.DB_SECRET_ARN,
      database: e.DB_NAME,
      resumeBudgetMs: e.DB_RESUME_BUDGET_MS,
    };
  }
  if (e.DATABASE_URL) return { driver: 'postgres', url: e.DATABASE_URL };
  return { driver: 'pglite', dataDir: e.PGLITE_DATA_DIR };
}

/**
 * `, got "abc"`: the value as it was set (a URL with its password masked), so the message shows
 * what to fix; nothing for a variable that is not set.
 */
function givenValue(value: string | undefined): string {
  if (value === undefined) return '';
  let shown = value;
  try {
    const url = new URL(value);
    if (url.password) {
      url.password = '***';
      shown = url.href;
    }
  } catch {
    // not a URL: shown as it is
  }
  return `, got ${JSON.stringify(shown)}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
