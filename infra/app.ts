import { pathToFileURL } from 'node:url';
import { App, type AppProps, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CheckoutStack,
  type CheckoutStackProps,
  MIN_RECOVERY_INTERVAL,
  type ServiceUrls,
} from './checkout-stack.ts';

/**
 * The CDK app. Context (`-c key=value` or `cdk.json`):
 *
 * | key | default | meaning |
 * |---|---|---|
 * | `target` | `aws` | `aws`, or `localstack` (no Aurora, no WAF; `postgres` driver) |
 * | `stage` | `dev` | part of the stack name; `prod` turns on deletion protection and retention |
 * | `requireApiKey` | `true` | API key + usage plan on the `/checkout` methods |
 * | `paymentServiceUrl`, `inventoryServiceUrl`, `orderServiceUrl` | see `DEFAULT_SERVICE_URLS` | downstream base URLs |
 * | `databaseUrl` | the compose PostgreSQL | `localstack` only: the functions' `DATABASE_URL` |
 * | `recoveryIntervalMinutes` | `60` | how often the recovery sweep runs (60 or more: every run wakes the database) |
 * | `alarmEmail` | none | an address subscribed to the alarm topic (it confirms by a link in a first email) |
 *
 * cdk-nag's AwsSolutions pack runs on every synth: an unacknowledged finding fails it.
 */

export type Target = 'aws' | 'localstack';

/**
 * `aws`: placeholders that let `cdk synth` run offline; a real deploy passes the services' URLs.
 * `localstack`: the docker-compose WireMocks, by service name on the compose network that the
 * LocalStack Lambda containers join (`LAMBDA_DOCKER_NETWORK`).
 */
export const DEFAULT_SERVICE_URLS: Record<Target, ServiceUrls> = {
  aws: {
    payment: 'https://payment.example.com',
    inventory: 'https://inventory.example.com',
    order: 'https://order.example.com',
  },
  localstack: {
    payment: 'http://wiremock-payment:8080',
    inventory: 'http://wiremock-inventory:8080',
    order: 'http://wiremock-order:8080',
  },
};

/** The compose PostgreSQL as the LocalStack Lambda containers reach it. */
export const LOCALSTACK_DATABASE_URL = 'postgres://postgres:postgres@postgres:5432/checkout_db';

export const STACK_ID = 'CheckoutCommerce';

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
  const url = (key: string, fallback: string) => String(context(key) ?? fallback);
  const defaults = DEFAULT_SERVICE_URLS[target];
  const common = {
    stackName: `${STACK_ID}-${stage}`,
    description: `Checkout orchestrator (${target}, stage ${stage})`,
    tags: { service: 'checkout-commerce', stage },
    production: stage === 'prod',
    requireApiKey: flag(context('requireApiKey') ?? true, 'requireApiKey'),
    recoveryInterval: Duration.minutes(
      integerAtLeast(
        context('recoveryIntervalMinutes') ?? MIN_RECOVERY_INTERVAL.toMinutes(),
        MIN_RECOVERY_INTERVAL.toMinutes(),
        'recoveryIntervalMinutes',
      ),
    ),
    alarmEmail: email(context('alarmEmail'), 'alarmEmail'),
    serviceUrls: {
      payment: url('paymentServiceUrl', defaults.payment),
      inventory: url('inventoryServiceUrl', defaults.inventory),
      order: url('orderServiceUrl', defaults.order),
    },
  };
  return target === 'aws'
    ? { ...common, target }
    : { ...common, target, databaseUrl: url('databaseUrl', LOCALSTACK_DATABASE_URL) };
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
