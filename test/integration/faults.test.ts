import { describe, expect, it } from 'vitest';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { header, receivedRequests } from '../support/wiremock-journal.ts';
import { actedBeforeFailing, untilWebhooksDone } from '../support/wiremock-lookups.ts';
import { addStub } from '../support/wiremock-stubs.ts';

const api = useLocalApi();

const STEPS = {
  payment: {
    service: 'payment',
    path: '/payments/process',
    key: 'charge',
    recoveryPoint: 'pending',
  },
  inventory: {
    service: 'inventory',
    path: '/inventory/deduct',
    key: 'deduct',
    recoveryPoint: 'payment_processed',
  },
  order: { service: 'order', path: '/orders', key: 'order', recoveryPoint: 'inventory_deducted' },
} as const;
type Step = keyof typeof STEPS;

/**
 * Faults after which the service may have acted, each as the `response` of a WireMock stub that
 * answers every try: a 5xx (a gateway's 502/504 may come after the service acted), a timeout,
 * a reset, a garbled answer.
 */
const UNKNOWN_OUTCOME_FAULTS: Record<string, Record<string, unknown>> = {
  'a 500': { status: 500, body: '{"error":"boom"}' },
  'a gateway 502': { status: 502, body: 'Bad Gateway' },
  'a gateway 504': { status: 504, body: 'Gateway Timeout' },
  'a delay beyond the timeout': { status: 200, body: '{}', fixedDelayMilliseconds: 5_000 },
  'a reset connection': { fault: 'CONNECTION_RESET_BY_PEER' },
  'an empty response': { fault: 'EMPTY_RESPONSE' },
  'a malformed response chunk': { fault: 'MALFORMED_RESPONSE_CHUNK' },
  'a success with a malformed body': {
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: '{"unexpected":true}',
  },
};

/** The mapping of each step's default success, whose webhook tells the lookup it happened. */
const SUCCESS_MAPPING: Record<Step, string> = {
  payment: 'payment/mappings/process-success.json',
  inventory: 'inventory/mappings/deduct-success.json',
  order: 'order/mappings/create-success.json',
};

const stubFor = (step: Step, marker: string, response: Record<string, unknown>, extra = {}) =>
  addStub(STEPS[step].service, {
    priority: 1,
    request: {
      method: 'POST',
      urlPath: STEPS[step].path,
      bodyPatterns: [{ contains: marker }],
    },
    response,
    ...extra,
  });

/** Expires the checkout's lease and runs the recovery function until it is final. */
async function recover(checkoutId: string) {
  const app = await getApp();
  const { db, config } = app;
  await db.query(
    `update checkouts set locked_until = now() - interval '1 second' where id = :id::uuid`,
    {
      id: checkoutId,
    },
  );
  for (let run = 0; run < 10; run++) {
    await app.recoverAbandoned(workBudget(20_000), { ...config.recovery, batchSize: 100 });
    const [row] = await api.checkoutRows('id = :id::uuid', { id: checkoutId });
    if (row && ['completed', 'failed', 'requires_attention'].includes(String(row.status)))
      return row;
  }
  throw new Error(`recovery did not finish checkout ${checkoutId}`);
}

const paths = (requests: { url: string }[]) => requests.map((r) => r.url);

describe.each(Object.keys(STEPS) as Step[])('faults at the %s step', (step) => {
  const { service, path, key, recoveryPoint } = STEPS[step];

  it('a 500 then a success is retried with the same key and the checkout completes', async () => {
    const marker = newMarker();
    const removeStub = await stubFor(
      step,
      marker,
      { status: 500, body: '{"error":"boom"}' },
      {
        scenarioName: `flaky-${marker}`,
        requiredScenarioState: 'Started',
        newScenarioState: 'recovered',
      },
    );
    try {
      const res = await api.postCheckout(seedRequest(marker));
      expect(res.status).toBe(200);
      const id = String(res.json.checkout_id);
      const calls = await receivedRequests(service, id, path);
      expect(calls).toHaveLength(2);
      expect(new Set(calls.map((c) => header(c, 'Idempotency-Key')))).toEqual(
        new Set([`${id}:${key}`]),
      );
    } finally {
      await removeStub();
    }
  });

  it.each(Object.entries(UNKNOWN_OUTCOME_FAULTS))(
    'after %s: 503 at its recovery point with nothing undone, then recovery settles it',
    async (_fault, response) => {
      const marker = newMarker();
      const removeStub = await stubFor(
        step,
        marker,
        response,
        actedBeforeFailing(SUCCESS_MAPPING[step]),
      );
      let id: string;
      try {
        const res = await api.postCheckout(seedRequest(marker));
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).not.toBeNull();
        expect(res.json).toMatchObject({ status: recoveryPoint, error: 'checkout_incomplete' });
        id = String(res.json.checkout_id);
        const [row] = await api.checkoutRows('id = :id::uuid', { id });
        expect(row?.status).toBe(recoveryPoint);
        expect(await receivedRequests('payment', id, `/payments/txn_${id}/refund`)).toEqual([]);
        expect(await receivedRequests('inventory', id, '/inventory/release')).toEqual([]);
      } finally {
        await removeStub(); // the service is healthy again
      }
      const forwardBefore = (await receivedRequests(service, id, path)).length;

      // The service acted: its lookup lists the step once the webhook has registered it.
      await untilWebhooksDone(service, id);
      const final = await recover(id);

      // Recovery asked the service (the outcome lookup) and never repeated the step.
      expect(await receivedRequests(service, id, path)).toHaveLength(forwardBefore);

      const stepCalls = await receivedRequests(service, id, path);
      expect(new Set(stepCalls.map((c) => header(c, 'Idempotency-Key')))).toEqual(
        new Set([`${id}:${key}`]),
      );
      const refunds = await receivedRequests('payment', id, `/payments/txn_${id}/refund`);
      const releases = await receivedRequests('inventory', id, '/inventory/release');
      if (step === 'order') {
        // The lookup found the order: the checkout completes, nothing is undone.
        expect(final).toMatchObject({ status: 'completed', order_id: `ord_${id}` });
        expect([refunds.length, releases.length]).toEqual([0, 0]);
      } else {
        expect(final).toMatchObject({ status: 'failed', reason: 'abandoned' });
        expect(refunds).toHaveLength(1);
        expect(releases).toHaveLength(step === 'inventory' ? 1 : 0);
        expect(await receivedRequests('order', id)).toEqual([]);
      }
      expect(
        paths(await receivedRequests('payment', id, '/payments/process')).length,
      ).toBeGreaterThan(0);
    },
  );
});
