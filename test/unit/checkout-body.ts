type Json = Record<string, unknown>;

/** A checkout request body, loosely typed so tests can break it in every way. */
export interface CheckoutBody extends Json {
  payment_method: Json;
  shipping_address: Json;
  items: Json[];
}

/**
 * The seed's example body from design §2 with a card that has not expired and a CVV found
 * nowhere else in the body, returned fresh on every call so a test can change it freely.
 */
export function validCheckoutBody(): CheckoutBody {
  return {
    payment_method: {
      type: 'credit_card',
      card_number: '4111111111111111',
      card_expiry: '12/30',
      card_cvv: '987',
    },
    customer_email: 'customer@example.com',
    shipping_address: {
      street: 'Rua das Flores',
      number: '123',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: [
      { product_id: 'prod_001', quantity: 2, price: 99.9 },
      { product_id: 'prod_002', quantity: 1, price: 149.9 },
    ],
  };
}

/** Appends the Luhn check digit to `prefix`, giving a valid card number of any length. */
export function withLuhnDigit(prefix: string): string {
  for (let check = 0; check <= 9; check++) {
    const candidate = `${prefix}${check}`;
    let sum = 0;
    for (let i = 0; i < candidate.length; i++) {
      let digit = Number(candidate[candidate.length - 1 - i]);
      if (i % 2 === 1) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
    }
    if (sum % 10 === 0) return candidate;
  }
  throw new Error(`no Luhn digit for ${prefix}`);
}
