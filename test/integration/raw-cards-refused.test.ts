import { describe, expect, it } from 'vitest';

// The prod stage's setting: read when the app starts, so set before the handlers load.
process.env.ACCEPT_RAW_CARDS = 'false';
process.env.PAYMENT_CAPTURE = 'after_order';
const { newMarker, seedRequest, useLocalApi } = await import('../support/local-api.ts');

/**
 * `ACCEPT_RAW_CARDS=false` (the prod stage): a card number never enters the deployment, so it
 * stays out of PCI DSS scope; a token made by the payment service's SDK is taken.
 */

const api = useLocalApi();

describe('ACCEPT_RAW_CARDS=false', () => {
  it.each(['credit_card', 'debit_card'])(
    'refuses a raw %s with 400 raw_card_not_accepted, recording and calling nothing',
    async (type) => {
      const marker = newMarker();
      const body = seedRequest(marker);
      const res = await api.postCheckout(
        { ...body, payment_method: { ...body.payment_method, type } },
        { 'Idempotency-Key': marker },
      );
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: 'raw_card_not_accepted' });
      expect(res.text).not.toContain('4111111111111111');
      await api.expectNothingHappened(marker);
    },
  );

  it('takes a card token', async () => {
    const body = seedRequest();
    const res = await api.postCheckout({
      ...body,
      payment_method: { type: 'card_token', token: 'tok_visa' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: 'completed', total_amount: '349.70' });
  });
});
