import type { APIGatewayProxyResult } from 'aws-lambda';
import { isLuhnValid } from '#lib/checkout/card.ts';
import {
  type Checkout,
  failureCode,
  isWaiting,
  type PaymentMethodType,
} from '#lib/checkout/checkout.ts';
import type { CheckoutOutcome, FinishedOutcome } from '#lib/checkout/checkout-outcome.ts';
import { installmentAmounts } from '#lib/checkout/installments.ts';
import type { StoredResponse } from '#lib/checkout/ports.ts';
import { formatMinorUnits, toWireAmount } from '#lib/money.ts';
import { jsonResponse, jsonTextResponse } from './responses.ts';

/**
 * The one place where checkout outcomes become HTTP answers (status, headers, body).
 *
 * A finished checkout's answer is rendered by `renderFinished` from the checkout as it was
 * written, and stored in that same write; a replay of its `Idempotency-Key` sends the stored
 * text, so it is byte for byte the first answer, whatever later versions of this file render.
 */
export function presentOutcome(outcome: CheckoutOutcome): APIGatewayProxyResult {
  switch (outcome.kind) {
    case 'completed':
    case 'expired':
    case 'refused':
    case 'unavailable': {
      const { code, body } = renderFinished(outcome);
      return jsonTextResponse(code, body);
    }
    // Not stored for replay: a same-key retry answers what the checkout is by then.
    case 'awaiting':
      return jsonResponse(202, awaitingBody(outcome.checkout));
    case 'replay':
      return jsonTextResponse(outcome.stored.code, outcome.stored.body, {
        'idempotent-replayed': 'true',
      });
    case 'incomplete':
      return jsonResponse(
        503,
        {
          checkout_id: outcome.checkout.id,
          status: outcome.checkout.status,
          error: 'checkout_incomplete',
          message: outcome.keyed === false ? INCOMPLETE_UNKEYED : INCOMPLETE_KEYED,
        },
        retryAfter(outcome.retryInMs),
      );
    case 'in_progress':
      return jsonResponse(
        409,
        {
          error: 'checkout_in_progress',
          checkout_id: outcome.checkoutId,
          message: 'A checkout with this Idempotency-Key is still running; retry later',
        },
        retryAfter(outcome.retryInMs),
      );
    case 'key_mismatch':
      return jsonResponse(422, {
        error: 'idempotency_key_mismatch',
        message: 'This Idempotency-Key was already used with a different request body',
      });
    case 'price_changed':
      return jsonResponse(409, {
        error: 'price_changed',
        message:
          'Prices changed since the customer saw them; show the current prices and send the checkout again (the same Idempotency-Key may be used).',
        items: outcome.items.map((item) => ({
          product_id: notACardNumber(item.productId),
          price_sent: toWireAmount(item.priceSentCents, outcome.currency),
          current_price: toWireAmount(item.currentPriceCents, outcome.currency),
        })),
      });
    case 'unknown_product': {
      const productId = notACardNumber(outcome.productId);
      return jsonResponse(422, {
        error: 'unknown_product',
        product_id: productId,
        message: `The catalog does not know product ${productId}; nothing was charged`,
      });
    }
    case 'pricing_unavailable':
      return jsonResponse(
        503,
        {
          error: 'pricing_unavailable',
          message: 'The prices could not be confirmed; nothing was charged. Retry later.',
        },
        retryAfter(outcome.retryInMs),
      );
    case 'raw_card_not_accepted':
      return jsonResponse(400, {
        error: 'raw_card_not_accepted',
        message:
          'This shop does not take card numbers: send payment_method {"type":"card_token","token":...} with the token the payment service\'s client-side SDK made.',
      });
  }
}

/**
 * What a 503 `checkout_incomplete` says. A retry with the same `Idempotency-Key` resumes the
 * checkout; without one, the same request again would start a second checkout (and charge
 * again), so a caller who sent none is told to read this one instead, by the id in the body.
 */
const INCOMPLETE_KEYED =
  'The checkout could not be confirmed yet; it will be completed or undone automatically. Retry with the same Idempotency-Key or check its status.';
const INCOMPLETE_UNKEYED =
  'The checkout could not be confirmed yet; it will be completed or undone automatically. Do not send it again: without an Idempotency-Key that starts a second checkout. Read its status with GET /checkout/{id} (its checkout_id is in this answer), and send an Idempotency-Key with every checkout so that a retry is safe.';

/**
 * What a checkout that needs a person answers, now and on every replay. It never says that
 * anything was undone (a charge or a deduction may still stand), and a client must not start
 * another checkout for the purchase. Migration 0006 wrote the same text into the rows that had
 * stored an older answer; its test checks that the two agree.
 */
const REQUIRES_ATTENTION_MESSAGE =
  'The checkout stopped part-way and a person must finish it: money may be held for it. Do not start another checkout for this purchase; GET /checkout/{id} shows when it has been settled.';

/**
 * The answer of a finished checkout as it is stored and replayed: 200 when completed, 422
 * when a service refused or a Pix or boleto expired unpaid, 502 when one could not be reached
 * (or the checkout was abandoned), everything done having been undone; 409
 * `checkout_requires_attention` when it was not.
 */
export function renderFinished(outcome: FinishedOutcome): StoredResponse {
  const { checkout } = outcome;
  if (outcome.kind === 'completed') {
    return {
      code: 200,
      body: JSON.stringify({ ...summary(checkout), error: null }),
    };
  }
  if (outcome.kind === 'expired') {
    return {
      code: 422,
      body: JSON.stringify({
        checkout_id: checkout.id,
        status: checkout.status,
        error: 'payment_expired',
        message: expiredMessage(checkout.method),
      }),
    };
  }
  // Not a 2xx (nothing completed), not a 422 or 502 (those say everything was undone), and no
  // Retry-After: retrying changes nothing until a person has settled it.
  if (checkout.status === 'requires_attention') {
    return {
      code: 409,
      body: JSON.stringify({
        checkout_id: checkout.id,
        status: checkout.status,
        error: 'checkout_requires_attention',
        message: REQUIRES_ATTENTION_MESSAGE,
      }),
    };
  }
  const { failure } = outcome;
  return {
    code: outcome.kind === 'refused' ? 422 : 502,
    body: JSON.stringify({
      checkout_id: checkout.id,
      status: checkout.status,
      error: failureCode(failure),
      reason: failure.reason,
      message: failure.message,
    }),
  };
}

/**
 * What a 422 `payment_expired` says. It does not say that nothing was charged: a payment can
 * still arrive after the expiry (design §4a), and the checkout then shows what became of it.
 */
function expiredMessage(method: PaymentMethodType): string {
  const what = method === 'pix' ? 'The Pix' : 'The boleto';
  return `${what} was not paid before it expired, so the checkout was cancelled and its items released. To buy them, start a new checkout. A payment made after all is shown by GET /checkout/{id}.`;
}

/**
 * The 202 `awaiting_payment` of a Pix or boleto issued: what the customer pays with. No
 * `order_id` or `error`: there is no order until it is paid, and nothing went wrong.
 */
function awaitingBody(checkout: Checkout) {
  const { order_id: _none, ...issued } = summary(checkout);
  return { ...issued, payment: paymentInstructions(checkout) ?? null };
}

/**
 * A Pix's or boleto's instructions as the answers show them: a Pix's `expires_at` is the
 * service's (the QR code's own, issued for the one this service asked), a boleto's is the
 * checkout's (its due date and grace days); `undefined` before anything was issued.
 */
function paymentInstructions(checkout: Checkout): Record<string, unknown> | undefined {
  const instructions = checkout.asyncPayment?.instructions;
  if (!instructions || !checkout.asyncPayment) return undefined;
  if (instructions.method === 'pix') {
    return {
      method: instructions.method,
      qr_code: instructions.qrCode,
      ...(instructions.qrCodeBase64 !== undefined && {
        qr_code_base64: instructions.qrCodeBase64,
      }),
      expires_at: instructions.expiresAt,
    };
  }
  return {
    method: instructions.method,
    barcode: instructions.barcode,
    digitable_line: instructions.digitableLine,
    url: instructions.url,
    due_date: instructions.dueDate,
    expires_at: checkout.asyncPayment.expiresAt,
  };
}

/**
 * `GET /checkout/{id}`: the stored checkout without any card data or internals. A Pix or boleto
 * shows when it expires (and a boleto its due date); what to pay with only while it waits for
 * the customer, since paying it after that is never asked for.
 */
export function checkoutView(checkout: Checkout): Record<string, unknown> {
  // A checkout resolved `completed` by hand keeps its failure for the record, not for the shop.
  const failure = checkout.status === 'completed' ? null : checkout.failure;
  const terms = checkout.asyncPayment;
  const payment = isWaiting(checkout.status) ? paymentInstructions(checkout) : undefined;
  return {
    ...summary(checkout),
    error: failure ? failureCode(failure) : null,
    reason: failure?.reason ?? null,
    installments: {
      count: checkout.installments.count,
      amounts: installmentAmounts(checkout.installments).map((cents) =>
        formatMinorUnits(cents, checkout.currency),
      ),
    },
    ...(payment && { payment }),
    ...(terms && { expires_at: terms.expiresAt }),
    ...(terms?.dueDate !== undefined && { due_date: terms.dueDate }),
    created_at: checkout.createdAt,
    updated_at: checkout.updatedAt,
  };
}

/** The fields a completed answer and the GET view share, in the order they are sent. */
function summary(checkout: Checkout) {
  return {
    checkout_id: checkout.id,
    status: checkout.status,
    total_amount: formatMinorUnits(checkout.totalCents, checkout.currency),
    currency: checkout.currency,
    payment_id: checkout.paymentId,
    order_id: checkout.orderId,
  };
}

/** `Retry-After` in whole seconds, at least 1. */
function retryAfter(ms: number): Record<string, string> {
  return { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) };
}

/**
 * A product id as an answer may echo it, unless it reads as a card number (12 to 19 digits that
 * pass Luhn: a card pasted into the wrong field): then only its last 4 are shown, as anywhere a
 * card number could land. An answer never carries a card number, whichever field it came in.
 */
function notACardNumber(productId: string): string {
  if (!/^\d{12,19}$/.test(productId) || !isLuhnValid(productId)) return productId;
  return `${'*'.repeat(productId.length - 4)}${productId.slice(-4)}`;
}
