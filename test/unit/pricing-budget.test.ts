import { describe, expect, it } from 'vitest';
import type { Cart } from '#lib/checkout/pricing.ts';
import { processCheckout } from '#lib/checkout/process-checkout.ts';
import { ServiceOutcomeUnknownError } from '#lib/checkout/service-errors.ts';
import { presentOutcome } from '#lib/http/checkout-presenter.ts';
import { createSagaFakes, sampleCart, sampleSecrets } from './fakes.ts';

/**
 * Issue 20, found by an adversarial review: a quote whose answer is used after the work budget has ended. The quote
 * can take most of the budget (CATALOG_TIMEOUT_MS 2000 × 3 tries + backoff); its answer is
 * still used to record the checkout, which then cannot run (every call is refused by the spent
 * deadline) and is answered 503 checkout_incomplete ("outcome unknown") although nothing was
 * sent, instead of 503 pricing_unavailable with nothing written.
 */
describe('a quote answered as the work budget ends', () => {
  it('records nothing: the cart is answered pricing_unavailable', async () => {
    const fakes = createSagaFakes();
    const quote = fakes.catalog.quote.bind(fakes.catalog);
    fakes.catalog.quote = async (cart: Cart) => {
      const prices = await quote(cart);
      fakes.deadline.abort(); // the budget runs out as the (slow) answer is read
      // What the real payment client does with a spent deadline: sends nothing, "unknown".
      fakes.payment.failWith.charge = new ServiceOutcomeUnknownError(
        'payment',
        'deadline',
        'The payment service did not answer in time',
      );
      return prices;
    };

    const outcome = await processCheckout(
      fakes.deps,
      { cart: sampleCart(), secrets: sampleSecrets() },
      fakes.budget,
    );

    const answer = presentOutcome(outcome);
    expect({
      status: answer.statusCode,
      error: JSON.parse(answer.body).error,
      writes: fakes.repository.writes.length,
    }).toEqual({ status: 503, error: 'pricing_unavailable', writes: 0 });
  });
});
