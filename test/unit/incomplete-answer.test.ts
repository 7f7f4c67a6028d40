import { describe, expect, it } from 'vitest';
import type { IdempotencyClaim } from '#lib/checkout/ports.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { DatabaseUnavailableError } from '#lib/errors.ts';
import { presentOutcome } from '#lib/http/checkout-presenter.ts';
import {
  createSagaFakes,
  failForward,
  outcomeOfKind,
  type SagaFakes,
  sampleCart,
  sampleSecrets,
  unknown,
} from './fakes.ts';

/**
 * A 503 `checkout_incomplete` tells the caller what to do next, and that depends on whether
 * its request carried an `Idempotency-Key`: with one, the same request again resumes the
 * checkout; without one, it would start a second checkout, so the answer points at
 * `GET /checkout/{id}` instead (issue 25, point 6).
 */

const KEY: IdempotencyClaim = {
  key: 'order-4711',
  caller: 'api-key:shop-a',
  requestHash: 'hash-of-the-body',
  ttlHours: 24,
};

const post = (fakes: SagaFakes, idempotency?: IdempotencyClaim) =>
  processCheckout(
    fakes.deps,
    { cart: sampleCart(), secrets: sampleSecrets(), idempotency },
    fakes.budget,
  );

const messageOf = (answer: { body: string }) => String(JSON.parse(answer.body).message);

describe('processCheckout says whether an incomplete checkout was keyed', () => {
  it('keyed: false without an Idempotency-Key, when a step outcome is unknown', async () => {
    const fakes = createSagaFakes();
    failForward(fakes, unknown('payment'));
    expect(outcomeOfKind(await post(fakes), 'incomplete').keyed).toBe(false);
  });

  it('keyed: true with an Idempotency-Key, when a step outcome is unknown', async () => {
    const fakes = createSagaFakes();
    failForward(fakes, unknown('payment'));
    expect(outcomeOfKind(await post(fakes, KEY), 'incomplete').keyed).toBe(true);
  });

  it('keyed: false when the database stops answering once the checkout is recorded', async () => {
    const fakes = createSagaFakes();
    fakes.repository.failWith.update = new DatabaseUnavailableError();
    expect(outcomeOfKind(await post(fakes), 'incomplete').keyed).toBe(false);
  });
});

describe('the 503 checkout_incomplete answer', () => {
  it('without a key: read the checkout by its id, send a key next time, never "retry with the same key"', async () => {
    const fakes = createSagaFakes();
    failForward(fakes, unknown('payment'));
    const answer = presentOutcome(await post(fakes));

    expect(answer.statusCode).toBe(503);
    const body = JSON.parse(answer.body);
    expect(body.checkout_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.message).toContain('GET /checkout/{id}');
    expect(body.message).toContain('send an Idempotency-Key with every checkout');
    expect(body.message).not.toMatch(/same Idempotency-Key/);
  });

  it('with a key: retry with the same Idempotency-Key', async () => {
    const fakes = createSagaFakes();
    failForward(fakes, unknown('payment'));
    const answer = presentOutcome(await post(fakes, KEY));

    expect(answer.statusCode).toBe(503);
    expect(messageOf(answer)).toContain('Retry with the same Idempotency-Key');
  });
});
