import type { Checkout } from './checkout/checkout.ts';
import type { CheckoutOutcome, FinishedOutcome, SagaOutcome } from './checkout/checkout-outcome.ts';
import type { WorkBudget } from './checkout/lease.ts';
import { type ListQuery, listCheckouts } from './checkout/operations/list-checkouts.ts';
import {
  type Resolution,
  type ResolveRefusal,
  resolveCheckout,
} from './checkout/operations/resolve-checkout.ts';
import { type OperatorRefusal, retryCheckout } from './checkout/operations/retry-checkout.ts';
import { type CheckoutReport, showCheckout } from './checkout/operations/show-checkout.ts';
import type { PaymentEvent, PaymentEventOutcome } from './checkout/payment-event.ts';
import { receivePaymentEvent } from './checkout/payment-webhook.ts';
import { callerPricing } from './checkout/pricing.ts';
import {
  type CheckoutCommand,
  type CheckoutDeps,
  processCheckout,
} from './checkout/process-checkout.ts';
import { readCheckout } from './checkout/read-checkout.ts';
import { type RecoveryReport, recoverAbandoned } from './checkout/recover-abandoned.ts';
import type { RecoveryOptions } from './checkout/recovery.ts';
import { createCatalogClient } from './clients/catalog-client.ts';
import { createInventoryClient } from './clients/inventory-client.ts';
import { createOrderClient } from './clients/order-client.ts';
import { createPaymentClient } from './clients/payment-client.ts';
import { createRecoveryScheduler } from './clients/recovery-scheduler.ts';
import { createSecretReader } from './clients/secrets.ts';
import { ServiceHttpClient } from './clients/service-http-client.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { checkDatabase } from './db/check-database.ts';
import { createCheckoutRepository } from './db/checkout-repository.ts';
import { createDatabase } from './db/create-database.ts';
import type { Database } from './db/database.ts';
import { withDeadline } from './db/deadline.ts';
import { migrate } from './db/migrate.ts';
import { ANONYMOUS_CALLER } from './http/caller.ts';
import { renderFinished } from './http/checkout-presenter.ts';
import { checkoutMetrics, logger } from './observability/index.ts';

/**
 * Everything a function needs, built once per cold start from the configuration: the database
 * and the use cases, each bound to the adapters it runs on. Handlers call a use case and present
 * what it returns; they never reach the adapters themselves.
 */
export interface App {
  config: Config;
  db: Database;
  processCheckout(command: CheckoutCommand, budget: WorkBudget): Promise<CheckoutOutcome>;
  /**
   * `GET /checkout/{id}`: the checkout as stored if `caller` recorded it (by default the
   * anonymous caller, as a request without identity is); its database calls end by
   * `databaseDeadline` when one is given. Operators read any checkout with `operations.show`.
   */
  readCheckout(
    id: string,
    databaseDeadline?: number,
    caller?: string,
  ): Promise<Checkout | undefined>;
  /**
   * The secret a CPF/CNPJ is keyed with in request fingerprints (a Secrets Manager secret is
   * kept for five minutes, so a rotation is picked up within them).
   */
  fingerprintKey(): Promise<string>;
  /**
   * The secret the payment service signs its webhooks with (a Secrets Manager secret is kept for
   * five minutes, so a rotation is picked up within them).
   */
  webhookKey(): Promise<string>;
  /**
   * `POST /webhooks/payments`, once its signature is verified: looks the payment up and moves
   * the checkout by what the lookup says, under the checkout's lease.
   */
  receivePaymentEvent(event: PaymentEvent, budget: WorkBudget): Promise<PaymentEventOutcome>;
  /** Whether the database answers within a short timeout (`GET /health`). Never throws. */
  checkHealth(): Promise<boolean>;
  /** One recovery run, with the configured options unless others are given (tests, chaos). */
  recoverAbandoned(budget: WorkBudget, options?: RecoveryOptions): Promise<RecoveryReport>;
  /** The operator's use cases (`npm run checkouts`, the operator function). */
  operations: {
    list(query: ListQuery): Promise<{ checkouts: Checkout[]; unreadable: string[] }>;
    show(id: string): Promise<CheckoutReport | undefined>;
    retry(id: string, budget: WorkBudget): Promise<SagaOutcome | OperatorRefusal>;
    resolve(
      id: string,
      resolution: Resolution,
      budget: WorkBudget,
    ): Promise<FinishedOutcome | ResolveRefusal>;
  };
}

let app: Promise<App> | undefined;

/**
 * The process's `App`, created on first use and then reused (Lambda keeps it across warm
 * invocations). A failed start is not cached, so the next invocation tries again.
 */
export function getApp(): Promise<App> {
  app ??= createApp(loadConfig()).catch((error: unknown) => {
    app = undefined;
    throw error;
  });
  return app;
}

/** Closes the database of the current `App`, if any (local server shutdown, tests). */
export async function closeApp(): Promise<void> {
  const current = app;
  app = undefined;
  if (current) await (await current).db.close();
}

export async function createApp(config: Config): Promise<App> {
  const db = await createDatabase(config.database);
  // The embedded database belongs to this process, so it is brought up to date here; a real
  // server is migrated by `npm start`, the tests, or the deploy's migrate function.
  if (config.database.driver === 'pglite') await migrate(db);
  const readSecret = createSecretReader();
  const deps = sagaDeps(config, db, readSecret);
  const { fingerprintKey: key, webhookKey } = config;
  // A use case that works under a budget runs its database calls under the budget's deadline,
  // which the `rds-data` driver honours, so the invocation answers before the function's own
  // deadline even when a statement hangs or the cluster resumes late.
  const budgeted = <T>(budget: WorkBudget, work: () => Promise<T>) =>
    withDeadline(budget.databaseDeadline, work);
  return {
    config,
    db,
    processCheckout: (command, budget) =>
      budgeted(budget, () => processCheckout(deps, command, budget)),
    readCheckout: (id, deadline, caller = ANONYMOUS_CALLER) =>
      withDeadline(deadline, () => readCheckout(deps, id, caller)),
    fingerprintKey: async () => {
      if (!key)
        throw new ConfigError('FINGERPRINT_SECRET_ARN is not set: a CPF/CNPJ cannot be keyed');
      return 'secret' in key ? key.secret : readSecret(key.secretArn);
    },
    webhookKey: async () => {
      if (!webhookKey) {
        throw new ConfigError('PAYMENT_WEBHOOK_SECRET_ARN is not set: webhooks cannot be verified');
      }
      // Trimmed: a secret saved with a trailing newline would fail every signature.
      return 'secret' in webhookKey
        ? webhookKey.secret
        : (await readSecret(webhookKey.secretArn)).trim();
    },
    receivePaymentEvent: (event, budget) =>
      budgeted(budget, () => receivePaymentEvent(deps, event, budget)),
    checkHealth: () => checkDatabase(db),
    recoverAbandoned: (budget, options = config.recovery) =>
      budgeted(budget, () => recoverAbandoned(deps, options, budget)),
    operations: {
      list: (query) => listCheckouts(deps, query),
      show: (id) => showCheckout(deps, id),
      retry: (id, budget) =>
        budgeted(budget, () => retryCheckout(deps, id, config.recovery, budget)),
      resolve: (id, resolution, budget) =>
        budgeted(budget, () => resolveCheckout(deps, id, resolution, budget, config.recovery)),
    },
  };
}

/**
 * The adapters the use cases run on: the repository over `db`, the three service clients, the
 * pricing chosen by `PRICING`, and the presenter's renderer for the answers stored with final
 * states.
 */
export function sagaDeps(
  config: Config,
  db: Database,
  readSecret = createSecretReader(),
): CheckoutDeps {
  const http = (service: 'payment' | 'inventory' | 'order' | 'catalog') => {
    const { apiKeySecretArn, ...endpoint } =
      service === 'catalog' ? config.pricing.catalog : config[service];
    const credentials = apiKeySecretArn && {
      // Trimmed: a secret saved with a trailing newline is not a header value Node will send.
      headers: async () => ({ 'x-api-key': (await readSecret(apiKeySecretArn)).trim() }),
      onCredentialsRejected: () => readSecret.forget(apiKeySecretArn),
    };
    return new ServiceHttpClient({
      service,
      ...endpoint,
      retry: config.retry,
      logger,
      ...credentials,
    });
  };
  return {
    repository: createCheckoutRepository(db),
    payment: createPaymentClient(http('payment')),
    inventory: createInventoryClient(http('inventory')),
    order: createOrderClient(http('order')),
    pricing:
      config.pricing.source === 'catalog' ? createCatalogClient(http('catalog')) : callerPricing,
    clock: { now: () => new Date() },
    logger,
    metrics: checkoutMetrics,
    renderAnswer: renderFinished,
    settleDelayMs: config.recovery.settleDelayMs,
    paymentFlow: config.payments.flow,
    acceptRawCards: config.payments.acceptRawCards,
    minInstallmentCents: config.payments.minInstallmentCents,
    asyncPayments: config.asyncPayments,
    scheduler: createRecoveryScheduler({
      config: config.recoveryScheduler,
      settleDelayMs: config.recovery.settleDelayMs,
      logger,
    }),
  };
}
