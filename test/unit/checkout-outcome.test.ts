import { describe, expect, it } from 'vitest';
import type { CheckoutFailure } from '#lib/checkout/checkout.ts';
import { finished } from '#lib/checkout/checkout-outcome.ts';
import { recordedCheckout } from './fakes.ts';

/** `finished`: the outcome a checkout in a final state stands for. */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';

describe('finished', () => {
  it('reports a completed checkout as completed', () => {
    const checkout = recordedCheckout(ID, { status: 'completed', orderId: 'ord_0001' });
    expect(finished(checkout)).toEqual({ kind: 'completed', checkout });
  });

  it.each([
    { status: 'failed', kind: 'refused' },
    { status: 'failed', kind: 'unavailable' },
    { status: 'requires_attention', kind: 'refused' },
    { status: 'requires_attention', kind: 'unavailable' },
  ] as const)('reports a $status checkout by its failure’s kind ($kind)', ({ status, kind }) => {
    const failure: CheckoutFailure = { step: 'inventory', kind, reason: 'r', message: 'm' };
    const checkout = recordedCheckout(ID, { status, failure });
    expect(finished(checkout)).toEqual({ kind, checkout, failure });
  });

  it.each(['failed', 'requires_attention'] as const)(
    'never reports a %s checkout without a recorded failure as completed',
    (status) => {
      const checkout = recordedCheckout(ID, { status, failure: null });
      expect(finished(checkout)).toMatchObject({
        kind: 'unavailable',
        failure: { kind: 'unavailable', reason: 'unknown' },
      });
    },
  );
});
