import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { openApiDocument } from '#dev/api-docs/openapi.ts';
import {
  awaitingPaymentResponseSchema,
  checkoutViewSchema,
  completedResponseSchema,
  failedResponseSchema,
  incompleteResponseSchema,
  priceChangedResponseSchema,
  pricingUnavailableResponseSchema,
  unknownProductResponseSchema,
} from '#dev/api-docs/response-schemas.ts';
import {
  describeAnswer,
  type ExpectedAnswer,
  isRecorded,
  TEST_VALUES,
} from '#dev/api-docs/test-values.ts';
import { type ApiResponse, newMarker, useLocalApi } from '../support/local-api.ts';

// The documented answers are the default flow's: authorize, capture after the order.
process.env.PAYMENT_CAPTURE = 'after_order';

/**
 * The examples of `/openapi.json` sent as they are to the real handlers behind the local
 * gateway, with the run's WireMocks: each request example answers what its name says, and the
 * answers match the documented examples field for field (ids aside).
 */

const api = useLocalApi();

interface Example {
  summary: string;
  value: Record<string, unknown>;
}
type Responses = Record<
  string,
  { content: { 'application/json': { examples: Record<string, Example> } } }
>;
interface Operation {
  requestBody: { content: { 'application/json': { examples: Record<string, Example> } } };
  responses: Responses;
}
const { paths } = openApiDocument() as {
  paths: Record<string, Record<string, Operation>>;
};
const processCheckout = paths['/checkout/process']?.post as Operation;
const getCheckout = paths['/checkout/{id}']?.get as Operation;
const getHealth = paths['/health']?.get as Operation;

const requestExample = (name: string) =>
  processCheckout.requestBody.content['application/json'].examples[name]?.value ?? {};
const documented = (operation: Operation, status: number, name: string) =>
  operation.responses[status]?.content['application/json'].examples[name]?.value;
const documentedAnswers = (operation: Operation, status: number) =>
  Object.values(operation.responses[status]?.content['application/json'].examples ?? {});

/** The id every response example shows. */
const EXAMPLE_ID = String(documented(processCheckout, 200, 'seed')?.checkout_id);

/**
 * What a Pix or boleto carries that the day it is issued decides: its dates, and a boleto's
 * codes, which hold its due date.
 */
const ISSUED_THAT_DAY = ['expires_at', 'due_date', 'barcode', 'digitable_line'];

/**
 * The answer as the documentation would show it: its checkout id (also in `txn_…`, `ord_…`,
 * `pix_…` and `bol_…`) replaced by the examples' one, `timestamps` given, and a Pix's or
 * boleto's `payment` issued on the examples' day.
 */
function asDocumented(res: ApiResponse, timestamps: Record<string, string> = {}) {
  const id = String(res.json.checkout_id ?? '');
  const text = id ? res.text.replaceAll(id, EXAMPLE_ID) : res.text;
  const body = JSON.parse(text) as Record<string, unknown>;
  for (const [field, value] of Object.entries(timestamps)) if (field in body) body[field] = value;
  const payment = body.payment as Record<string, unknown> | undefined;
  if (payment) {
    const shown = documentedAnswers(processCheckout, 202)
      .map((e) => e.value.payment as Record<string, unknown>)
      .find((p) => p.method === payment.method);
    for (const field of ISSUED_THAT_DAY) if (field in payment) payment[field] = shown?.[field];
  }
  return body;
}

interface Shape {
  parse(body: unknown): unknown;
}

const PRICING_SHAPES: Record<string, Shape> = {
  price_changed: priceChangedResponseSchema,
  unknown_product: unknownProductResponseSchema,
  pricing_unavailable: pricingUnavailableResponseSchema,
};
const SHAPES: Record<number, Shape> = {
  200: completedResponseSchema,
  202: awaitingPaymentResponseSchema,
  422: failedResponseSchema,
  503: incompleteResponseSchema,
};
/** The shape of an answer: a pricing refusal's by its error, a recorded checkout's by status. */
const shapeOf = (res: ApiResponse) => PRICING_SHAPES[String(res.json.error)] ?? SHAPES[res.status];

describe('the request examples of POST /checkout/process, sent as they are', () => {
  it.concurrent.for(TEST_VALUES.map((v) => [v.name, v] as const))(
    '%s answers what its name says',
    async ([name, value], { expect }) => {
      const example = processCheckout.requestBody.content['application/json'].examples[name];
      const res = await api.postCheckout(example?.value);

      const answer = { status: res.status, body: res.json } as unknown as ExpectedAnswer;
      expect(example?.summary).toContain(`→ ${describeAnswer(answer)}`);
      expect(res.status).toBe(value.answer.status);
      expect(res.json).toMatchObject(value.answer.body);
      shapeOf(res)?.parse(res.json);
      expect(res.headers.get('retry-after') !== null).toBe(res.status === 503);
      expect(res.headers.get('idempotent-replayed')).toBeNull();
      // The documented answer of this example is this answer, field for field.
      expect(documentedAnswers(processCheckout, res.status).map((e) => e.value)).toContainEqual(
        asDocumented(res),
      );
    },
  );
});

describe('the pricing examples, refused before anything is recorded', () => {
  const refusals = TEST_VALUES.filter((v) => !isRecorded(v.answer));

  it('are the three answers of a cart the catalog cannot price as sent', () => {
    expect(refusals.map((v) => `${v.answer.status} ${v.answer.body.error}`)).toEqual([
      '409 price_changed',
      '422 unknown_product',
      '503 pricing_unavailable',
    ]);
  });

  it.concurrent.for(refusals.map((v) => [v.name, v] as const))(
    '%s records and charges nothing, so its Idempotency-Key then completes the corrected cart',
    async ([name, value], { expect }) => {
      const marker = newMarker();
      const key = randomUUID();
      const tagged = (example: string) => {
        const body = structuredClone(requestExample(example));
        body.customer_email = `customer+${marker}@example.com`;
        return body;
      };

      const refused = await api.postCheckout(tagged(name), { 'Idempotency-Key': key });
      expect(refused.status).toBe(value.answer.status);
      await api.expectNothingHappened(marker);
      const corrected = await api.postCheckout(tagged('seed'), { 'Idempotency-Key': key });

      expect(corrected.status).toBe(200);
      expect(corrected.json).toMatchObject({ status: 'completed', total_amount: '349.70' });
    },
  );
});

describe('the documented answers, produced for real', () => {
  it('replays an answer for the same Idempotency-Key with Idempotent-Replayed: true', async () => {
    const key = randomUUID();
    const first = await api.postCheckout(requestExample('card-declined'), {
      'Idempotency-Key': key,
    });
    const again = await api.postCheckout(requestExample('card-declined'), {
      'Idempotency-Key': key,
    });

    expect(first.status).toBe(422);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('answers 422 idempotency_key_mismatch as documented for a key reused with another body', async () => {
    const key = randomUUID();
    await api.postCheckout(requestExample('seed'), { 'Idempotency-Key': key });
    const res = await api.postCheckout(requestExample('card-declined'), { 'Idempotency-Key': key });

    expect(res.status).toBe(422);
    expect(res.json).toEqual(documented(processCheckout, 422, 'idempotency-key-mismatch'));
  });

  it('answers 409 checkout_in_progress as documented while the first request still runs', async () => {
    const key = randomUUID();
    const slow = api.postCheckout(requestExample('payment-timeout'), { 'Idempotency-Key': key });
    await vi.waitFor(
      async () => {
        const claimed = await api.checkoutRows('idempotency_key like :k', { k: `%${key}%` });
        expect(claimed).toHaveLength(1);
      },
      { timeout: 10_000, interval: 10 },
    );
    const res = await api.postCheckout(requestExample('payment-timeout'), {
      'Idempotency-Key': key,
    });
    const first = await slow;

    expect(res.status).toBe(409);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.json.checkout_id).toBe(first.json.checkout_id);
    expect(asDocumented(res)).toEqual(documented(processCheckout, 409, 'checkout-in-progress'));
    expect(first.status).toBe(503);
  });

  const seedWith = (change: (body: Record<string, Record<string, unknown>>) => void) => {
    const body = structuredClone(requestExample('seed')) as Record<string, Record<string, unknown>>;
    change(body);
    return body;
  };

  it.each([
    {
      name: 'invalid-card',
      status: 400,
      send: () =>
        api.postCheckout(
          seedWith((b) => {
            (b.payment_method as Record<string, unknown>).card_number = '4111111111111112';
          }),
        ),
    },
    {
      name: 'invalid-expiry',
      status: 400,
      send: () =>
        api.postCheckout(
          seedWith((b) => {
            (b.payment_method as Record<string, unknown>).card_expiry = '13/30';
          }),
        ),
    },
    {
      name: 'invalid-idempotency-key',
      status: 400,
      send: () => api.postCheckout(requestExample('seed'), { 'Idempotency-Key': 'k'.repeat(256) }),
    },
    {
      name: 'payload-too-large',
      status: 413,
      send: () => api.postCheckout(JSON.stringify({ padding: 'x'.repeat(70_000) })),
    },
    {
      name: 'unsupported-media-type',
      status: 415,
      send: () =>
        api.request('/checkout/process', {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify(requestExample('seed')),
        }),
    },
  ])('answers $status $name as documented', async ({ name, status, send }) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.json).toEqual(documented(processCheckout, status, name));
  });

  it('answers 503 checkout_incomplete to a keyed request as documented: retry with the key', async () => {
    const res = await api.postCheckout(requestExample('payment-timeout'), {
      'Idempotency-Key': randomUUID(),
    });

    expect(res.status).toBe(503);
    expect(asDocumented(res)).toEqual(documented(processCheckout, 503, 'incomplete-with-key'));
  });

  it('tells the same request without a key to read the checkout by its id instead', async () => {
    const res = await api.postCheckout(requestExample('payment-timeout'));

    expect(res.status).toBe(503);
    expect(res.json.message).toContain('GET /checkout/{id}');
    expect(res.json.message).not.toContain('same Idempotency-Key');
    const read = await api.request(`/checkout/${res.json.checkout_id}`);
    expect(read.status).toBe(200);
  });

  it('answers GET /checkout/{id} errors and GET /health as documented', async () => {
    const invalid = await api.request('/checkout/not-a-uuid');
    const missing = await api.request(`/checkout/${randomUUID()}`);
    const health = await api.request('/health');

    expect([invalid.status, missing.status, health.status]).toEqual([400, 404, 200]);
    expect(invalid.json).toEqual(documented(getCheckout, 400, 'invalid-id'));
    expect(missing.json).toEqual(documented(getCheckout, 404, 'not-found'));
    expect(health.json).toEqual(documented(getHealth, 200, 'ok'));
  });

  it.each([
    ['seed', 'completed'],
    ['out-of-stock', 'failed'],
    ['boleto', 'awaiting-payment'],
  ])('reads the checkout of the %s example back as the %s example shows', async (send, shown) => {
    const posted = await api.postCheckout(requestExample(send));
    const res = await api.request(`/checkout/${posted.json.checkout_id}`);

    expect(res.status).toBe(200);
    checkoutViewSchema.parse(res.json);
    const example = documented(getCheckout, 200, shown) ?? {};
    // The dates of a Pix or boleto are the day's: `asDocumented` sets its payment's.
    const times = { created_at: '', updated_at: '', expires_at: '', due_date: '' };
    expect(asDocumented(res, times)).toEqual({
      ...example,
      ...Object.fromEntries(
        Object.keys(times)
          .filter((t) => t in example)
          .map((t) => [t, '']),
      ),
    });
  });
});
