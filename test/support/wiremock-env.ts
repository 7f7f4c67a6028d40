import { inject } from 'vitest';

/**
 * The service URLs of the run's WireMocks (started by the global setup), set before any
 * handler module is imported. Only the integration project has them: a unit test that
 * reaches a service fails on the missing variable instead of calling out.
 */
const wiremock = inject('wiremock');
Object.assign(process.env, {
  PAYMENT_SERVICE_URL: wiremock.payment,
  INVENTORY_SERVICE_URL: wiremock.inventory,
  ORDER_SERVICE_URL: wiremock.order,
});
