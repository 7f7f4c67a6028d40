import { z } from 'zod';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';
import { SERVICE_NAME } from '#lib/observability/constants.ts';
import { type Example, requestExamples, responseExamples } from './openapi-examples.ts';
import {
  awaitingPaymentResponseSchema,
  checkoutViewSchema,
  completedResponseSchema,
  errorResponseSchema,
  expiredResponseSchema,
  failedResponseSchema,
  healthResponseSchema,
  incompleteResponseSchema,
  inProgressResponseSchema,
  priceChangedResponseSchema,
  pricingUnavailableResponseSchema,
  requiresAttentionResponseSchema,
  serviceUnavailableResponseSchema,
  unknownProductResponseSchema,
} from './response-schemas.ts';

const schema = (s: z.ZodType) => z.toJSONSchema(s, { target: 'openapi-3.0' });
const ref = (kind: 'schemas' | 'headers' | 'parameters', name: string) => ({
  $ref: `#/components/${kind}/${name}`,
});

type SchemaName = keyof ReturnType<typeof schemas>;
type HeaderName = keyof typeof HEADERS;

/**
 * One answer: its schema (`oneOf` when two shapes share the status), its named examples and
 * the headers it may carry.
 */
function answer(
  description: string,
  shapes: SchemaName[],
  examples: Record<string, Example>,
  headers: HeaderName[] = [],
) {
  const [only] = shapes;
  return {
    description,
    ...(headers.length > 0 && {
      headers: Object.fromEntries(headers.map((name) => [name, ref('headers', name)])),
    }),
    content: {
      'application/json': {
        schema:
          shapes.length === 1 && only
            ? ref('schemas', only)
            : { oneOf: shapes.map((s) => ref('schemas', s)) },
        examples,
      },
    },
  };
}

/** What an item's `price` means now that the amount charged is the catalog's (design "Prices"). */
const PRICE_DESCRIPTION =
  "The price the customer saw, in the currency's major unit (at most its decimals). Optional: the amount charged is the catalog's. When sent, it must be the catalog's current price, or the answer is 409 `price_changed` with the current prices and nothing is charged. Required, and charged as sent, only where the service runs with `PRICING=caller` (a shop backend that prices carts itself).";

interface Annotation {
  description: string;
  /** Left out for a field with `const` or `enum`: its first value is the example. */
  example?: unknown;
}

/**
 * The description and example of every field of the request, by its dotted path (`[]` for an
 * array's items; a field of a `payment_method` member under `payment_method`). The zod schema
 * says what is valid; this says what it means. A field missing here fails the build of the
 * document, so a new field cannot go undocumented.
 */
const REQUEST_FIELDS: Record<string, Annotation> = {
  payment_method: {
    description:
      "How the customer pays, told apart by `type`: `card_token` (recommended for cards: a token the payment service's client-side SDK made, so the card never passes through this service), `credit_card` / `debit_card` with the raw card (puts the deployment in PCI DSS scope; refused where `ACCEPT_RAW_CARDS=false`), or `pix` / `boleto`, paid later by the customer (BRL only, with `customer_document`; a boleto also with `customer_name` and `shipping_address.neighborhood`): the answer is 202 `awaiting_payment` with what to pay with",
    example: { type: 'card_token', token: 'tok_visa' },
  },
  'payment_method.type': { description: 'The kind of payment method' },
  'payment_method.card_number': {
    description: 'The card number: 12 to 19 digits, no spaces or dashes, passing the Luhn check',
    example: '4111111111111111',
  },
  'payment_method.card_expiry': {
    description: "The card's expiry, MM/YY; a card is good through the end of that month",
    example: '12/30',
  },
  'payment_method.card_cvv': {
    description: "The card's security code: 3 digits, or 4 (American Express)",
    example: '123',
  },
  'payment_method.token': {
    description:
      "The token the payment service's client-side SDK made in the customer's browser or app: 1 to 255 printable characters, no spaces",
    example: 'tok_visa',
  },
  'payment_method.expires_in_minutes': {
    description:
      'A Pix: how long the customer has to pay it, 5 to 1440 minutes (`PIX_EXPIRY_MINUTES`, 30, when left out). Unpaid by then, the checkout ends `expired` and its stock is released',
    example: 30,
  },
  'payment_method.due_in_days': {
    description:
      'A boleto: its due date, 1 to 30 days from today in São Paulo, moved to the next business day (`BOLETO_DUE_DAYS`, 3, when left out). Banks take it after the due date, with their fine, for `BOLETO_GRACE_DAYS` (3) business days; unpaid by the end of the last one, the checkout ends `expired`',
    example: 3,
  },
  'payment_method.installments': {
    description:
      'Cards only. Parcelamento, in BRL only: 1 to 12 interest-free installments (1 by default), each at least `MIN_INSTALLMENT_AMOUNT` (5.00) of the total charged; a debit card takes 1',
    example: 3,
  },
  customer_email: {
    description: "The customer's email address (at most 254 characters)",
    example: 'customer@example.com',
  },
  customer_name: {
    description:
      "The payer's name (1 to 200 characters). Required for a boleto, which is registered in it (at most 120 characters there); sent to the payment service only, never stored, shown or logged. Other methods take it and ignore it",
    example: 'Ana Souza',
  },
  customer_document: {
    description:
      "The payer's CPF (11 digits) or CNPJ (14 characters, alphanumeric since July 2026), punctuation allowed, check digits verified; sent to the payment service and never stored. Required for a Pix or boleto",
    example: '529.982.247-25',
  },
  shipping_address: {
    description: 'Where the order is shipped',
    example: {
      street: 'Rua das Flores',
      number: '123',
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
  },
  'shipping_address.street': {
    description: 'The street (1 to 200 characters)',
    example: 'Rua das Flores',
  },
  'shipping_address.number': {
    description: 'The house or building number, as text (1 to 20 characters: `123`, `s/n`)',
    example: '123',
  },
  'shipping_address.complement': {
    description: 'Apartment, floor, block… (optional, 1 to 100 characters)',
    example: 'Apto 42',
  },
  'shipping_address.neighborhood': {
    description:
      "The neighbourhood (bairro), 1 to 100 characters. Required for a boleto, which is registered with the payer's address; optional otherwise",
    example: 'Jardim Paulista',
  },
  'shipping_address.city': { description: 'The city (1 to 100 characters)', example: 'São Paulo' },
  'shipping_address.state': {
    description: 'The state or region (1 to 50 characters)',
    example: 'SP',
  },
  'shipping_address.zip_code': {
    description: 'The postal code (CEP in Brazil), as text (1 to 20 characters)',
    example: '01234-567',
  },
  items: {
    description: 'What is bought: 1 to 100 lines',
    example: [
      { product_id: 'prod_001', quantity: 2, price: 99.9 },
      { product_id: 'prod_002', quantity: 1, price: 149.9 },
    ],
  },
  'items[]': {
    description: 'One line of the cart',
    example: { product_id: 'prod_001', quantity: 2, price: 99.9 },
  },
  'items[].product_id': {
    description: "The product's id in the catalog (1 to 64 characters)",
    example: 'prod_001',
  },
  'items[].quantity': { description: 'How many: a whole number from 1 to 999', example: 2 },
  'items[].price': { description: PRICE_DESCRIPTION, example: 99.9 },
  currency: {
    description:
      'The ISO 4217 code of the currency of the prices and the charge; BRL when left out. Prices may have at most its decimals (none in JPY, 3 in KWD). A Pix or boleto is BRL only (another currency is refused at `payment_method.type`)',
    example: 'BRL',
  },
};

type SchemaObject = Record<string, unknown> & {
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  oneOf?: SchemaObject[];
  enum?: unknown[];
};

/** `schema` with each field's description and example from `REQUEST_FIELDS`, under `path`. */
function annotate(schema: SchemaObject, path = ''): SchemaObject {
  const field = (key: string, property: SchemaObject) => {
    const annotation = REQUEST_FIELDS[key];
    if (!annotation) throw new Error(`REQUEST_FIELDS has no description of ${key}`);
    const example = annotation.example ?? property.const ?? property.enum?.[0];
    return { description: annotation.description, example, ...annotate(property, key) };
  };
  return {
    ...schema,
    ...(schema.properties && {
      properties: Object.fromEntries(
        Object.entries(schema.properties).map(([name, property]) => [
          name,
          field(path ? `${path}.${name}` : name, property),
        ]),
      ),
    }),
    ...(schema.items && { items: field(`${path}[]`, schema.items) }),
    ...(schema.oneOf && { oneOf: schema.oneOf.map((member) => annotate(member, path)) }),
  };
}

/**
 * The request schema generated from zod, with a description and an example of every field
 * (annotations: they validate nothing).
 */
function checkoutRequest(): Record<string, unknown> {
  return annotate(checkoutRequestJsonSchema('openapi-3.0') as SchemaObject);
}

function schemas() {
  return {
    CheckoutRequest: checkoutRequest(),
    CheckoutCompleted: schema(completedResponseSchema),
    CheckoutAwaitingPayment: schema(awaitingPaymentResponseSchema),
    CheckoutExpired: schema(expiredResponseSchema),
    CheckoutFailed: schema(failedResponseSchema),
    CheckoutIncomplete: schema(incompleteResponseSchema),
    CheckoutInProgress: schema(inProgressResponseSchema),
    CheckoutRequiresAttention: schema(requiresAttentionResponseSchema),
    PriceChanged: schema(priceChangedResponseSchema),
    UnknownProduct: schema(unknownProductResponseSchema),
    PricingUnavailable: schema(pricingUnavailableResponseSchema),
    ServiceUnavailable: schema(serviceUnavailableResponseSchema),
    Checkout: schema(checkoutViewSchema),
    Error: schema(errorResponseSchema),
    Health: schema(healthResponseSchema),
  };
}

const HEADERS = {
  'Retry-After': {
    description:
      'Seconds to wait before retrying (with the same `Idempotency-Key`) or reading the checkout with `GET /checkout/{id}`.',
    schema: { type: 'integer', minimum: 1 },
    example: 30,
  },
  'Idempotent-Replayed': {
    description:
      '`true` when this is the stored answer to an earlier request with the same `Idempotency-Key` and body, sent again byte for byte: nothing was charged, deducted or ordered again. Absent on a first answer.',
    schema: { type: 'string', enum: ['true'] },
  },
};

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: [
    'One key per purchase (a UUID is a good choice), so a retry never charges twice: the same key with the same body resumes a checkout left incomplete or replays the first answer (with `Idempotent-Replayed: true`); while the first request still runs it answers 409 `checkout_in_progress`; with another body, 422 `idempotency_key_mismatch`.',
    'Optional unless the service runs with `REQUIRE_IDEMPOTENCY_KEY=true`; a key is remembered for `IDEMPOTENCY_TTL_HOURS` (24 by default). In "Try it out", leave it empty or change it for each example.',
  ].join('\n\n'),
  schema: {
    type: 'string',
    minLength: 1,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e][\\x20-\\x7e]*$',
  },
};

/** The OpenAPI 3.0 document of the public API, built from the zod schemas and the test values. */
export function openApiDocument(): Record<string, unknown> {
  const health = responseExamples.health;
  const process = responseExamples.processCheckout;
  const read = responseExamples.getCheckout;
  return {
    openapi: '3.0.3',
    info: {
      title: SERVICE_NAME,
      version: '0.1.0',
      description: [
        'Checkout orchestrator: records the checkout, charges the payment, deducts stock and creates the order, undoing completed steps when a later one fails.',
        "Prices come from the catalog: the amount charged is the catalog's, never the request's, and an item's `price` is the price the customer saw, checked against it (409 `price_changed` when it differs).",
        'Locally, WireMock plays the payment, inventory and order services, and the inventory mock also answers as the catalog. Every example of `POST /checkout/process` is a test value the mocks react to (`docs/test-values.md`): pick one in the Examples list of "Try it out" and execute it as is.',
      ].join('\n\n'),
    },
    tags: [
      { name: 'Checkout', description: 'Process a checkout and read it back' },
      { name: 'Health', description: 'Liveness and database check' },
    ],
    paths: {
      '/checkout/process': {
        post: {
          tags: ['Checkout'],
          operationId: 'processCheckout',
          summary: 'Process a checkout',
          description: [
            'Prices the cart with the catalog, then runs the saga: payment, then stock, then the order, undoing the completed steps when a later one is refused. A step whose outcome is unknown (a 5xx, a timeout, a reset) is neither undone nor called failed: the answer is 503 `checkout_incomplete` and recovery settles it.',
            'A cart the catalog cannot price as sent (409 `price_changed`, 422 `unknown_product`, 503 `pricing_unavailable`) is refused before anything is recorded or charged, so the same `Idempotency-Key` may be sent again with the corrected cart; a key that already holds a checkout answers for it first.',
            'A Pix or boleto holds the stock, then is issued: the answer is 202 `awaiting_payment` with what the customer pays with (`payment`). The payment service tells this service when it is paid (a signed webhook), and the checkout completes; `GET /checkout/{id}` shows where it stands. Unpaid by `expires_at`, it is cancelled, its stock released, and it ends `expired` (422 `payment_expired`, the stored answer of its `Idempotency-Key`). A 202 is not stored: the same key answers what the checkout is by then.',
          ].join('\n\n'),
          parameters: [ref('parameters', 'Idempotency-Key')],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: ref('schemas', 'CheckoutRequest'),
                examples: requestExamples(),
              },
            },
          },
          responses: {
            200: answer('The checkout completed', ['CheckoutCompleted'], process[200], [
              'Idempotent-Replayed',
            ]),
            202: answer(
              'A Pix or boleto was issued and waits for the customer to pay it: `payment` says with what, until `expires_at`. Not stored for replay: a retry with the same Idempotency-Key answers what the checkout is by then',
              ['CheckoutAwaitingPayment'],
              process[202],
            ),
            400: answer(
              'Invalid request (schema, JSON syntax, card, expiry, Idempotency-Key, …); nothing was done',
              ['Error'],
              process[400],
            ),
            409: answer(
              "A request with this Idempotency-Key is still running (`checkout_in_progress`, with `Retry-After`); or the checkout stopped part-way and a person must finish it (`checkout_requires_attention`, status `requires_attention`, no `Retry-After`): nothing says it was undone, money may be held, and no other checkout should be started for this purchase. The latter is the stored answer, replayed for its Idempotency-Key. Or a price the customer saw is not the catalog's (`price_changed`, each such item with `price_sent` and `current_price`): nothing was recorded or charged; show the current prices and send the checkout again.",
              ['CheckoutInProgress', 'CheckoutRequiresAttention', 'PriceChanged'],
              process[409],
              ['Retry-After', 'Idempotent-Replayed'],
            ),
            413: answer('Body over 64 KiB', ['Error'], process[413]),
            415: answer('Body is not JSON', ['Error'], process[415]),
            422: answer(
              'A service refused and the completed steps were undone; or a Pix or boleto expired unpaid (`payment_expired`: cancelled, its stock released); or the catalog does not know a product (`unknown_product`, naming it; nothing was recorded or charged); or the Idempotency-Key was used with another body',
              ['CheckoutFailed', 'CheckoutExpired', 'UnknownProduct', 'Error'],
              process[422],
              ['Idempotent-Replayed'],
            ),
            500: answer('Unexpected error', ['Error'], process[500]),
            502: answer(
              'A service could not be reached (it cannot have acted), or a checkout left unfinished was settled by recovery and undone (`reason` `abandoned`); either way every completed step was undone',
              ['CheckoutFailed'],
              process[502],
              ['Idempotent-Replayed'],
            ),
            503: answer(
              'Outcome unknown: the checkout waits at its recovery point and will be completed or undone; or the catalog could not price the cart (`pricing_unavailable`: nothing was recorded or charged); or the database did not answer before anything was recorded (`service_unavailable`)',
              ['CheckoutIncomplete', 'PricingUnavailable', 'ServiceUnavailable'],
              process[503],
              ['Retry-After'],
            ),
          },
        },
      },
      '/checkout/{id}': {
        get: {
          tags: ['Checkout'],
          operationId: 'getCheckout',
          summary: 'Read a checkout',
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              description: 'The `checkout_id` of an answer of `POST /checkout/process`',
              schema: { type: 'string', format: 'uuid' },
            },
          ],
          responses: {
            200: answer(
              "The checkout, without card data or the payer's name and document; a Pix or boleto with its `expires_at` (a boleto's `due_date`), and what to pay it with while it is `awaiting_payment`",
              ['Checkout'],
              read[200],
            ),
            400: answer('The id is not a UUID', ['Error'], read[400]),
            404: answer(
              'No such checkout, or one another caller recorded (IAM principal, else API key): answered the same, so its existence is not revealed',
              ['Error'],
              read[404],
            ),
            500: answer('Unexpected error', ['Error'], read[500]),
            503: answer('The database did not answer', ['ServiceUnavailable'], read[503], [
              'Retry-After',
            ]),
          },
        },
      },
      '/health': {
        get: {
          tags: ['Health'],
          operationId: 'getHealth',
          summary: 'Liveness and database check',
          responses: {
            200: answer('The database answers', ['Health'], health[200]),
            503: answer('The database does not answer', ['Health'], health[503]),
          },
        },
      },
    },
    components: {
      schemas: schemas(),
      headers: HEADERS,
      parameters: { 'Idempotency-Key': IDEMPOTENCY_KEY },
    },
  };
}
