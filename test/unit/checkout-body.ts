import { seedRequest } from '../../scripts/seed-request.ts';

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
  const body = seedRequest();
  return { ...body, payment_method: { ...body.payment_method, card_cvv: '987' } };
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
