import type { APIGatewayProxyResult } from 'aws-lambda';
import { type Checkout, failureCode } from '#lib/checkout/checkout.ts';
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
    case 'refused':
    case 'unavailable': {
      const { code, body } = renderFinished(outcome);
      return jsonTextResponse(code, body);
    }
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
          product_id: item.productId,
          price_sent: toWireAmount(item.priceSentCents, outcome.currency),
          current_price: toWireAmount(item.currentPriceCents, outcome.currency),
        })),
      });
    case 'unknown_product':
      return jsonResponse(422, {
        error: 'unknown_product',
        product_id: outcome.productId,
        message: `The catalog does not know product ${outcome.productId}; nothing was charged`,
      });
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
 * when a service refused, 502 when one could not be reached (or the checkout was abandoned),
 * everything done having been undone; 409 `checkout_requires_attention` when it was not.
 */
export function renderFinished(outcome: FinishedOutcome): StoredResponse {
  const { checkout } = outcome;
  if (outcome.kind === 'completed') {
    return {
      code: 200,
      body: JSON.stringify({ ...summary(checkout), error: null }),
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

/** `GET /checkout/{id}`: the stored checkout without any card data or internals. */
export function checkoutView(checkout: Checkout): Record<string, unknown> {
  // A checkout resolved `completed` by hand keeps its failure for the record, not for the shop.
  const failure = checkout.status === 'completed' ? null : checkout.failure;
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
