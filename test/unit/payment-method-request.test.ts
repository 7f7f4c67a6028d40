import { describe, expect, it } from 'vitest';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { ValidationError } from '#lib/errors.ts';
import { type CheckoutBody, validCheckoutBody } from './checkout-body.ts';

/**
 * `payment_method` is a union on `type` (design §2): the seed's raw card, or a token of the
 * payment service's SDK; installments (BRL only, 1–12) and the payer's CPF/CNPJ ride along.
 * What goes to the payment service alone (the card, the token, the document) never reaches the
 * cart that is recorded.
 */

function detailsOf(body: CheckoutBody): Array<{ path: string; message: string }> {
  try {
    parseCheckoutRequest(body);
  } catch (error) {
    if (error instanceof ValidationError) return error.details;
    throw error;
  }
  throw new Error('expected a validation error');
}

const tokenBody = (payment: Record<string, unknown> = {}): CheckoutBody => ({
  ...validCheckoutBody(),
  payment_method: { type: 'card_token', token: 'tok_visa', ...payment },
});

describe('payment_method', () => {
  it('takes a card token: no card is known until the authorization, and the token goes to the payment service only', () => {
    const { cart, secrets } = parseCheckoutRequest(tokenBody());
    expect(cart).toMatchObject({ method: 'card_token', card: null, installments: 1 });
    expect(secrets.instrument).toEqual({ type: 'card_token', token: 'tok_visa' });
    expect(JSON.stringify(cart)).not.toContain('tok_visa');
  });

  it('keeps taking the seed raw card, kept as brand and last 4 only', () => {
    const { cart } = parseCheckoutRequest(validCheckoutBody());
    expect(cart).toMatchObject({ method: 'credit_card', card: { brand: 'visa', last4: '1111' } });
  });

  it('refuses a token with card fields, a raw card with a token, and an unknown type, naming the field', () => {
    expect(detailsOf(tokenBody({ card_number: '4111111111111111' }))).toEqual([
      { path: 'payment_method.card_number', message: 'unknown field' },
    ]);
    expect(detailsOf(tokenBody({ token: 'has spaces' }))[0]?.path).toBe('payment_method.token');
    const unknownType = { ...validCheckoutBody(), payment_method: { type: 'cash' } };
    expect(detailsOf(unknownType)[0]?.path).toBe('payment_method.type');
  });
});

describe('installments', () => {
  it('are 1 to 12, whole', () => {
    for (const installments of [0, 13, 2.5]) {
      expect(detailsOf(tokenBody({ installments }))[0]?.path).toBe('payment_method.installments');
    }
    expect(parseCheckoutRequest(tokenBody({ installments: 12 })).cart.installments).toBe(12);
  });

  it('are BRL only: more than one in another currency is refused', () => {
    const body = { ...tokenBody({ installments: 3 }), currency: 'USD' };
    expect(detailsOf(body)).toEqual([
      {
        path: 'payment_method.installments',
        message: 'installments are offered in BRL only; in USD pay in 1',
      },
    ]);
  });
});

describe('customer_document', () => {
  it('is normalised and handed to the payment service only', () => {
    const body = { ...tokenBody(), customer_document: '529.982.247-25' };
    const { cart, secrets } = parseCheckoutRequest(body);
    expect(secrets.customerDocument).toBe('52998224725');
    expect(JSON.stringify(cart)).not.toContain('52998224725');
  });

  it('takes an alphanumeric CNPJ', () => {
    const body = { ...tokenBody(), customer_document: '12.abc.345/01de-35' };
    expect(parseCheckoutRequest(body).secrets.customerDocument).toBe('12ABC34501DE35');
  });

  it.each([
    ['111.111.111-11', 'all digits the same'],
    ['529.982.247-24', 'check digits do not match'],
    ['', 'CPF'],
  ])('refuses %j without repeating it in the message', (document, says) => {
    const [detail] = detailsOf({ ...tokenBody(), customer_document: document });
    expect(detail?.path).toBe('customer_document');
    expect(detail?.message).toContain(says);
    if (document) expect(detail?.message).not.toContain(document);
  });
});
