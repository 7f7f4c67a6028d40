/**
 * The test values: what to send so WireMock's mappings (`wiremock/<service>/mappings`) walk one
 * path of the saga, and what the API answers. Written once, here: `docs/test-values.md` and the
 * named examples of the OpenAPI document are generated from this list, and
 * `test/integration/openapi-examples.test.ts` sends every one to the real handlers.
 *
 * The answers are those of the default payment flow, `PAYMENT_CAPTURE=after_order` (authorize,
 * deduct, create the order, capture); every value the seed's one-shot charge (`immediate`) can
 * take answers the same there, its payment step and its undo named differently (the notes of
 * `docs/test-values.md`). A Pix or boleto answers 202 `awaiting_payment` whatever the flow: its
 * test values say what to do next (`npm run pay`) and what follows.
 */
import { seedRequest } from '../../scripts/seed-request.ts';

type SeedBody = ReturnType<typeof seedRequest>;

/** A token of the payment service's client-side SDK, instead of the seed's raw card. */
interface CardTokenMethod {
  type: 'card_token';
  token: string;
}

/** A Pix or boleto, with its lifetime when the value sets one. */
type AsyncMethod =
  | { type: 'pix'; expires_in_minutes?: number }
  | { type: 'boleto'; due_in_days?: number };

export type CheckoutBody = Omit<SeedBody, 'payment_method' | 'shipping_address'> & {
  payment_method: SeedBody['payment_method'] | CardTokenMethod | AsyncMethod;
  shipping_address: SeedBody['shipping_address'] & { neighborhood?: string };
  customer_document?: string;
  customer_name?: string;
};

/** One field of the seed request set to the value a mapping reacts to. */
export interface Trigger {
  /** Where the value goes, as the table shows it: `customer_email`, `items[].product_id`. */
  field: string;
  value: string;
  /** How the tables say it, when `field` = `value` would not (Markdown). */
  shown?: string;
  set(body: CheckoutBody): void;
}

/** Where a recorded checkout stands, as its answers give it. */
export type CheckoutStatus =
  | 'completed'
  | 'failed'
  | 'requires_attention'
  | 'pending'
  | 'payment_authorized'
  | 'inventory_deducted'
  | 'order_created'
  | 'awaiting_payment'
  | 'compensating';

/**
 * An answer about a recorded checkout: the fields that tell the outcome apart (ids vary). A
 * 202 `awaiting_payment` has no `error`, and its `payment` names the method.
 */
export interface CheckoutAnswer {
  status: 200 | 202 | 409 | 422 | 503;
  body: {
    status: CheckoutStatus;
    error?: string | null;
    reason?: string;
    message?: string;
    total_amount?: string;
    payment?: { method: 'pix' | 'boleto' };
  };
}

/**
 * A refusal before anything was recorded: the cart could not be priced as sent (design
 * "Prices"). It names no checkout and no status, so its body is given whole.
 */
export interface PricingAnswer {
  status: 409 | 422 | 503;
  body: {
    error: 'price_changed' | 'unknown_product' | 'pricing_unavailable';
    message: string;
    product_id?: string;
    items?: { product_id: string; price_sent: number; current_price: number }[];
  };
}

export type ExpectedAnswer = CheckoutAnswer | PricingAnswer;

/** Whether the answer is about a recorded checkout (it carries the checkout's status). */
export const isRecorded = (answer: ExpectedAnswer): answer is CheckoutAnswer =>
  'status' in answer.body;

export interface TestValue {
  /** The key of the OpenAPI example. */
  name: string;
  /** What the value stands for, in a few words. */
  title: string;
  /** The fields changed in the seed request; none for the seed itself. */
  triggers: Trigger[];
  /** What the mock does with it. */
  mock: string;
  /**
   * The mappings that react, as `<service>/<file>` under `wiremock/<service>/mappings`: those of
   * both payment flows (an authorization's and the one-shot charge's twin).
   */
  mappings: string[];
  answer: ExpectedAnswer;
  /** What the table adds to the answer: what was undone, or that nothing was done. */
  answerNote?: string;
  /** Seconds the answer takes under `npm start` when a timeout runs out (defaults, 3 tries). */
  takesSeconds?: number;
  /** What the recovery function ends with once the lease has expired (outcome unknown only). */
  recovery?: string;
  /** A Pix or boleto: what to do after the 202 (`npm run pay`), and what the checkout then does. */
  next?: string;
}

const email = (value: string): Trigger => ({
  field: 'customer_email',
  value,
  set: (body) => {
    body.customer_email = value;
  },
});

/**
 * The seed's second item (1 × 149.90) becomes `value`; the mappings match any item. The
 * catalog prices every fault product at 149.90 too, so the price sent is the current one.
 */
const product = (value: string): Trigger => ({
  field: 'items[].product_id',
  value,
  set: (body) => {
    body.items = body.items.map((item, i) => (i === 1 ? { ...item, product_id: value } : item));
  },
});

const cardNumber = (value: string): Trigger => ({
  field: 'payment_method.card_number',
  value,
  set: (body) => {
    body.payment_method = { ...seedRequest().payment_method, card_number: value };
  },
});

/**
 * The payment method becomes a token (`{"type":"card_token","token":value}`), the trigger of
 * the card-payment values: the capture and the void carry no card and no email, so the
 * authorization marks its `transactionId` (`auth_capture_timeout_<checkout_id>`), which the
 * capture and void mappings match.
 */
const cardToken = (value: string): Trigger => ({
  field: 'payment_method.token',
  value,
  shown: `\`payment_method\` = \`{"type":"card_token","token":"${value}"}\``,
  set: (body) => {
    body.payment_method = { type: 'card_token', token: value };
  },
});

const zipCode = (value: string): Trigger => ({
  field: 'shipping_address.zip_code',
  value,
  set: (body) => {
    body.shipping_address.zip_code = value;
  },
});

/**
 * One item `prod_luxury` at 1000.01, the catalog's price (any other price sent is a 409):
 * the payment mock refuses an `amount` over 1000 (any currency).
 */
const totalOver1000: Trigger = {
  field: 'items',
  value: 'prod_luxury',
  shown: "one item `prod_luxury` at `1000.01` (the catalog's price: a total over 1000)",
  set: (body) => {
    body.items = [{ product_id: 'prod_luxury', quantity: 1, price: 1000.01 }];
  },
};

/** The payer's CPF: a Pix or boleto needs one. */
const CPF = '529.982.247-25';

/**
 * The payment method becomes a Pix (`{"type":"pix"}`, with `fields`), and the payer's CPF it
 * needs is added; the seed's currency is BRL, the only one a Pix takes.
 */
const pix = (fields: { expires_in_minutes?: number } = {}): Trigger => {
  const method = { type: 'pix' as const, ...fields };
  return {
    field: 'payment_method',
    value: 'pix',
    shown: `\`payment_method\` = \`${JSON.stringify(method)}\`, \`customer_document\` = \`${CPF}\``,
    set: (body) => {
      body.payment_method = method;
      body.customer_document = CPF;
    },
  };
};

/**
 * The payment method becomes a boleto, with what it is registered with: the payer's CPF, name
 * and neighbourhood.
 */
const boleto: Trigger = {
  field: 'payment_method',
  value: 'boleto',
  shown: `\`payment_method\` = \`{"type":"boleto"}\`, \`customer_document\` = \`${CPF}\`, \`customer_name\` = \`Ana Souza\`, \`shipping_address.neighborhood\` = \`Jardim Paulista\``,
  set: (body) => {
    body.payment_method = { type: 'boleto' };
    body.customer_document = CPF;
    body.customer_name = 'Ana Souza';
    body.shipping_address.neighborhood = 'Jardim Paulista';
  },
};

/** A Pix or boleto issued for the seed's cart: its stock held, waiting for the customer. */
const awaiting = (method: 'pix' | 'boleto'): CheckoutAnswer => ({
  status: 202,
  body: { status: 'awaiting_payment', total_amount: '349.70', payment: { method } },
});

/** The mappings of a Pix or boleto issued and paid: quote, deduction, the charge, the order. */
const issued = (method: 'pix' | 'boleto') => [
  'inventory/catalog-quote',
  'inventory/deduct-success',
  `payment/${method}-success`,
  'order/create-success',
];

/** How a checkout is read back once the webhook or the expiry moved it. */
const READ_IT = '`GET /checkout/{id}`';

/**
 * What a 503 `checkout_incomplete` says (`lib/http/checkout-presenter.ts`) to a request sent,
 * as the examples are, without an `Idempotency-Key`: sending it again would start a second
 * checkout, so it points at `GET /checkout/{id}` instead.
 */
export const INCOMPLETE_MESSAGE =
  'The checkout could not be confirmed yet; it will be completed or undone automatically. Do not send it again: without an Idempotency-Key that starts a second checkout. Read its status with GET /checkout/{id} (its checkout_id is in this answer), and send an Idempotency-Key with every checkout so that a retry is safe.';

/** What a 503 `checkout_incomplete` says to a request that carried an `Idempotency-Key`. */
export const INCOMPLETE_KEYED_MESSAGE =
  'The checkout could not be confirmed yet; it will be completed or undone automatically. Retry with the same Idempotency-Key or check its status.';

const incomplete = (status: CheckoutStatus): CheckoutAnswer => ({
  status: 503,
  body: { status, error: 'checkout_incomplete', message: INCOMPLETE_MESSAGE },
});

/** What every 409 `checkout_requires_attention` says (`lib/http/checkout-presenter.ts`). */
export const REQUIRES_ATTENTION_MESSAGE =
  'The checkout stopped part-way and a person must finish it: money may be held for it. Do not start another checkout for this purchase; GET /checkout/{id} shows when it has been settled.';

const requiresAttention: CheckoutAnswer = {
  status: 409,
  body: {
    status: 'requires_attention',
    error: 'checkout_requires_attention',
    message: REQUIRES_ATTENTION_MESSAGE,
  },
};

const refused = (error: string, reason: string, message: string): CheckoutAnswer => ({
  status: 422,
  body: { status: 'failed', error, reason, message },
});

/** What the pricing refusals say (`lib/http/checkout-presenter.ts`). */
export const PRICING_MESSAGES = {
  price_changed:
    'Prices changed since the customer saw them; show the current prices and send the checkout again (the same Idempotency-Key may be used).',
  unknown_product: (productId: string) =>
    `The catalog does not know product ${productId}; nothing was charged`,
  pricing_unavailable: 'The prices could not be confirmed; nothing was charged. Retry later.',
};

/** What the table adds to every pricing refusal. */
const NOTHING_RECORDED = 'nothing recorded or charged';

const ABANDONED = '`failed` / `abandoned`';

export const TEST_VALUES: TestValue[] = [
  {
    name: 'seed',
    title: 'Seed request',
    triggers: [],
    mock: 'success everywhere',
    mappings: [
      'inventory/catalog-quote',
      'payment/authorize-success',
      'inventory/deduct-success',
      'order/create-success',
      'payment/capture-success',
      'payment/process-success',
    ],
    answer: { status: 200, body: { status: 'completed', error: null, total_amount: '349.70' } },
    answerNote: '`total_amount` "349.70"',
  },
  {
    name: 'price-changed',
    title: 'Price changed',
    triggers: [product('prod_repriced')],
    mock: 'catalog prices `prod_repriced` at 109.90 (the request says 149.90)',
    mappings: ['inventory/catalog-quote'],
    answer: {
      status: 409,
      body: {
        error: 'price_changed',
        message: PRICING_MESSAGES.price_changed,
        items: [{ product_id: 'prod_repriced', price_sent: 149.9, current_price: 109.9 }],
      },
    },
    answerNote: `\`price_sent\` 149.9, \`current_price\` 109.9; ${NOTHING_RECORDED}`,
  },
  {
    name: 'unknown-product',
    title: 'Unknown product',
    triggers: [product('prod_discontinued')],
    mock: 'catalog 404 `unknown_product` naming it',
    mappings: ['inventory/catalog-unknown-product'],
    answer: {
      status: 422,
      body: {
        error: 'unknown_product',
        product_id: 'prod_discontinued',
        message: PRICING_MESSAGES.unknown_product('prod_discontinued'),
      },
    },
    answerNote: NOTHING_RECORDED,
  },
  {
    name: 'catalog-timeout',
    title: 'Catalog times out',
    triggers: [product('prod_catalog_timeout')],
    mock: 'catalog answers after 5 s',
    mappings: ['inventory/catalog-timeout'],
    answer: {
      status: 503,
      body: { error: 'pricing_unavailable', message: PRICING_MESSAGES.pricing_unavailable },
    },
    answerNote: `\`Retry-After\`; ${NOTHING_RECORDED}`,
    takesSeconds: 6,
  },
  {
    name: 'insufficient-funds',
    title: 'Total over 1000',
    triggers: [totalOver1000],
    mock: 'catalog prices `prod_luxury` at 1000.01; payment 422 `insufficient_funds`',
    mappings: [
      'inventory/catalog-quote',
      'payment/authorize-insufficient-funds',
      'payment/process-insufficient-funds',
    ],
    answer: refused('payment_failed', 'insufficient_funds', 'Insufficient funds'),
    answerNote: 'inventory never called',
  },
  {
    name: 'card-declined',
    title: 'Declined card',
    triggers: [cardNumber('4000000000000002')],
    mock: 'payment 422 `card_declined`',
    mappings: ['payment/authorize-card-declined', 'payment/process-card-declined'],
    answer: refused('payment_failed', 'card_declined', 'The card was declined'),
  },
  {
    name: 'authorization-declined',
    title: 'Declined card token',
    triggers: [cardToken('tok_declined')],
    mock: 'payment 422 `card_declined` to the authorization',
    mappings: ['payment/authorize-token-declined'],
    answer: refused('payment_failed', 'card_declined', 'The card was declined'),
  },
  {
    name: 'payment-error',
    title: 'Payment service error',
    triggers: [email('payment-error@example.com')],
    mock: 'payment 503, nothing authorized',
    mappings: [
      'payment/authorize-service-unavailable',
      'payment/process-service-unavailable',
      'payment/pix-service-unavailable',
      'payment/boleto-service-unavailable',
    ],
    answer: incomplete('pending'),
    recovery: `no payment: ${ABANDONED}, nothing voided`,
  },
  {
    name: 'payment-timeout',
    title: 'Payment times out (authorized)',
    triggers: [email('payment-timeout@example.com')],
    mock: 'authorizes, answers 200 after 15 s',
    mappings: [
      'payment/authorize-timeout',
      'payment/process-timeout',
      'payment/pix-timeout',
      'payment/boleto-timeout',
    ],
    answer: incomplete('pending'),
    takesSeconds: 28,
    recovery: `authorization found: voided, ${ABANDONED}`,
  },
  {
    name: 'payment-timeout-lost',
    title: 'Payment times out (not authorized)',
    triggers: [email('payment-timeout-lost@example.com')],
    mock: 'does not authorize, answers 504 after 15 s',
    mappings: ['payment/authorize-timeout-lost', 'payment/process-timeout-lost'],
    answer: incomplete('pending'),
    takesSeconds: 28,
    recovery: `no payment: ${ABANDONED}, nothing voided`,
  },
  {
    name: 'payment-reset',
    title: 'Payment connection reset',
    triggers: [email('payment-reset@example.com')],
    mock: 'authorizes, then resets the connection',
    mappings: [
      'payment/authorize-connection-reset',
      'payment/process-connection-reset',
      'payment/pix-connection-reset',
      'payment/boleto-connection-reset',
    ],
    answer: incomplete('pending'),
    recovery: `authorization found: voided, ${ABANDONED}`,
  },
  {
    name: 'out-of-stock',
    title: 'Out of stock',
    triggers: [product('prod_out_of_stock')],
    mock: 'inventory 409 `out_of_stock`',
    mappings: ['inventory/deduct-out-of-stock'],
    answer: refused(
      'inventory_failed',
      'out_of_stock',
      'Product prod_out_of_stock is out of stock',
    ),
    answerNote: 'authorization voided',
  },
  {
    name: 'inventory-error',
    title: 'Inventory service error',
    triggers: [product('prod_inventory_error')],
    mock: 'inventory 500, nothing deducted',
    mappings: ['inventory/deduct-internal-error'],
    answer: incomplete('payment_authorized'),
    recovery: `no deduction: voided, ${ABANDONED}`,
  },
  {
    name: 'inventory-timeout',
    title: 'Inventory times out (deducted)',
    triggers: [product('prod_inventory_timeout')],
    mock: 'deducts, answers after 8 s',
    mappings: ['inventory/deduct-timeout'],
    answer: incomplete('payment_authorized'),
    takesSeconds: 16,
    recovery: `deduction found: released, voided, ${ABANDONED}`,
  },
  {
    name: 'inventory-reset',
    title: 'Inventory connection reset',
    triggers: [product('prod_inventory_reset')],
    mock: 'inventory resets the connection',
    mappings: ['inventory/deduct-connection-reset'],
    answer: incomplete('payment_authorized'),
    recovery: `deduction found: released, voided, ${ABANDONED}`,
  },
  {
    name: 'invalid-address',
    title: 'Order refused (invalid address)',
    triggers: [zipCode('00000-000')],
    mock: 'order 422 `invalid_address`',
    mappings: ['order/create-invalid-address'],
    answer: refused(
      'order_failed',
      'invalid_address',
      'The shipping address could not be validated',
    ),
    answerNote: 'stock released, authorization voided',
  },
  {
    name: 'order-error',
    title: 'Order service error',
    triggers: [email('order-error@example.com')],
    mock: 'order 503, no order',
    mappings: ['order/create-service-unavailable'],
    answer: incomplete('inventory_deducted'),
    recovery: `no order: released, voided, ${ABANDONED}`,
  },
  {
    name: 'order-timeout',
    title: 'Order times out (created)',
    triggers: [email('order-timeout@example.com')],
    mock: 'creates the order, answers after 8 s',
    mappings: ['order/create-timeout'],
    answer: incomplete('inventory_deducted'),
    takesSeconds: 16,
    recovery: 'order found: captured, `completed`, nothing undone',
  },
  {
    name: 'order-reset',
    title: 'Order connection reset',
    triggers: [email('order-reset@example.com')],
    mock: 'order resets the connection',
    mappings: ['order/create-connection-reset'],
    answer: incomplete('inventory_deducted'),
    recovery: 'order found: captured, `completed`, nothing undone',
  },
  {
    name: 'capture-timeout',
    title: 'Capture times out (captured)',
    triggers: [cardToken('tok_capture_timeout')],
    mock: 'authorizes as `auth_capture_timeout_<checkout_id>`, whose capture captures and answers 200 after 15 s',
    mappings: ['payment/authorize-capture-timeout-transaction', 'payment/capture-timeout'],
    answer: incomplete('order_created'),
    answerNote: 'the order exists: nothing is undone',
    takesSeconds: 28,
    recovery: 'capture found: `completed`',
  },
  {
    name: 'capture-refused',
    title: 'Capture refused (authorization expired)',
    triggers: [cardToken('tok_capture_refused')],
    mock: 'authorizes as `auth_capture_refused_<checkout_id>`, whose capture answers 422 `authorization_expired`',
    mappings: ['payment/authorize-capture-refused-transaction', 'payment/capture-refused'],
    answer: requiresAttention,
    answerNote:
      'the order exists and nothing is undone: a person settles the payment (`capture_payment`)',
  },
  {
    name: 'refund-fails',
    title: 'Void fails after out of stock (email)',
    triggers: [email('refund-error@example.com'), product('prod_out_of_stock')],
    mock: 'authorizes as `auth_void_fails_<checkout_id>`; inventory 409; the void answers 500',
    mappings: [
      'payment/authorize-refund-error-transaction',
      'payment/process-refund-error-transaction',
      'inventory/deduct-out-of-stock',
      'payment/void-internal-error',
      'payment/refund-internal-error',
    ],
    answer: incomplete('compensating'),
    answerNote: 'the void did not go through',
    recovery:
      'the void is repeated each run; after `RECOVERY_MAX_ATTEMPTS` tries `requires_attention` (`void_payment`)',
  },
  {
    name: 'void-fails',
    title: 'Void fails after out of stock (token)',
    triggers: [cardToken('tok_void_fails'), product('prod_out_of_stock')],
    mock: 'authorizes as `auth_void_fails_<checkout_id>`; inventory 409; the void answers 500',
    mappings: [
      'payment/authorize-void-fails-transaction',
      'inventory/deduct-out-of-stock',
      'payment/void-internal-error',
    ],
    answer: incomplete('compensating'),
    answerNote: 'the void did not go through',
    recovery:
      'the void is repeated each run; after `RECOVERY_MAX_ATTEMPTS` tries `requires_attention` (`void_payment`)',
  },
  {
    name: 'release-fails',
    title: 'Release fails after an order refusal',
    triggers: [product('prod_release_fails'), zipCode('00000-000')],
    mock: 'deducts; order 422; the release answers 500',
    mappings: ['order/create-invalid-address', 'inventory/release-internal-error'],
    answer: incomplete('compensating'),
    answerNote: 'the release did not go through',
    recovery:
      'the release is repeated each run; after `RECOVERY_MAX_ATTEMPTS` tries `requires_attention` (`release_inventory`)',
  },
  {
    name: 'pix',
    title: 'Pix paid',
    triggers: [pix()],
    mock: 'deducts; issues `pix_<checkout_id>`, pending, with a fixed "copia e cola" code',
    mappings: issued('pix'),
    answer: awaiting('pix'),
    answerNote: '`payment` with `qr_code` and `expires_at` (30 min, `PIX_EXPIRY_MINUTES`)',
    next: `\`npm run pay -- <checkout_id>\`: the signed webhook is taken and the order created; ${READ_IT} shows \`completed\``,
  },
  {
    name: 'pix-expired',
    title: 'Pix expired',
    triggers: [pix({ expires_in_minutes: 5 })],
    mock: 'as `pix`; nothing ever pays it',
    mappings: [...issued('pix'), 'payment/cancel-success', 'inventory/release-success'],
    answer: awaiting('pix'),
    answerNote: '`expires_at` 5 min later',
    next: `never paid: 120 s after \`expires_at\` the Pix is cancelled, the stock released, and ${READ_IT} shows \`expired\`; the same Idempotency-Key then answers 422 \`payment_expired\``,
  },
  {
    name: 'boleto',
    title: 'Boleto paid late',
    triggers: [boleto],
    mock: 'deducts; issues `bol_<checkout_id>`, pending, its barcode and digitable line computed from the amount and due date',
    mappings: [...issued('boleto'), 'payment/cancel-success', 'inventory/release-success'],
    answer: awaiting('boleto'),
    answerNote:
      '`payment` with `barcode`, `digitable_line`, `url`, `due_date` (3 days on, a business day) and `expires_at`',
    next: `left unpaid it expires at \`expires_at\` (the end of the \`BOLETO_GRACE_DAYS\` business days after \`due_date\`: days away, so start \`npm start\` with \`BOLETO_GRACE_DAYS=0\` and wait for the end of \`due_date\` in São Paulo), then it is cancelled, stock released, \`expired\`. Then \`npm run pay -- <checkout_id> --late\`: the stock is deducted again and the order created; ${READ_IT} shows \`completed\``,
  },
  {
    name: 'forged-webhook',
    title: 'A forged webhook',
    triggers: [pix()],
    mock: 'as `pix`',
    mappings: issued('pix'),
    answer: awaiting('pix'),
    next: `\`npm run pay -- <checkout_id> --forged\`: signed with another secret, the webhook is refused 401 and nothing changes; ${READ_IT} still shows \`awaiting_payment\``,
  },
];

/** The request body of a test value: the seed request with its triggers set. A fresh copy. */
export function requestOf(value: TestValue): CheckoutBody {
  const body = seedRequest();
  for (const trigger of value.triggers) trigger.set(body);
  return body;
}

/**
 * The outcome in a few words: `completed`, `payment_failed / card_declined`,
 * `checkout_incomplete (pending)`, `awaiting_payment (pix)`, `price_changed`; `code` marks up
 * each value (Markdown's backticks).
 */
export function describeOutcome(answer: ExpectedAnswer, code = (s: string) => s) {
  if (!isRecorded(answer)) return code(answer.body.error);
  const { body } = answer;
  if (body.payment) return `${code(body.status)} (${code(body.payment.method)})`;
  if (!body.error) return code(body.status);
  if (body.reason) return `${code(body.error)} / ${code(body.reason)}`;
  return `${code(body.error)} (${code(body.status)})`;
}

/** The answer in a few words: `422 payment_failed / card_declined`. */
export const describeAnswer = (answer: ExpectedAnswer, code = (s: string) => s) =>
  `${answer.status} ${describeOutcome(answer, code)}`;

/** A trigger as the tables show it: `` `customer_email` = `order-error@example.com` ``. */
export const showTrigger = (trigger: Trigger) =>
  trigger.shown ?? `\`${trigger.field}\` = \`${trigger.value}\``;

/** The answer as the tables give it, with what was undone and how long it takes (Markdown). */
export const answerText = (value: TestValue) =>
  [
    describeAnswer(value.answer, (s) => `\`${s}\``),
    value.answerNote,
    value.takesSeconds && `after the timeouts and retries: ~${value.takesSeconds} s`,
  ]
    .filter(Boolean)
    .join(', ');
