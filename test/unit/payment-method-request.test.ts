import { describe, expect, it } from 'vitest';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { ValidationError } from '#lib/errors.ts';
import { type CheckoutBody, validCheckoutBody } from './checkout-body.ts';

/**
 * `payment_method` is a union on `type` (design §2): the seed's raw card, a token of the
 * payment service's SDK, a Pix or a boleto; installments (cards, BRL only, 1–12) and the payer's
 * CPF/CNPJ ride along, and a boleto's payer name. What goes to the payment service alone (the
 * card, the token, the document, the name) never reaches the cart that is recorded.
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

/** A Pix or boleto request: BRL (the default), with the payer's CPF, name and neighbourhood. */
const asyncBody = (
  payment: Record<string, unknown>,
  change: (body: CheckoutBody) => void = () => {},
): CheckoutBody => {
  const body = validCheckoutBody();
  body.payment_method = payment;
  body.customer_document = '529.982.247-25';
  body.customer_name = 'Ana Souza';
  body.shipping_address.neighborhood = 'Jardim Paulista';
  change(body);
  return body;
};

describe('pix', () => {
  it('is a cart paid later in one go, its lifetime as sent, and {type: pix} for the payment service', () => {
    const { cart, secrets } = parseCheckoutRequest(
      asyncBody({ type: 'pix', expires_in_minutes: 15 }),
    );
    expect(cart).toMatchObject({
      method: 'pix',
      card: null,
      installments: 1,
      asyncTerms: { method: 'pix', expiresInMinutes: 15 },
    });
    expect(secrets).toEqual({ instrument: { type: 'pix' }, customerDocument: '52998224725' });
  });

  it('leaves a lifetime not sent out: the setting gives it where the checkout is recorded', () => {
    const { cart } = parseCheckoutRequest(asyncBody({ type: 'pix' }));
    expect(cart.asyncTerms).toEqual({ method: 'pix' });
  });

  it('is BRL only, said at the payment type', () => {
    const body = asyncBody({ type: 'pix' }, (b) => {
      b.currency = 'USD';
    });
    expect(detailsOf(body)).toEqual([
      { path: 'payment_method.type', message: 'pix is offered in BRL only; in USD pay by card' },
    ]);
  });

  it('needs the payer’s CPF or CNPJ', () => {
    const body = asyncBody({ type: 'pix' }, (b) => {
      delete b.customer_document;
    });
    expect(detailsOf(body)).toEqual([{ path: 'customer_document', message: 'required for pix' }]);
  });

  it('says an invalid CPF is invalid, not that it is missing', () => {
    const body = asyncBody({ type: 'pix' }, (b) => {
      b.customer_document = '529.982.247-24';
    });
    expect(detailsOf(body).map((d) => d.path)).toEqual(['customer_document']);
    expect(detailsOf(body)[0]?.message).toContain('check digits');
  });

  it('takes no name or neighbourhood: neither is needed, and the name never reaches the cart', () => {
    const { cart, secrets } = parseCheckoutRequest(asyncBody({ type: 'pix' }));
    expect(JSON.stringify({ cart, secrets })).not.toContain('Ana Souza');
  });

  it('refuses a field a Pix does not have, naming it', () => {
    expect(detailsOf(asyncBody({ type: 'pix', installments: 1 }))).toEqual([
      { path: 'payment_method.installments', message: 'unknown field' },
    ]);
    expect(detailsOf(asyncBody({ type: 'pix', token: 'tok_visa' }))).toEqual([
      { path: 'payment_method.token', message: 'unknown field' },
    ]);
  });
});

describe('boleto', () => {
  it('is a cart paid later in one go; its payer’s name goes to the payment service only', () => {
    const { cart, secrets } = parseCheckoutRequest(asyncBody({ type: 'boleto', due_in_days: 5 }));
    expect(cart).toMatchObject({
      method: 'boleto',
      card: null,
      installments: 1,
      asyncTerms: { method: 'boleto', dueInDays: 5 },
    });
    expect(cart.shippingAddress.neighborhood).toBe('Jardim Paulista');
    expect(secrets).toEqual({
      instrument: { type: 'boleto', payerName: 'Ana Souza' },
      customerDocument: '52998224725',
    });
    expect(JSON.stringify(cart)).not.toContain('Ana Souza');
  });

  it('leaves a due date not sent out', () => {
    expect(parseCheckoutRequest(asyncBody({ type: 'boleto' })).cart.asyncTerms).toEqual({
      method: 'boleto',
    });
  });

  it('needs the name and neighbourhood it is registered with, both named', () => {
    const body = asyncBody({ type: 'boleto' }, (b) => {
      delete b.customer_name;
      delete b.shipping_address.neighborhood;
    });
    expect(detailsOf(body)).toEqual([
      { path: 'customer_name', message: 'required for boleto' },
      { path: 'shipping_address.neighborhood', message: 'required for boleto' },
    ]);
  });

  it('takes a name of at most 120 characters (other methods take 200)', () => {
    const body = asyncBody({ type: 'boleto' }, (b) => {
      b.customer_name = 'A'.repeat(121);
    });
    expect(detailsOf(body)).toEqual([
      { path: 'customer_name', message: 'customer_name must be at most 120 characters for boleto' },
    ]);
  });

  it('says everything wrong at once: currency, document, name and neighbourhood', () => {
    const body = asyncBody({ type: 'boleto' }, (b) => {
      b.currency = 'EUR';
      delete b.customer_document;
      delete b.customer_name;
      delete b.shipping_address.neighborhood;
    });
    expect(detailsOf(body)).toEqual([
      { path: 'payment_method.type', message: 'boleto is offered in BRL only; in EUR pay by card' },
      { path: 'customer_document', message: 'required for boleto' },
      { path: 'customer_name', message: 'required for boleto' },
      { path: 'shipping_address.neighborhood', message: 'required for boleto' },
    ]);
  });

  it('refuses a field a boleto does not have, naming it', () => {
    expect(detailsOf(asyncBody({ type: 'boleto', expires_in_minutes: 30 }))).toEqual([
      { path: 'payment_method.expires_in_minutes', message: 'unknown field' },
    ]);
  });
});

describe('a card request', () => {
  it('keeps taking a name and a neighbourhood it does not need, and keeps the name out of the cart', () => {
    const body = validCheckoutBody();
    body.customer_name = 'Ana Souza';
    body.shipping_address.neighborhood = 'Jardim Paulista';
    const { cart, secrets } = parseCheckoutRequest(body);
    expect(cart).toMatchObject({ method: 'credit_card', asyncTerms: null });
    expect(JSON.stringify({ cart, secrets })).not.toContain('Ana Souza');
  });
});
