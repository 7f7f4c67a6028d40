import { pathToFileURL } from 'node:url';
import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SERVICE_NAME } from '#lib/observability/constants.ts';
import {
  CheckoutStack,
  type CheckoutStackProps,
  MIN_RECOVERY_INTERVAL,
  type ServiceUrls,
} from './checkout-stack.ts';
import { MIN_WAF_RATE_LIMIT } from './constructs/api.ts';
import { SERVICE_URL_PARAMETERS } from './constructs/downstream-services.ts';
import {
  DEFAULT_AUTHORIZATION_ALARM_HOURS,
  DEFAULT_PAYMENT_CAPTURE,
  MIN_INSTALLMENT_AMOUNT_PATTERN,
  PAYMENT_CAPTURES,
} from './payment-settings.ts';

/**
 * The CDK app. Context (`-c key=value` or `cdk.json`):
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `target` | `aws` | `aws`, or `localstack` (no Aurora, no WAF; `postgres` driver) |
 * | `stage` | `dev` | part of the stack name; `prod` turns on deletion protection and retention |
 * | `auth` | `iam` on `prod`, else `apiKey` | `iam`: every method takes SigV4 (execute-api:Invoke); `apiKey`: the API key is the only gate |
 * | `requireApiKey` | `true` | API key + usage plan on the methods (with `auth=iam` too: per-caller limits) |
 * | `requireIdempotencyKey` | `true` on `prod`, else `false` | `REQUIRE_IDEMPOTENCY_KEY`: `POST /checkout/process` refuses a request without one |
 * | `apiGatewayCloudWatchRole` | `true` on `aws` | the account's API Gateway logging role (`false` where the account already has one) |
 * | `wafRateLimit` | stage rate × 300 | requests one IP may send in 5 minutes before WAF blocks it |
 * | `checkoutConcurrency` | `100` | reserved concurrency of `checkout`: how many requests reach the database at once |
 * | `reserveConcurrency` | `true` on prod, `false` otherwise | reserved concurrency for checkout and recovery (needs a Lambda quota above 100 + reservations; new accounts often have 10) |
 * | `paymentServiceUrl`, `inventoryServiceUrl`, `orderServiceUrl` | the compose WireMocks | `localstack` only; on `aws` the CloudFormation parameters of the same names (no defaults) |
 * | `databaseUrl` | the compose PostgreSQL | `localstack` only: the functions' `DATABASE_URL` |
 * | `recoveryIntervalMinutes` | `60` | how often the recovery sweep runs (60 or more: every run wakes the database) |
 * | `alarmEmail` | none | an address subscribed to the alarm topic (it confirms by a link in a first email) |
 * | `paymentCapture` | `after_order` | `PAYMENT_CAPTURE` of `checkout`: `after_order` (authorize, then capture once the order exists) or `immediate` (one-shot charge) |
 * | `acceptRawCards` | `false` on `prod`, else `true` | `ACCEPT_RAW_CARDS` of `checkout`: raw card numbers put the deployment in PCI DSS scope; `true` on `prod` is refused |
 * | `minInstallmentAmount` | none (lib's 5.00) | `MIN_INSTALLMENT_AMOUNT` of `checkout`, in BRL (`5.00`) |
 * | `authorizationAlarmHours` | `96` | the `oldest-open-authorization` alarm fires past this age (plus the sweep interval, under 168) |
 *
 * cdk-nag's AwsSolutions pack runs on every synth: an unacknowledged finding fails it.
 */

export type Target = 'aws' | 'localstack';

/**
 * The docker-compose WireMocks, by service name on the compose network that the LocalStack
 * Lambda containers join (`LAMBDA_DOCKER_NETWORK`). The `aws` target has no such defaults: its
 * URLs are deploy-time parameters, so no deploy can send card data to a placeholder host.
 */
export const LOCALSTACK_SERVICE_URLS: ServiceUrls = {
  payment: 'http://wiremock-payment:8080',
  inventory: 'http://wiremock-inventory:8080',
  order: 'http://wiremock-order:8080',
};

/** The compose PostgreSQL as the LocalStack Lambda containers reach it. */
export const LOCALSTACK_DATABASE_URL = 'postgres://postgres:postgres@postgres:5432/checkout_db';

export const STACK_ID = 'CheckoutCommerce';

const SERVICES = ['payment', 'inventory', 'order'] as const satisfies (keyof ServiceUrls)[];

/** Context keys of the service URLs (localstack only). */
const SERVICE_URL_CONTEXT = {
  payment: 'paymentServiceUrl',
  inventory: 'inventoryServiceUrl',
  order: 'orderServiceUrl',
} as const satisfies Record<keyof ServiceUrls, string>;

/** Builds the app from its context, with cdk-nag attached. `cdk synth` and the tests use it. */
export function createCheckoutApp(props: AppProps = {}): { app: App; stack: CheckoutStack } {
  const app = new App(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new CheckoutStack(app, STACK_ID, stackPropsFromContext(app));
  return { app, stack };
}

/** The stack's props from the app's context, with the defaults of the table above. */
export function stackPropsFromContext(app: App): CheckoutStackProps {
  const context = (key: string) => app.node.tryGetContext(key) as unknown;
  const target = oneOf(context('target') ?? 'aws', ['aws', 'localstack'] as const, 'target');
  const stage = String(context('stage') ?? 'dev');
  const production = stage === 'prod';
  const auth = oneOf(
    context('auth') ?? (production ? 'iam' : 'apiKey'),
    ['iam', 'apiKey'] as const,
    'auth',
  );
  const requireApiKey = flag(context('requireApiKey') ?? true, 'requireApiKey');
  if (target === 'aws' && auth === 'apiKey' && !requireApiKey) {
    throw new Error(
      'context auth=apiKey with requireApiKey=false: the API would take card data from anyone ' +
        '(use auth=iam, or keep the API key)',
    );
  }
  const common = {
    stackName: `${STACK_ID}-${stage}`,
    description: `Checkout orchestrator (${target}, stage ${stage})`,
    tags: { service: SERVICE_NAME, stage },
    production,
    auth,
    requireApiKey,
    requireIdempotencyKey: flag(
      context('requireIdempotencyKey') ?? production,
      'requireIdempotencyKey',
    ),
    apiGatewayCloudWatchRole: flag(
      context('apiGatewayCloudWatchRole') ?? target === 'aws',
      'apiGatewayCloudWatchRole',
    ),
    wafRateLimit: optional(context('wafRateLimit'), (v) =>
      integerAtLeast(v, MIN_WAF_RATE_LIMIT, 'wafRateLimit'),
    ),
    checkoutConcurrency: optional(context('checkoutConcurrency'), (v) =>
      integerAtLeast(v, 1, 'checkoutConcurrency'),
    ),
    // Reservations need the account's concurrency quota above 100 + them: a new account's is
    // often 10, so only production reserves by default and a first dev deploy works anywhere.
    reserveConcurrency: flag(context('reserveConcurrency') ?? production, 'reserveConcurrency'),
    recoveryInterval: Duration.minutes(
      integerAtLeast(
        context('recoveryIntervalMinutes') ?? MIN_RECOVERY_INTERVAL.toMinutes(),
        MIN_RECOVERY_INTERVAL.toMinutes(),
        'recoveryIntervalMinutes',
      ),
    ),
    alarmEmail: email(context('alarmEmail'), 'alarmEmail'),
    paymentCapture: oneOf(
      context('paymentCapture') ?? DEFAULT_PAYMENT_CAPTURE,
      PAYMENT_CAPTURES,
      'paymentCapture',
    ),
    // Raw card numbers put the whole deployment in PCI DSS scope: production takes tokens only
    // (the stack refuses `true` there); other stages keep the seed's raw cards unless told.
    acceptRawCards: flag(context('acceptRawCards') ?? !production, 'acceptRawCards'),
    minInstallmentAmount: optional(context('minInstallmentAmount'), (v) =>
      amount(v, 'minInstallmentAmount'),
    ),
    authorizationAlarmHours: integerAtLeast(
      context('authorizationAlarmHours') ?? DEFAULT_AUTHORIZATION_ALARM_HOURS,
      1,
      'authorizationAlarmHours',
    ),
  };
  if (target === 'aws') {
    for (const service of SERVICES) {
      if (context(SERVICE_URL_CONTEXT[service]) !== undefined) {
        throw new Error(
          `context ${SERVICE_URL_CONTEXT[service]}: the aws target takes its service URLs at ` +
            `deploy time: cdk deploy --parameters ${SERVICE_URL_PARAMETERS[service]}=https://…`,
        );
      }
    }
    return { ...common, target };
  }
  const url = (key: string, fallback: string) => String(context(key) ?? fallback);
  const serviceUrl = (service: keyof ServiceUrls) =>
    url(SERVICE_URL_CONTEXT[service], LOCALSTACK_SERVICE_URLS[service]);
  return {
    ...common,
    target,
    databaseUrl: url('databaseUrl', LOCALSTACK_DATABASE_URL),
    serviceUrls: {
      payment: serviceUrl('payment'),
      inventory: serviceUrl('inventory'),
      order: serviceUrl('order'),
    },
  };
}

/** Absent or empty: `undefined` (the stack's default); otherwise parsed. */
function optional<T>(value: unknown, parse: (value: unknown) => T): T | undefined {
  return value === undefined || value === '' ? undefined : parse(value);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], key: string): T {
  if (allowed.includes(value as T)) return value as T;
  throw new Error(`context ${key}: expected one of ${allowed.join(', ')}, got ${String(value)}`);
}

function integerAtLeast(value: unknown, min: number, key: string): number {
  const n = Number(value);
  if (Number.isInteger(n) && n >= min) return n;
  throw new Error(`context ${key}: expected an integer of at least ${min}, got ${String(value)}`);
}

/** An amount in BRL as `lib/config.ts` reads `MIN_INSTALLMENT_AMOUNT` (`5.00`, `12.5`, `10`). */
function amount(value: unknown, key: string): string {
  const text = String(value);
  if (
    (typeof value === 'string' || typeof value === 'number') &&
    MIN_INSTALLMENT_AMOUNT_PATTERN.test(text)
  ) {
    return text;
  }
  throw new Error(
    `context ${key}: expected an amount in BRL such as 5.00 (at most 2 decimals), got ${text}`,
  );
}

/** Absent or empty: no subscription. Otherwise something shaped like an address. */
function email(value: unknown, key: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return value;
  throw new Error(`context ${key}: expected an email address, got ${String(value)}`);
}

/** Context from the command line is a string, from cdk.json or the tests a boolean. */
function flag(value: unknown, key: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`context ${key}: expected true or false, got ${String(value)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createCheckoutApp().app.synth();
}
