/**
 * The named examples of the OpenAPI document: one request per test value, and the answers they
 * get, generated from `test-values.ts`; the answers no test value reaches are written here.
 * `test/integration/openapi-examples.test.ts` sends every request example to the real handlers.
 */
import {
  answerText,
  describeAnswer,
  describeOutcome,
  type ExpectedAnswer,
  INCOMPLETE_KEYED_MESSAGE,
  isRecorded,
  requestOf,
  showTrigger,
  TEST_VALUES,
  type TestValue,
} from './test-values.ts';

export interface Example {
  summary: string;
  description?: string;
  value: unknown;
}

type Examples = Record<string, Example>;

/** The checkout every response example is about. */
const CHECKOUT_ID = '0b4f6c1e-8d2a-4f7b-9c3e-5a1d2e3f4a5b';

/** How long a value keeps "Try it out" waiting (the services' timeouts and retries). */
const slow = (value: TestValue) => (value.takesSeconds ? ` after ~${value.takesSeconds} s` : '');

const triggerText = (value: TestValue) =>
  value.triggers.length === 0
    ? 'The seed request, unchanged: it works as is.'
    : `The seed request with ${value.triggers.map(showTrigger).join(' and ')}.`;

/** `POST /checkout/process` request bodies: the seed request and one per test value. */
export function requestExamples(): Examples {
  return Object.fromEntries(
    TEST_VALUES.map((value) => [
      value.name,
      {
        summary: `${value.title} → ${describeAnswer(value.answer)}${slow(value)}`,
        description: [
          triggerText(value),
          `Mock: ${value.mock}. Answer: ${answerText(value)}.`,
          value.recovery ? `Recovery, once the lease has expired: ${value.recovery}.` : '',
          value.next ? `Then: ${value.next}.` : '',
        ]
          .filter(Boolean)
          .join('\n\n'),
        value: requestOf(value),
      },
    ]),
  );
}

/**
 * What the payment WireMock issues for the seed's cart (349.70) recorded at `CREATED_AT` with
 * the default settings: a Pix for 30 minutes; a boleto due 3 days later, moved past the weekend
 * to Monday, expiring at the end of the third business day after it in São Paulo; its barcode
 * and digitable line as the mock computes them from the amount, due date and checkout id.
 */
const PAYMENTS = {
  pix: {
    method: 'pix',
    qr_code:
      '00020101021226850014br.gov.bcb.pix2563pix.example.com/qr/v2/cobv/9d36b84f-c70b-478f-b95c-12729b90ca255204000053039865802BR5917CHECKOUT COMMERCE6009SAO PAULO62070503***630414C8',
    expires_at: '2026-11-25T17:07:51.102Z',
  },
  boleto: {
    method: 'boleto',
    barcode: '00191164600000349701234170145621483200123450',
    digitable_line: '00191234137014562148132001234502116460000034970',
    url: `https://boleto.example.com/bol_${CHECKOUT_ID}`,
    due_date: '2026-11-30',
    expires_at: '2026-12-04T03:00:00.000Z',
  },
};

/** When the examples' checkout was recorded. */
const CREATED_AT = '2026-11-25T16:37:51.102Z';

/**
 * The full body a test value's answer carries (ids as the mocks derive them). A pricing refusal
 * names no checkout: nothing was recorded.
 */
function answerBody(answer: ExpectedAnswer): Record<string, unknown> {
  if (!isRecorded(answer)) return answer.body;
  const { status, body } = answer;
  if (body.payment) {
    const { method } = body.payment;
    return {
      checkout_id: CHECKOUT_ID,
      status: body.status,
      total_amount: body.total_amount,
      currency: 'BRL',
      payment_id: `${method === 'pix' ? 'pix' : 'bol'}_${CHECKOUT_ID}`,
      payment: PAYMENTS[method],
    };
  }
  if (status !== 200) return { checkout_id: CHECKOUT_ID, ...body };
  return {
    checkout_id: CHECKOUT_ID,
    status: body.status,
    total_amount: body.total_amount,
    currency: 'BRL', // the seed request sends none: the default
    payment_id: `txn_${CHECKOUT_ID}`,
    order_id: `ord_${CHECKOUT_ID}`,
    error: null,
  };
}

/** What a 503 `checkout_incomplete` at each recovery point is waiting for. */
const WAITING_FOR: Record<string, string> = {
  pending: "the payment's outcome is unknown",
  payment_processed: "the stock deduction's outcome is unknown",
  payment_authorized: "the stock deduction's outcome is unknown",
  inventory_deducted: "the order's outcome is unknown",
  order_created: "the capture's outcome is unknown",
  compensating: 'an undo did not go through',
};

/** Why the cart was refused before anything was recorded. */
const NOT_PRICED: Record<string, string> = {
  price_changed: "a price the customer saw is not the catalog's; nothing was recorded",
  unknown_product: 'the catalog does not know a product; nothing was recorded',
  pricing_unavailable: 'the catalog did not answer in time; nothing was recorded',
};

/** What an answer the test values get means, when its code alone does not say it. */
const meaning = (answer: ExpectedAnswer) =>
  isRecorded(answer) ? WAITING_FOR[answer.body.status] : NOT_PRICED[answer.body.error];

/** The name of an answer's example: the test value's, or what it says when that is clearer. */
function exampleName(value: TestValue): string {
  const { answer } = value;
  if (!isRecorded(answer)) return answer.body.error.replaceAll('_', '-');
  return answer.status === 503 ? `incomplete-${answer.body.status}` : value.name;
}

/**
 * The answers the test values get with HTTP `status`, one example per distinct answer, each
 * naming the test values that get it.
 */
function testValueAnswers(status: ExpectedAnswer['status']): Examples {
  const groups = new Map<string, TestValue[]>();
  for (const value of TEST_VALUES.filter((v) => v.answer.status === status)) {
    const key = describeAnswer(value.answer);
    groups.set(key, [...(groups.get(key) ?? []), value]);
  }
  return Object.fromEntries(
    [...groups.values()].map((values) => {
      const [first] = values as [TestValue];
      const why = meaning(first.answer);
      const names = values.map((v) => v.name).join(', ');
      return [
        exampleName(first),
        {
          summary: `${describeOutcome(first.answer)}${why ? `: ${why}` : ''} (request example${values.length > 1 ? 's' : ''} ${names})`,
          value: answerBody(first.answer),
        },
      ];
    }),
  );
}

const example = (summary: string, value: Record<string, unknown>): Example => ({ summary, value });

const DATABASE_UNAVAILABLE = example('The database did not answer before anything was recorded', {
  error: 'service_unavailable',
  message: 'The service is temporarily unavailable, please retry',
});

const INTERNAL_ERROR = example('An unexpected error; logged, never detailed', {
  error: 'internal_error',
  message: 'Internal server error',
});

/** Every example of every answer, by operation and HTTP status. */
export const responseExamples = {
  health: {
    200: { ok: example('The database answers', { status: 'ok', checks: { database: 'ok' } }) },
    503: {
      unavailable: example('The database does not answer', {
        status: 'unavailable',
        checks: { database: 'error' },
      }),
    },
  },
  processCheckout: {
    200: testValueAnswers(200),
    202: testValueAnswers(202),
    400: {
      'invalid-card': example('A card number that fails the Luhn check', {
        error: 'validation_error',
        message: 'The checkout request is invalid',
        details: [
          {
            path: 'payment_method.card_number',
            message: 'card_number is not a valid card number (Luhn check failed)',
          },
        ],
      }),
      'invalid-expiry': example(
        'A card expiry that is not MM/YY (13/30): each field says what it expects',
        {
          error: 'validation_error',
          message: 'The checkout request is invalid',
          details: [
            {
              path: 'payment_method.card_expiry',
              message: 'card_expiry must be MM/YY, e.g. 12/30',
            },
          ],
        },
      ),
      'raw-card-not-accepted': example(
        'A card number where the shop takes tokens only (ACCEPT_RAW_CARDS=false, the prod stage)',
        {
          error: 'raw_card_not_accepted',
          message:
            'This shop does not take card numbers: send payment_method {"type":"card_token","token":...} with the token the payment service\'s client-side SDK made.',
        },
      ),
      'invalid-cpf': example('A CPF whose check digits do not match', {
        error: 'validation_error',
        message: 'The checkout request is invalid',
        details: [
          {
            path: 'customer_document',
            message: 'customer_document is not a valid CPF (check digits do not match)',
          },
        ],
      }),
      'too-many-installments': example('Installments smaller than MIN_INSTALLMENT_AMOUNT', {
        error: 'validation_error',
        message: 'The checkout request is invalid',
        details: [
          {
            path: 'payment_method.installments',
            message:
              'each installment must be at least 5.00: at most 3 installments for a total of 17.00',
          },
        ],
      }),
      'invalid-idempotency-key': example('An Idempotency-Key over 255 characters', {
        error: 'validation_error',
        message: 'The Idempotency-Key header is invalid',
        details: [
          { path: 'headers.Idempotency-Key', message: 'must be 1 to 255 printable characters' },
        ],
      }),
    },
    409: {
      'checkout-in-progress': example(
        'The same Idempotency-Key while the first request still runs',
        {
          error: 'checkout_in_progress',
          checkout_id: CHECKOUT_ID,
          message: 'A checkout with this Idempotency-Key is still running; retry later',
        },
      ),
      'checkout-requires-attention': example(
        'An undo or a settle kept failing and a person must finish it (void-fails, after recovery gave up)',
        {
          checkout_id: CHECKOUT_ID,
          status: 'requires_attention',
          error: 'checkout_requires_attention',
          message:
            'The checkout stopped part-way and a person must finish it: money may be held for it. Do not start another checkout for this purchase; GET /checkout/{id} shows when it has been settled.',
        },
      ),
      ...testValueAnswers(409),
    },
    413: {
      'payload-too-large': example('A body over 64 KiB', {
        error: 'payload_too_large',
        message: 'The request body must not exceed 65536 bytes',
      }),
    },
    415: {
      'unsupported-media-type': example('A Content-Type other than JSON', {
        error: 'unsupported_media_type',
        message: 'Content-Type must be application/json',
      }),
    },
    422: {
      ...testValueAnswers(422),
      'payment-expired': example(
        'A Pix or boleto never paid: cancelled and its stock released (pix-expired, then the same Idempotency-Key; stored and replayed)',
        {
          checkout_id: CHECKOUT_ID,
          status: 'expired',
          error: 'payment_expired',
          message:
            'The Pix was not paid before it expired, so the checkout was cancelled and its items released. To buy them, start a new checkout. A payment made after all is shown by GET /checkout/{id}.',
        },
      ),
      'idempotency-key-mismatch': example('An Idempotency-Key already used with another body', {
        error: 'idempotency_key_mismatch',
        message: 'This Idempotency-Key was already used with a different request body',
      }),
    },
    500: { 'internal-error': INTERNAL_ERROR },
    502: {
      'payment-unavailable': example(
        'The payment service could not be reached (nothing listens); nothing to undo',
        {
          checkout_id: CHECKOUT_ID,
          status: 'failed',
          error: 'payment_unavailable',
          reason: 'econnrefused',
          message: 'The payment service is unavailable',
        },
      ),
    },
    503: {
      ...testValueAnswers(503),
      'incomplete-with-key': example(
        'Any of the answers above to a request that carried an Idempotency-Key: retrying with it resumes the checkout',
        {
          checkout_id: CHECKOUT_ID,
          status: 'pending',
          error: 'checkout_incomplete',
          message: INCOMPLETE_KEYED_MESSAGE,
        },
      ),
      'database-unavailable': DATABASE_UNAVAILABLE,
    },
  },
  getCheckout: {
    200: {
      completed: example('A completed checkout', {
        checkout_id: CHECKOUT_ID,
        status: 'completed',
        total_amount: '349.70',
        currency: 'BRL',
        payment_id: `txn_${CHECKOUT_ID}`,
        order_id: `ord_${CHECKOUT_ID}`,
        error: null,
        reason: null,
        installments: { count: 1, amounts: ['349.70'] },
        created_at: CREATED_AT,
        updated_at: '2026-11-25T16:37:51.487Z',
      }),
      'awaiting-payment': example(
        'A boleto waiting for the customer: what to pay it with, its due date and expiry',
        {
          checkout_id: CHECKOUT_ID,
          status: 'awaiting_payment',
          total_amount: '349.70',
          currency: 'BRL',
          payment_id: `bol_${CHECKOUT_ID}`,
          order_id: null,
          error: null,
          reason: null,
          installments: { count: 1, amounts: ['349.70'] },
          payment: PAYMENTS.boleto,
          expires_at: PAYMENTS.boleto.expires_at,
          due_date: PAYMENTS.boleto.due_date,
          created_at: CREATED_AT,
          updated_at: '2026-11-25T16:37:51.398Z',
        },
      ),
      expired: example('A Pix never paid: no instructions any more, only when it expired', {
        checkout_id: CHECKOUT_ID,
        status: 'expired',
        total_amount: '349.70',
        currency: 'BRL',
        payment_id: `pix_${CHECKOUT_ID}`,
        order_id: null,
        error: null,
        reason: null,
        installments: { count: 1, amounts: ['349.70'] },
        expires_at: PAYMENTS.pix.expires_at,
        created_at: CREATED_AT,
        updated_at: '2026-11-25T17:09:52.031Z',
      }),
      failed: example('A checkout refused by the inventory, its authorization voided', {
        checkout_id: CHECKOUT_ID,
        status: 'failed',
        total_amount: '349.70',
        currency: 'BRL',
        payment_id: `txn_${CHECKOUT_ID}`,
        order_id: null,
        error: 'inventory_failed',
        reason: 'out_of_stock',
        installments: { count: 1, amounts: ['349.70'] },
        created_at: CREATED_AT,
        updated_at: '2026-11-25T16:37:51.693Z',
      }),
    },
    400: {
      'invalid-id': example('An id that is not a UUID', {
        error: 'validation_error',
        message: 'The checkout id must be a UUID',
        details: [{ path: 'id', message: 'must be a UUID' }],
      }),
    },
    404: {
      'not-found': example('No checkout has this id', {
        error: 'not_found',
        message: 'No checkout with this id',
      }),
    },
    500: { 'internal-error': INTERNAL_ERROR },
    503: { 'database-unavailable': DATABASE_UNAVAILABLE },
  },
} satisfies Record<string, Record<number, Examples>>;
