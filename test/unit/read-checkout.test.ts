import { describe, expect, it } from 'vitest';
import { readCheckout } from '#lib/checkout/read-checkout.ts';
import { createSagaFakes, FIXED_NOW, recordedCheckout } from './fakes.ts';

/** `readCheckout`, the use case of `GET /checkout/{id}`. */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

describe('readCheckout', () => {
  it('returns the checkout as the repository holds it now, changing nothing', async () => {
    const fakes = createSagaFakes();
    const checkout = recordedCheckout(ID, { status: 'payment_processed', paymentId: 'txn_0001' });
    fakes.repository.checkouts.set(ID, {
      checkout: structuredClone(checkout),
      lockedUntil: FIXED_NOW,
    });

    expect(await readCheckout(fakes.deps, ID)).toEqual(checkout);
    expect(fakes.log.map((c) => c.name)).toEqual(['repository.findById']);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('returns undefined for an id that was never recorded', async () => {
    const fakes = createSagaFakes();
    expect(await readCheckout(fakes.deps, ID)).toBeUndefined();
  });

  it('lets a repository error propagate', async () => {
    const fakes = createSagaFakes();
    const down = new Error('database unavailable');
    fakes.repository.failWith.findById = down;
    await expect(readCheckout(fakes.deps, ID)).rejects.toBe(down);
  });
});
