import { describe, expect, it, vi } from 'vitest';
import type { Checkout, CheckoutFailure } from '#lib/checkout/checkout.ts';
import type { RenderAnswer } from '#lib/checkout/ports.ts';
import { runSaga } from '#lib/checkout/saga.ts';
import {
  abandoned,
  advance,
  compensate,
  type UndoFailedPolicy,
} from '#lib/checkout/saga-transitions.ts';
import {
  createSagaFakes,
  FIXED_NOW,
  recordedCheckout,
  type SagaFakes,
  sampleSecrets,
  storedRow,
  unavailable,
  unknown,
} from './fakes.ts';

/**
 * The saga's own parts: `runSaga` from a recovery point, `compensate` and its undo policy, and
 * `advance`, the one write per step. The whole saga through its use case is in
 * `process-checkout.test.ts`.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

const ORDER_REFUSED: CheckoutFailure = {
  step: 'order',
  kind: 'refused',
  reason: 'invalid_address',
  message: 'the order service refused: invalid_address',
};

/** A checkout recorded at `fields.status` and held by this worker (attempt 1, lease active). */
function held(fakes: SagaFakes, fields: Partial<Checkout>): Checkout {
  const checkout = recordedCheckout(ID, { paymentId: 'txn_earlier', ...fields });
  fakes.repository.checkouts.set(ID, {
    checkout: structuredClone(checkout),
    lockedUntil: new Date(FIXED_NOW.getTime() + 60_000),
  });
  return checkout;
}

const stored = (fakes: SagaFakes) => storedRow(fakes, ID);

describe('runSaga resuming a recorded checkout', () => {
  it('continues from payment_processed without charging again', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'payment_processed' });
    const outcome = await runSaga(fakes.deps, checkout, sampleSecrets(), fakes.budget);
    expect(fakes.serviceCalls()).toEqual(['inventory.deduct', 'order.create']);
    expect(outcome).toMatchObject({
      kind: 'completed',
      checkout: { status: 'completed', paymentId: 'txn_earlier', orderId: 'ord_0001' },
    });
  });

  it('only creates the order of a checkout at inventory_deducted', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'inventory_deducted' });
    const outcome = await runSaga(fakes.deps, checkout, sampleSecrets(), fakes.budget);
    expect(fakes.serviceCalls()).toEqual(['order.create']);
    expect(outcome).toMatchObject({ kind: 'completed', checkout: { status: 'completed' } });
  });

  it('finishes the undo of a checkout found compensating, running no step forward', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      failure: ORDER_REFUSED,
    });
    const outcome = await runSaga(fakes.deps, checkout, sampleSecrets(), fakes.budget);
    expect(fakes.serviceCalls()).toEqual(['inventory.release', 'payment.refund']);
    expect(outcome).toMatchObject({
      kind: 'refused',
      checkout: { status: 'failed' },
      failure: ORDER_REFUSED,
    });
  });

  it('undoes a compensating checkout that lacks a failure as abandoned, never as completed', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'compensating', compensationFrom: 'payment_processed' });
    const outcome = await runSaga(fakes.deps, checkout, sampleSecrets(), fakes.budget);
    expect(fakes.serviceCalls()).toEqual(['payment.refund']);
    expect(outcome).toMatchObject({
      kind: 'unavailable',
      checkout: { status: 'failed' },
      failure: abandoned('payment'),
    });
  });
});

describe('compensate', () => {
  /** A policy that records what it was handed and leaves the checkout as it is. */
  function recordingPolicy() {
    return vi.fn<UndoFailedPolicy>(async (checkout) => ({
      kind: 'incomplete',
      checkout,
      retryInMs: 1,
    }));
  }

  it('tries every undo and hands the ones that did not go through to the policy', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'inventory_deducted' });
    fakes.inventory.failWith.release = unavailable('inventory');
    const policy = recordingPolicy();

    const outcome = await compensate(fakes.deps, checkout, ORDER_REFUSED, fakes.budget, policy);

    expect(fakes.serviceCalls()).toEqual(['inventory.release', 'payment.refund']);
    expect(policy).toHaveBeenCalledTimes(1);
    expect(policy.mock.calls[0]?.slice(0, 3)).toEqual([
      expect.objectContaining({ status: 'compensating', compensationFrom: 'inventory_deducted' }),
      ORDER_REFUSED,
      ['release_inventory'],
    ]);
    expect(policy.mock.calls[0]?.[3]).toBe(fakes.inventory.failWith.release);
    expect(outcome).toBe(await policy.mock.results[0]?.value);
  });

  it('stops at an undo the deadline cut short and hands it to the policy, trying no other', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'inventory_deducted' });
    fakes.inventory.release = async () => {
      fakes.deadline.abort();
      throw unknown('inventory');
    };
    const policy = recordingPolicy();

    await compensate(fakes.deps, checkout, ORDER_REFUSED, fakes.budget, policy);

    expect(fakes.serviceCalls()).toEqual([]);
    expect(policy.mock.calls[0]?.[2]).toEqual(['release_inventory']);
    expect(stored(fakes).checkout.status).toBe('compensating');
  });

  it('ends the checkout failed, without asking the policy, when every undo goes through', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'payment_processed' });
    const policy = recordingPolicy();

    const outcome = await compensate(fakes.deps, checkout, ORDER_REFUSED, fakes.budget, policy);

    expect(policy).not.toHaveBeenCalled();
    expect(outcome).toMatchObject({
      kind: 'refused',
      checkout: { status: 'failed', compensationFrom: 'payment_processed', undoFailures: [] },
    });
  });
});

describe('advance', () => {
  const later = new Date(FIXED_NOW.getTime() + 5_000);

  it('writes a step’s recovery point without an answer, keeping the lease', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'pending', paymentId: null });
    const lease = stored(fakes).lockedUntil;
    const deps = { ...fakes.deps, clock: { now: () => new Date(later) } };

    const next = await advance(deps, checkout, {
      status: 'payment_processed',
      cause: 'charged',
      paymentId: 'txn_new',
    });

    expect(next).toEqual({
      ...checkout,
      status: 'payment_processed',
      paymentId: 'txn_new',
      updatedAt: later.toISOString(),
    });
    expect(fakes.repository.writes).toEqual([
      {
        kind: 'update',
        id: ID,
        changes: { status: 'payment_processed', paymentId: 'txn_new', cause: 'charged' },
      },
    ]);
    expect(stored(fakes).response).toBeUndefined();
    expect(stored(fakes).lockedUntil).toEqual(lease);
    expect(fakes.metrics.outcomes).toEqual([]);
  });

  it('writes a final state with the answer the injected renderer makes of its outcome, ending the lease', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, { status: 'inventory_deducted' });
    const answer = { code: 299, body: 'rendered by the HTTP layer' };
    const renderAnswer = vi.fn<RenderAnswer>(() => answer);

    const next = await advance({ ...fakes.deps, renderAnswer }, checkout, {
      status: 'completed',
      cause: 'order created',
      orderId: 'ord_new',
    });

    expect(renderAnswer).toHaveBeenCalledExactlyOnceWith({ kind: 'completed', checkout: next });
    expect(fakes.repository.writes).toEqual([
      {
        kind: 'update',
        id: ID,
        changes: {
          status: 'completed',
          orderId: 'ord_new',
          cause: 'order created',
          response: answer,
        },
      },
    ]);
    expect(stored(fakes).response).toEqual(answer);
    expect(stored(fakes).lockedUntil).toBeNull();
    expect(fakes.metrics.outcomes).toEqual([{ status: 'completed' }]);
  });

  it('keeps the fields a change leaves out, and reports a final failure with its step', async () => {
    const fakes = createSagaFakes();
    const checkout = held(fakes, {
      status: 'compensating',
      compensationFrom: 'inventory_deducted',
      failure: ORDER_REFUSED,
    });

    const next = await advance(fakes.deps, checkout, {
      status: 'failed',
      undoFailures: [],
      cause: 'undone',
    });

    expect(next).toMatchObject({
      status: 'failed',
      paymentId: 'txn_earlier',
      failure: ORDER_REFUSED,
      compensationFrom: 'inventory_deducted',
    });
    expect(fakes.metrics.outcomes).toEqual([{ status: 'failed', failedStep: 'order' }]);
  });
});
