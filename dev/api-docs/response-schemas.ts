import { z } from 'zod';

/**
 * The shapes of the API's answers, written once in zod: the OpenAPI document is generated
 * from them and the integration tests parse real answers with them. Every field has a
 * description and an example (`test/integration/api-docs.test.ts` checks it): Swagger UI
 * shows both, and makes up an example from the type where there is none.
 */

/** The checkout every example is about (the OpenAPI examples show the same one). */
const EXAMPLE_ID = '0b4f6c1e-8d2a-4f7b-9c3e-5a1d2e3f4a5b';

const amount = z
  .string()
  .regex(/^\d+(\.\d{2,3})?$/)
  // Without an example, Swagger UI makes one up from the pattern: 80 digits.
  .meta({
    description: "decimal string with the currency's decimals: 150 JPY, 349.70 BRL, 1.234 KWD",
    example: '349.70',
  });
const totalAmount = amount.meta({
  description:
    "The amount charged (or to be charged): Σ quantity × the catalog's unit price, as a decimal string with the currency's decimals (150 JPY, 349.70 BRL, 1.234 KWD)",
  example: '349.70',
});
const currency = z.string().length(3).meta({
  description:
    'The ISO 4217 code of the currency of every amount (BRL when the request named none)',
  example: 'BRL',
});
const checkoutStatuses = [
  'pending',
  'payment_processed',
  'payment_authorized',
  'inventory_deducted',
  'order_created',
  'awaiting_payment',
  'completed',
  'compensating',
  'failed',
  'expired',
  'requires_attention',
] as const;
const checkoutStatus = z.enum(checkoutStatuses).meta({
  description:
    'Where the checkout stands: `completed`, `failed` and `expired` (a Pix or boleto never paid) are final; `awaiting_payment` waits for the customer to pay a Pix or boleto; `requires_attention` waits for a person; the others are steps on the way, where recovery completes or undoes it',
  example: 'payment_authorized',
});
const checkoutId = z.uuid().meta({
  description: "The checkout's id: `GET /checkout/{id}` reads it back",
  example: EXAMPLE_ID,
});
/** An answer's `error`: the machine-readable code, always the same one for this shape. */
const errorCode = <const T extends string>(code: T, what: string) =>
  z.literal(code).meta({ description: `The error code: ${what}`, example: code });
/** An answer's `status`: the checkout's status, always the same one for this shape. */
const statusIs = <const T extends (typeof checkoutStatuses)[number]>(status: T, what: string) =>
  z.literal(status).meta({ description: `The checkout's status: ${what}`, example: status });
const message = (example: string) =>
  z.string().meta({
    description: 'For people: what happened and what to do. Programs read `error`',
    example,
  });

export const completedResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: statusIs('completed', 'charged (captured), stock deducted and the order created'),
  total_amount: totalAmount,
  currency,
  payment_id: z.string().meta({
    description: "The payment service's transaction id",
    example: `txn_${EXAMPLE_ID}`,
  }),
  order_id: z.string().meta({
    description: "The order service's order id",
    example: `ord_${EXAMPLE_ID}`,
  }),
  error: z.null().meta({ description: 'Always null: nothing went wrong', example: null }),
});

const instant = (description: string, example: string) =>
  z.iso.datetime({ offset: true }).meta({ description, example });
/** A calendar date, `YYYY-MM-DD` (a pattern: the document's validators know no `date` format). */
const date = (description: string, example: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .meta({ description, example });

/** The examples' Pix and boleto, as the local WireMock issues them for the seed's cart. */
const PIX_EXPIRES_AT = '2026-11-25T17:07:51.102Z';
const BOLETO_DUE_DATE = '2026-11-30';
const BOLETO_EXPIRES_AT = '2026-12-04T03:00:00.000Z';

const pixInstructions = z
  .strictObject({
    method: z.literal('pix').meta({ description: 'A Pix', example: 'pix' }),
    qr_code: z.string().meta({
      description:
        'The Pix "copia e cola" code (EMV): shown as a QR code, or copied into the bank app',
      example: '00020101021226850014br.gov.bcb.pix2563pix.example.com/qr/v2/cobv/9d36b84f',
    }),
    qr_code_base64: z.string().optional().meta({
      description: 'The QR code as a base64 PNG, when the payment service makes one',
      example: 'iVBORw0KGgoAAAANSUhEUgAAAQAAAAEAAQMAAABmvDolAAAABlBMVEX///8AAABVwtN+AAAA',
    }),
    expires_at: instant(
      'Until when the QR code can be paid (`expires_in_minutes` after the checkout)',
      PIX_EXPIRES_AT,
    ),
  })
  .meta({ description: 'What the customer pays a Pix with' });

const boletoInstructions = z
  .strictObject({
    method: z.literal('boleto').meta({ description: 'A boleto', example: 'boleto' }),
    barcode: z
      .string()
      .regex(/^\d{44}$/)
      .meta({
        description: 'The 44-digit barcode (FEBRABAN)',
        example: '00191164600000349701234170145621483200123450',
      }),
    digitable_line: z
      .string()
      .regex(/^\d{47}$/)
      .meta({
        description: 'The 47-digit "linha digitável" the customer types into the bank app',
        example: '00191234137014562148132001234502116460000034970',
      }),
    url: z
      .string()
      .regex(/^https?:\/\//)
      .meta({
        description: "The boleto's page at the payment service, to print or download",
        example: `https://boleto.example.com/bol_${EXAMPLE_ID}`,
      }),
    due_date: date(
      'The due date: `due_in_days` after the checkout in São Paulo, moved to the next business day',
      BOLETO_DUE_DATE,
    ),
    expires_at: instant(
      'When an unpaid boleto is cancelled: the end of the São Paulo day `BOLETO_GRACE_DAYS` business days after the due date (paid after its due date, a bank adds its fine)',
      BOLETO_EXPIRES_AT,
    ),
  })
  .meta({ description: 'What the customer pays a boleto with' });

/** A Pix's or boleto's payment instructions, told apart by `method`. */
const paymentInstructions = z
  .discriminatedUnion('method', [pixInstructions, boletoInstructions])
  .meta({
    description: 'What the customer pays with, as the payment service issued it',
    example: {
      method: 'pix',
      qr_code: '00020101021226850014br.gov.bcb.pix2563pix.example.com/qr/v2/cobv/9d36b84f',
      expires_at: PIX_EXPIRES_AT,
    },
  });

/** A Pix or boleto issued: the customer pays it later (202, not stored for replay). */
export const awaitingPaymentResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: statusIs(
    'awaiting_payment',
    'the stock is held; the checkout completes when the payment service says the customer paid',
  ),
  total_amount: totalAmount,
  currency,
  payment_id: z.string().meta({
    description: "The payment service's id of the Pix or boleto",
    example: `pix_${EXAMPLE_ID}`,
  }),
  payment: paymentInstructions,
});

/** A Pix or boleto never paid: cancelled, its stock released. */
export const expiredResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: statusIs('expired', 'the Pix or boleto was not paid in time; cancelled, stock released'),
  error: errorCode('payment_expired', 'the Pix or boleto expired unpaid'),
  message: message(
    'The Pix was not paid before it expired, so the checkout was cancelled and its items released. To buy them, start a new checkout. A payment made after all is shown by GET /checkout/{id}.',
  ),
});

export const failedResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: statusIs('failed', 'ended, every completed step undone'),
  error: z
    .enum([
      'payment_failed',
      'inventory_failed',
      'order_failed',
      'payment_unavailable',
      'inventory_unavailable',
      'order_unavailable',
    ])
    .meta({
      description:
        'Which service ended it: `*_failed` when it refused (422), `*_unavailable` when it could not be reached after retries (502)',
      example: 'inventory_failed',
    }),
  reason: z.string().meta({
    description:
      "The service's own reason (`card_declined`, `out_of_stock`, `invalid_address`, …), or ours: `undone_outside_checkout`, `abandoned`, `econnrefused`, `http_503`, …",
    example: 'out_of_stock',
  }),
  message: message('Product prod_out_of_stock is out of stock'),
});

/** A person must finish it: nothing says it was undone, and money may be held. */
export const requiresAttentionResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: statusIs('requires_attention', 'a person must finish it'),
  error: errorCode('checkout_requires_attention', 'an undo or a settle kept failing'),
  message: message(
    'The checkout stopped part-way and a person must finish it: money may be held for it. Do not start another checkout for this purchase; GET /checkout/{id} shows when it has been settled.',
  ),
});

export const incompleteResponseSchema = z.strictObject({
  checkout_id: checkoutId,
  status: checkoutStatus,
  error: errorCode(
    'checkout_incomplete',
    "a step's outcome is unknown; the checkout will be completed or undone",
  ),
  message: message(
    'The checkout could not be confirmed yet; it will be completed or undone automatically. Retry with the same Idempotency-Key or check its status.',
  ),
});

export const inProgressResponseSchema = z.strictObject({
  error: errorCode('checkout_in_progress', 'a request with this Idempotency-Key still runs'),
  checkout_id: checkoutId,
  message: message('A checkout with this Idempotency-Key is still running; retry later'),
});

/**
 * A unit price as the pricing answers give it: a JSON number with the currency's decimals. At
 * least 0.001, the smallest price of any currency (3 decimals at most): `positive()` would say
 * so with OpenAPI 3.0's boolean `exclusiveMinimum`, which validators of JSON Schema draft 6
 * and later refuse.
 */
const unitPrice = z.number().min(0.001).meta({
  description: "a unit price in the currency's major unit, with its decimals: 109.9 BRL, 50 JPY",
  example: 109.9,
});

/** A price the customer saw is not the catalog's: nothing was recorded or charged. */
export const priceChangedResponseSchema = z.strictObject({
  error: errorCode('price_changed', "a price the customer saw is not the catalog's"),
  message: message(
    'Prices changed since the customer saw them; show the current prices and send the checkout again (the same Idempotency-Key may be used).',
  ),
  items: z
    .array(
      z
        .strictObject({
          product_id: z
            .string()
            .meta({ description: 'The item whose price changed', example: 'prod_001' }),
          price_sent: unitPrice.meta({
            description: "The price the request sent, in the currency's major unit",
            example: 99.9,
          }),
          current_price: unitPrice.meta({
            description: "The catalog's price now, in the currency's major unit",
            example: 109.9,
          }),
        })
        .meta({
          description: 'An item whose price changed',
          example: { product_id: 'prod_001', price_sent: 99.9, current_price: 109.9 },
        }),
    )
    .min(1)
    .meta({
      description: 'Each item whose price is not the one sent',
      example: [{ product_id: 'prod_001', price_sent: 99.9, current_price: 109.9 }],
    }),
});

/** The catalog does not know a product of the cart: nothing was recorded or charged. */
export const unknownProductResponseSchema = z.strictObject({
  error: errorCode('unknown_product', 'the catalog does not know a product'),
  product_id: z
    .string()
    .meta({ description: 'The product the catalog does not know', example: 'prod_999' }),
  message: message('The catalog does not know product prod_999; nothing was charged'),
});

/** The catalog could not price the cart: nothing was recorded or charged. */
export const pricingUnavailableResponseSchema = z.strictObject({
  error: errorCode('pricing_unavailable', 'the catalog did not answer in time'),
  message: message('The prices could not be confirmed; nothing was charged. Retry later.'),
});

/**
 * The database did not answer before anything was recorded. Its own shape beside `Error`, so a
 * 503 is exactly one of its shapes (`oneOf`).
 */
export const serviceUnavailableResponseSchema = z.strictObject({
  error: errorCode('service_unavailable', 'the database did not answer; nothing was done'),
  message: message('The service is temporarily unavailable, please retry'),
});

export const errorResponseSchema = z.strictObject({
  error: z.string().meta({
    description:
      'The error code: `validation_error`, `raw_card_not_accepted`, `idempotency_key_mismatch`, `payload_too_large`, `unsupported_media_type`, `not_found`, `internal_error`, …',
    example: 'validation_error',
  }),
  message: message('The checkout request is invalid'),
  details: z
    .array(
      z
        .strictObject({
          path: z.string().meta({
            description:
              'The field, dotted (`items.0.quantity`, `headers.Idempotency-Key`), or `(body)` for the whole body',
            example: 'payment_method.card_expiry',
          }),
          message: z.string().meta({
            description: 'What the field expects, `required` or `unknown field`',
            example: 'card_expiry must be MM/YY, e.g. 12/30',
          }),
        })
        .meta({
          description: 'One problem of the request',
          example: {
            path: 'payment_method.card_expiry',
            message: 'card_expiry must be MM/YY, e.g. 12/30',
          },
        }),
    )
    .optional()
    .meta({
      description: 'With `validation_error`: every problem found, one per field',
      example: [
        { path: 'payment_method.card_expiry', message: 'card_expiry must be MM/YY, e.g. 12/30' },
      ],
    }),
});

const orNull = (description: string, example: string | null) =>
  z.string().nullable().meta({ description, example });

export const checkoutViewSchema = z.strictObject({
  checkout_id: checkoutId,
  status: checkoutStatus,
  total_amount: totalAmount,
  currency,
  payment_id: orNull(
    "The payment service's transaction id; null before the payment",
    `txn_${EXAMPLE_ID}`,
  ),
  order_id: orNull(
    "The order service's order id; null until the order exists",
    `ord_${EXAMPLE_ID}`,
  ),
  error: orNull(
    'Why it did not complete, as in the answer to the POST (`inventory_failed`, …); null otherwise',
    null,
  ),
  reason: orNull("The service's reason (`out_of_stock`, …); null otherwise", null),
  installments: z
    .strictObject({
      count: z.int().min(1).max(12).meta({ description: 'how many installments', example: 3 }),
      amounts: z
        .array(amount)
        .min(1)
        .meta({
          description:
            'each installment, the first carrying the cents that do not divide evenly; they add up to total_amount (interest-free)',
          example: ['116.58', '116.56', '116.56'],
        }),
    })
    .meta({
      description: 'the installment plan (parcelamento) the card was authorized with',
      example: { count: 3, amounts: ['116.58', '116.56', '116.56'] },
    }),
  payment: paymentInstructions.optional().meta({
    description:
      'A Pix or boleto while its status is `awaiting_payment`: what the customer pays with, as in the 202. Absent otherwise',
    example: {
      method: 'pix',
      qr_code: '00020101021226850014br.gov.bcb.pix2563pix.example.com/qr/v2/cobv/9d36b84f',
      expires_at: PIX_EXPIRES_AT,
    },
  }),
  expires_at: instant(
    'A Pix or boleto: when it is cancelled if still unpaid. Absent for a card',
    PIX_EXPIRES_AT,
  ).optional(),
  due_date: date("A boleto's due date. Absent otherwise", BOLETO_DUE_DATE).optional(),
  created_at: z.iso
    .datetime({ offset: true })
    .meta({ description: 'When the checkout was recorded', example: '2026-11-25T16:37:51.102Z' }),
  updated_at: z.iso
    .datetime({ offset: true })
    .meta({ description: 'When it last changed', example: '2026-11-25T16:37:51.487Z' }),
});

export const healthResponseSchema = z.strictObject({
  status: z.enum(['ok', 'unavailable']).meta({
    description: '`ok` when the database answered within 2 s, else `unavailable` (503)',
    example: 'ok',
  }),
  checks: z
    .strictObject({
      database: z
        .enum(['ok', 'error'])
        .meta({ description: 'Whether the database answered', example: 'ok' }),
    })
    .meta({ description: 'What was checked', example: { database: 'ok' } }),
});
