import { describe, expect, it } from 'vitest';
import { callerPricing } from '#lib/checkout/pricing.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { createSagaFakes, sampleCart, sampleSecrets, storedRow } from './fakes.ts';

/**
 * Review of issue 20, design §2: "A same-key retry of a recorded checkout gets its stored answer
 * or resumes with its stored prices, whatever the catalog says now: when a quote refuses or
 * fails and a key was sent, the key's holder answers first", and "every policy follows the
 * row's, never the current setting". `callerPricing` refuses by throwing a ValidationError,
 * which `price()` does not catch, so the holder is never read.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const claim = { key: 'order-7', caller: 'api-key:shop-a', requestHash: 'hash', ttlHours: 24 };

describe('a same-key retry after PRICING moved from catalog to caller', () => {
  it('gets its stored answer, not a 400 that says the (already charged) request was invalid', async () => {
    const fakes = createSagaFakes();
    const cart = sampleCart();
    for (const item of cart.items) delete item.priceSeenCents; // valid under PRICING=catalog
    const first = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets(), idempotency: claim },
      fakes.budget,
    );
    expect(first).toMatchObject({ kind: 'completed' });
    const stored = storedRow(fakes, ID).response;

    fakes.deps.pricing = callerPricing; // the deployment now runs PRICING=caller
    const retry = await processCheckout(
      fakes.deps,
      { cart, secrets: sampleSecrets(), idempotency: claim },
      fakes.budget,
    ).catch((error: unknown) => ({ thrown: (error as Error).name }));

    expect(retry).toEqual({ kind: 'replay', stored });
  });
});
