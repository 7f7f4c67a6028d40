import { expect } from 'vitest';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { newMarker, seedRequest, type useLocalApi } from './local-api.ts';
import { actedBeforeFailing } from './wiremock-lookups.ts';
import { addStub } from './wiremock-stubs.ts';

/** A checkout that ended `requires_attention`, and how to make its undo work again. */
export interface CheckoutNeedingAttention {
  id: string;
  marker: string;
  request: ReturnType<typeof seedRequest>;
  /** The refund that kept failing: `/payments/txn_<marker>/refund`. */
  refundPath: string;
  /** Removes the stub that fails the refund; the default refund then succeeds. */
  repairRefund(): Promise<void>;
}

/**
 * Drives a checkout to `requires_attention` through the real API, WireMock and database: it is
 * charged (as `txn_<marker>`), the stock is refused, and refunding the charge fails (a stub of
 * this test's own), first for the request (left `compensating`), then for one recovery run that
 * gives up after a single try. Meant for a database of the test file's own: recovery sweeps
 * every abandoned checkout in it.
 */
export async function checkoutNeedingAttention(
  api: ReturnType<typeof useLocalApi>,
  headers: Record<string, string> = {},
): Promise<CheckoutNeedingAttention> {
  const marker = newMarker();
  const transactionId = `txn_${marker}`;
  const refundPath = `/payments/${transactionId}/refund`;
  await addStub('payment', {
    priority: 1,
    request: { method: 'POST', urlPath: '/payments/process', bodyPatterns: [{ contains: marker }] },
    // Echoes its request as the payment service must (the client checks the echo).
    response: {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: `{"status":"success","transactionId":"${transactionId}","checkout_id":"{{jsonPath request.body '$.checkout_id'}}","amount":{{jsonPath request.body '$.amount'}},"currency":"{{jsonPath request.body '$.currency'}}"}`,
      transformers: ['response-template'],
    },
    // The service holds the charge: its lookup lists it (the default charge's webhook, naming
    // this stub's transaction).
    ...chargeHeld(transactionId),
  });
  const repairRefund = await addStub('payment', {
    priority: 1,
    request: { method: 'POST', urlPath: refundPath },
    response: { status: 500, jsonBody: { error: 'internal_error', message: 'Refund failed' } },
  });
  const request = seedRequest(marker);
  request.items.push({ product_id: 'prod_out_of_stock', quantity: 1, price: 149.9 });

  const res = await api.postCheckout(request, headers);
  expect(res.status).toBe(503);
  expect(res.json).toMatchObject({ status: 'compensating', error: 'checkout_incomplete' });
  const id = String(res.json.checkout_id);

  const app = await getApp();
  await app.db.query(
    `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
    { id },
  );
  const budget = workBudget(20_000, undefined, 'recovery:test');
  await app.recoverAbandoned(budget, { ...app.config.recovery, batchSize: 100, maxAttempts: 1 });
  expect((await app.readCheckout(id))?.status).toBe('requires_attention');
  return { id, marker, request, refundPath, repairRefund };
}

/** The default charge's webhook, registering `transactionId` as the charge the lookup lists. */
function chargeHeld(transactionId: string) {
  const { serveEventListeners } = actedBeforeFailing('payment/mappings/process-success.json');
  const named = JSON.stringify(serveEventListeners).replaceAll(
    "txn_{{jsonPath originalRequest.body '$.checkout_id'}}",
    transactionId,
  );
  return { serveEventListeners: JSON.parse(named) as unknown };
}

/**
 * A person refunds the stuck checkout's charge in the payment console: the mocks have none, so
 * its lookup is stubbed to say so (the stock was refused and no order made, as the mocks hold).
 */
export function refundedInConsole(stuck: CheckoutNeedingAttention) {
  return addStub('payment', {
    priority: 1,
    request: {
      method: 'GET',
      urlPath: '/payments',
      queryParameters: { checkout_id: { equalTo: stuck.id } },
    },
    response: {
      status: 200,
      jsonBody: { payments: [{ transactionId: `txn_${stuck.marker}`, status: 'refunded' }] },
    },
  });
}
