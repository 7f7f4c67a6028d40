import { describe, expect, it } from 'vitest';
import { readCheckout } from '#lib/checkout/read-checkout.ts';
import { createSagaFakes, FIXED_NOW, recordedCheckout } from './fakes.ts';

/** `readCheckout`, the use case of `GET /checkout/{id}`: a checkout for its own caller only. */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const SHOP_A = 'api-key:shop-a';
const SHOP_B = 'api-key:shop-b';

/** Fakes holding one checkout recorded by `caller`. */
function holding(caller: string | null) {
  const fakes = createSagaFakes();
  const checkout = recordedCheckout(ID, {
    caller,
    status: 'payment_processed',
    paymentId: 'txn_0001',
  });
  fakes.repository.checkouts.set(ID, {
    checkout: structuredClone(checkout),
    lockedUntil: FIXED_NOW,
  });
  return { fakes, checkout };
}

describe('readCheckout', () => {
  it('returns the checkout to the caller that recorded it, as the repository holds it now, changing nothing', async () => {
    const { fakes, checkout } = holding(SHOP_A);

    expect(await readCheckout(fakes.deps, ID, SHOP_A)).toEqual(checkout);
    expect(fakes.log.map((c) => c.name)).toEqual(['repository.findById']);
    expect(fakes.repository.writes).toEqual([]);
  });

  it('returns undefined to any other caller, as for an id that was never recorded', async () => {
    const { fakes } = holding(SHOP_A);

    expect(await readCheckout(fakes.deps, ID, SHOP_B)).toBeUndefined();
    expect(await readCheckout(fakes.deps, ID, 'anonymous')).toBeUndefined();
    expect(await readCheckout(fakes.deps, ID, `${SHOP_A} `)).toBeUndefined();
  });

  it('returns undefined to every caller for a checkout recorded before callers were (no caller)', async () => {
    const { fakes } = holding(null);

    for (const caller of [SHOP_A, 'anonymous', '']) {
      expect(await readCheckout(fakes.deps, ID, caller)).toBeUndefined();
    }
  });

  it('returns undefined for an id that was never recorded', async () => {
    const fakes = createSagaFakes();
    expect(await readCheckout(fakes.deps, ID, SHOP_A)).toBeUndefined();
  });

  it('lets a repository error propagate', async () => {
    const fakes = createSagaFakes();
    const down = new Error('database unavailable');
    fakes.repository.failWith.findById = down;
    await expect(readCheckout(fakes.deps, ID, SHOP_A)).rejects.toBe(down);
  });
});
