/**
 * The seed README's example request, with a card expiry still in the future: the body the
 * benchmark, the soak and the integration tests send. A fresh copy on every call.
 */
export function seedRequest() {
  return {
    payment_method: {
      type: 'credit_card',
      card_number: '4111111111111111',
      card_expiry: '12/30',
      card_cvv: '123',
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
