/**
 * The environment every test file starts with, set before any handler module is imported:
 * short timeouts so fault tests are quick, quiet logs and warnings, and the database (PGlite
 * in memory, one per test file, unless TEST_DATABASE_URL names a server). The integration
 * project adds the run's WireMocks (`wiremock-env.ts`).
 */
Object.assign(process.env, {
  PAYMENT_TIMEOUT_MS: '1000',
  INVENTORY_TIMEOUT_MS: '1000',
  ORDER_TIMEOUT_MS: '1000',
  CATALOG_TIMEOUT_MS: '2000',
  HTTP_MAX_RETRIES: '1',
  HTTP_RETRY_BASE_MS: '20',
  HTTP_RETRY_MAX_MS: '50',
  // Tests expire leases themselves and their services never act late: the least the
  // configuration accepts (the longest per-try timeout), which a lease the tests set to have
  // ended a second ago has passed.
  RECOVERY_SETTLE_DELAY_MS: '1000',
  // Most suites were written for the seed's one-shot charge, and the saga's faults, crashes
  // and undo are the same in either flow: they run it. The suites of the default flow
  // (authorize, capture after the order) set `after_order` at their top, before the app starts.
  PAYMENT_CAPTURE: 'immediate',
  POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT',
  POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
  // The AWS SDK's notice that its 2027 releases will need Node 22 (`process.emitWarning`, once
  // per process, its own switch) says nothing about the code under test, which runs on Node 20
  // as well as 22; child processes the tests spawn inherit it.
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
});
if (process.env.TEST_DATABASE_URL) process.env.DATABASE_URL = process.env.TEST_DATABASE_URL;
else {
  delete process.env.DATABASE_URL;
  process.env.PGLITE_DATA_DIR = 'memory://';
}
