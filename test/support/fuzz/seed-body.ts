import { serialize } from './json-text.ts';
import { PLACEHOLDER } from './markers.ts';

/** A Luhn-valid card number used nowhere else, so an answer that echoes it is caught. */
export const FUZZ_CARD = '4556737586899855';

/** The valid body every mutation starts from; the placeholder marks email, street and items. */
export function seedBody(): Record<string, unknown> {
  return {
    payment_method: {
      type: 'credit_card',
      card_number: FUZZ_CARD,
      card_expiry: '12/30',
      card_cvv: '123',
    },
    customer_email: `fuzz+${PLACEHOLDER}@example.com`,
    shipping_address: {
      street: `Rua ${PLACEHOLDER}`,
      number: '123',
      complement: 'Apto 1',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: [
      // The catalog's products, tagged (`prod_001_<tag>` is priced as prod_001), at its prices.
      { product_id: `prod_001_${PLACEHOLDER}`, quantity: 2, price: 99.9 },
      { product_id: `prod_002_${PLACEHOLDER}`, quantity: 1, price: 149.9 },
    ],
    currency: 'BRL',
  };
}

/** The seed body as JSON text, for the generators that edit text rather than values. */
export const SEED_TEXT = serialize(seedBody());
