import { describe, expect, it } from 'vitest';
import type { Checkout, CheckoutFailure, SagaStep } from '#lib/checkout/checkout.ts';
import type { CheckoutOutcome, FinishedOutcome } from '#lib/checkout/checkout-outcome.ts';
import { checkoutView, presentOutcome, renderFinished } from '#lib/http/checkout-presenter.ts';
import { recordedCheckout } from './fakes.ts';

/**
 * The presenter, the one place where checkout outcomes become HTTP answers: status, headers
 * and body bytes.
 */

const ID = '6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f';
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

const completed = recordedCheckout(ID, {
  status: 'completed',
  paymentId: 'txn_0001',
  orderId: 'ord_0001',
});

/** What a shop is shown of `completed`, in the answer to its POST and its GET. */
const COMPLETED_BODY = {
  checkout_id: ID,
  status: 'completed',
  total_amount: '349.70',
  currency: 'BRL',
  payment_id: 'txn_0001',
  order_id: 'ord_0001',
  error: null,
};

const failure = (step: SagaStep, kind: CheckoutFailure['kind']): CheckoutFailure => ({
  step,
  kind,
  reason: kind === 'refused' ? 'declined' : 'http_503',
  message: `the ${step} service said no`,
});

/** A checkout that ended `status` after `failure`, with the undos that kept failing. */
const ended = (
  theFailure: CheckoutFailure,
  status: 'failed' | 'requires_attention' = 'failed',
  undoFailures: string[] = [],
) => recordedCheckout(ID, { status, paymentId: 'txn_0001', failure: theFailure, undoFailures });

const PIX_EXPIRES_AT = '2026-11-24T12:30:00.000Z';
const PIX_INSTRUCTIONS = {
  method: 'pix',
  qrCode: '00020101021226850014br.gov.bcb.pix',
  expiresAt: PIX_EXPIRES_AT,
} as const;
const BOLETO_INSTRUCTIONS = {
  method: 'boleto',
  barcode: '00191000000000349701234170000000012345',
  digitableLine: '00190.00009 00000.000000 00000.000000 1 00000000034970',
  url: 'https://boleto.example.com/bol_x',
  dueDate: '2026-11-27',
} as const;

/** A Pix issued for `ID`, at `status`. */
const pix = (status: Checkout['status'] = 'awaiting_payment', qrCodeBase64?: string) =>
  recordedCheckout(ID, {
    status,
    method: 'pix',
    card: null,
    paymentId: `pix_${ID}`,
    asyncPayment: {
      expiresAt: PIX_EXPIRES_AT,
      instructions: { ...PIX_INSTRUCTIONS, ...(qrCodeBase64 && { qrCodeBase64 }) },
    },
  });

/** A boleto issued for `ID`, due on the 27th, expiring at the end of Dec 2 in São Paulo. */
const boleto = (status: Checkout['status'] = 'awaiting_payment') =>
  recordedCheckout(ID, {
    status,
    method: 'boleto',
    card: null,
    paymentId: `bol_${ID}`,
    asyncPayment: {
      expiresAt: '2026-12-03T03:00:00.000Z',
      dueDate: '2026-11-27',
      instructions: BOLETO_INSTRUCTIONS,
    },
  });

/** One outcome of each finished kind, the last with undos that kept failing. */
function finishedOutcomes(): FinishedOutcome[] {
  const declined = failure('payment', 'refused');
  const down = failure('order', 'unavailable');
  return [
    { kind: 'completed', checkout: completed },
    { kind: 'expired', checkout: pix('expired') },
    { kind: 'refused', checkout: ended(declined), failure: declined },
    {
      kind: 'unavailable',
      checkout: ended(down, 'requires_attention', ['refund_payment']),
      failure: down,
    },
  ];
}

const bodyOf = (answer: { body: string }) => JSON.parse(answer.body) as Record<string, unknown>;

describe('presentOutcome of a finished checkout', () => {
  it('answers a completed checkout 200 with its exact total, ids and no error', () => {
    const answer = presentOutcome({ kind: 'completed', checkout: completed });
    expect(answer).toEqual({ statusCode: 200, headers: JSON_TYPE, body: answer.body });
    expect(bodyOf(answer)).toEqual(COMPLETED_BODY);
  });

  it.each([
    { step: 'payment', kind: 'refused', statusCode: 422, error: 'payment_failed' },
    { step: 'inventory', kind: 'refused', statusCode: 422, error: 'inventory_failed' },
    { step: 'order', kind: 'refused', statusCode: 422, error: 'order_failed' },
    { step: 'payment', kind: 'unavailable', statusCode: 502, error: 'payment_unavailable' },
    { step: 'inventory', kind: 'unavailable', statusCode: 502, error: 'inventory_unavailable' },
    { step: 'order', kind: 'unavailable', statusCode: 502, error: 'order_unavailable' },
  ] as const)(
    'answers a checkout the $step service left $kind with $statusCode $error, its reason and message',
    ({ step, kind, statusCode, error }) => {
      const theFailure = failure(step, kind);
      const answer = presentOutcome({ kind, checkout: ended(theFailure), failure: theFailure });
      expect(answer).toEqual({ statusCode, headers: JSON_TYPE, body: answer.body });
      expect(bodyOf(answer)).toEqual({
        checkout_id: ID,
        status: 'failed',
        error,
        reason: theFailure.reason,
        message: `the ${step} service said no`,
      });
    },
  );

  it.each([
    { kind: 'refused', failure: failure('inventory', 'refused'), undo: ['refund_payment'] },
    { kind: 'unavailable', failure: failure('order', 'unavailable'), undo: ['release_inventory'] },
    { kind: 'unavailable', failure: failure('payment', 'unavailable'), undo: ['settle_payment'] },
  ] as const)(
    'answers a checkout that needs attention after $failure.reason 409 checkout_requires_attention, never claiming an undo',
    ({ kind, failure: theFailure, undo }) => {
      const checkout = ended(theFailure, 'requires_attention', [...undo]);
      const answer = presentOutcome({ kind, checkout, failure: theFailure });

      expect(answer).toEqual({ statusCode: 409, headers: JSON_TYPE, body: answer.body });
      expect(Object.keys(bodyOf(answer))).toEqual(['checkout_id', 'status', 'error', 'message']);
      expect(bodyOf(answer)).toEqual({
        checkout_id: ID,
        status: 'requires_attention',
        error: 'checkout_requires_attention',
        message: expect.stringMatching(/money may be held.*Do not start another checkout/),
      });
      expect(answer.body).not.toMatch(/undone|refunded|released|said no|_unavailable|_failed/);
    },
  );

  it.each(finishedOutcomes())(
    'sends a $kind checkout exactly the answer renderFinished stores for it, without a retry hint',
    (outcome) => {
      const answer = presentOutcome(outcome);
      expect({ code: answer.statusCode, body: answer.body }).toEqual(renderFinished(outcome));
      expect(answer.headers).not.toHaveProperty('retry-after');
      expect(answer.headers).not.toHaveProperty('idempotent-replayed');
    },
  );
});

describe('presentOutcome of a Pix or boleto', () => {
  it('answers a Pix issued 202 awaiting_payment with its QR code and expiry, no order and no error', () => {
    const answer = presentOutcome({ kind: 'awaiting', checkout: pix() });
    expect(answer).toEqual({ statusCode: 202, headers: JSON_TYPE, body: answer.body });
    expect(bodyOf(answer)).toEqual({
      checkout_id: ID,
      status: 'awaiting_payment',
      total_amount: '349.70',
      currency: 'BRL',
      payment_id: `pix_${ID}`,
      payment: {
        method: 'pix',
        qr_code: PIX_INSTRUCTIONS.qrCode,
        expires_at: PIX_EXPIRES_AT,
      },
    });
    expect(Object.keys(bodyOf(answer))).toEqual([
      'checkout_id',
      'status',
      'total_amount',
      'currency',
      'payment_id',
      'payment',
    ]);
  });

  it('passes a QR code image on when the service gave one', () => {
    const answer = presentOutcome({ kind: 'awaiting', checkout: pix('awaiting_payment', 'iVBOR') });
    expect(bodyOf(answer).payment).toMatchObject({ qr_code_base64: 'iVBOR' });
  });

  it('answers a boleto issued 202 with its barcode, digitable line, URL, due date and expiry', () => {
    const answer = presentOutcome({ kind: 'awaiting', checkout: boleto() });
    expect(answer.statusCode).toBe(202);
    expect(bodyOf(answer)).toEqual({
      checkout_id: ID,
      status: 'awaiting_payment',
      total_amount: '349.70',
      currency: 'BRL',
      payment_id: `bol_${ID}`,
      payment: {
        method: 'boleto',
        barcode: BOLETO_INSTRUCTIONS.barcode,
        digitable_line: BOLETO_INSTRUCTIONS.digitableLine,
        url: BOLETO_INSTRUCTIONS.url,
        due_date: '2026-11-27',
        expires_at: '2026-12-03T03:00:00.000Z',
      },
    });
  });

  it('answers an expired one 422 payment_expired, stored for replay like any final answer', () => {
    const outcome = { kind: 'expired', checkout: boleto('expired') } as const;
    const answer = presentOutcome(outcome);
    expect(answer).toEqual({ statusCode: 422, headers: JSON_TYPE, body: answer.body });
    expect(bodyOf(answer)).toEqual({
      checkout_id: ID,
      status: 'expired',
      error: 'payment_expired',
      message: expect.stringMatching(/^The boleto was not paid before it expired/),
    });
    expect(renderFinished(outcome)).toEqual({ code: 422, body: answer.body });
    expect(bodyOf(presentOutcome({ kind: 'expired', checkout: pix('expired') })).message).toMatch(
      /^The Pix was not paid/,
    );
  });
});

describe('presentOutcome of a checkout that is not finished', () => {
  it('answers an incomplete checkout 503 checkout_incomplete with where it stands', () => {
    const checkout = recordedCheckout(ID, { status: 'payment_processed' });
    const answer = presentOutcome({ kind: 'incomplete', checkout, retryInMs: 60_000, keyed: true });
    expect(answer).toEqual({
      statusCode: 503,
      headers: { ...JSON_TYPE, 'retry-after': '60' },
      body: answer.body,
    });
    expect(bodyOf(answer)).toEqual({
      checkout_id: ID,
      status: 'payment_processed',
      error: 'checkout_incomplete',
      message: expect.stringContaining('Retry with the same Idempotency-Key'),
    });
  });

  it('tells a caller who sent no Idempotency-Key to read the checkout by its id, not to retry', () => {
    const checkout = recordedCheckout(ID, { status: 'payment_processed' });
    const answer = presentOutcome({
      kind: 'incomplete',
      checkout,
      retryInMs: 60_000,
      keyed: false,
    });
    const body = bodyOf(answer);
    expect(answer.statusCode).toBe(503);
    expect(answer.headers).toMatchObject({ 'retry-after': '60' });
    expect(body).toMatchObject({ checkout_id: ID, error: 'checkout_incomplete' });
    expect(body.message).not.toMatch(/same Idempotency-Key|retry with/i);
    expect(body.message).toContain('GET /checkout/{id}');
    expect(body.message).toContain('checkout_id is in this answer');
    expect(body.message).toContain('send an Idempotency-Key with every checkout');
    expect(body.message).toMatch(/Do not send it again: without an Idempotency-Key/);
  });

  it('answers a checkout another worker holds 409 checkout_in_progress with its id', () => {
    const answer = presentOutcome({ kind: 'in_progress', checkoutId: ID, retryInMs: 30_000 });
    expect(answer).toEqual({
      statusCode: 409,
      headers: { ...JSON_TYPE, 'retry-after': '30' },
      body: answer.body,
    });
    expect(bodyOf(answer)).toEqual({
      error: 'checkout_in_progress',
      checkout_id: ID,
      message: 'A checkout with this Idempotency-Key is still running; retry later',
    });
  });

  it.each([
    { retryInMs: 60_000, header: '60' },
    { retryInMs: 12_000, header: '12' },
    { retryInMs: 1_500, header: '2' },
    { retryInMs: 1_001, header: '2' },
    { retryInMs: 1_000, header: '1' },
    { retryInMs: 10, header: '1' },
    { retryInMs: 0, header: '1' },
  ])(
    'rounds a retry in $retryInMs ms up to Retry-After: $header, never less than one second',
    ({ retryInMs, header }) => {
      const checkout = recordedCheckout(ID);
      const waits: CheckoutOutcome[] = [
        { kind: 'incomplete', checkout, retryInMs },
        { kind: 'in_progress', checkoutId: ID, retryInMs },
      ];
      for (const outcome of waits) {
        expect(presentOutcome(outcome).headers).toMatchObject({ 'retry-after': header });
      }
    },
  );
});

describe('presentOutcome of a repeated Idempotency-Key', () => {
  it('answers a key used with a different request 422 idempotency_key_mismatch', () => {
    const answer = presentOutcome({ kind: 'key_mismatch' });
    expect(answer).toEqual({ statusCode: 422, headers: JSON_TYPE, body: answer.body });
    expect(bodyOf(answer)).toEqual({
      error: 'idempotency_key_mismatch',
      message: 'This Idempotency-Key was already used with a different request body',
    });
  });

  it('replays a stored answer byte for byte, even one this version would format differently', () => {
    const body = '{ "status" : "completed",\n  "checkout_id": "x" }';
    expect(presentOutcome({ kind: 'replay', stored: { code: 200, body } })).toEqual({
      statusCode: 200,
      headers: { ...JSON_TYPE, 'idempotent-replayed': 'true' },
      body,
    });
  });
});

describe('the answer stored with a final state', () => {
  it.each(finishedOutcomes())(
    'is replayed for a $kind checkout byte for byte as the first answer, marked replayed',
    (outcome) => {
      const first = presentOutcome(outcome);
      // What `advance` stores with the final state (saga.test.ts), replayed for its key.
      const replay = presentOutcome({ kind: 'replay', stored: renderFinished(outcome) });

      expect(replay).toEqual({
        statusCode: first.statusCode,
        headers: { ...first.headers, 'idempotent-replayed': 'true' },
        body: first.body,
      });
      expect(first.headers).not.toHaveProperty('idempotent-replayed');
    },
  );
});

describe('checkoutView', () => {
  it('shows a checkout resolved completed by hand without the failure it keeps for the record', () => {
    const failure = {
      step: 'inventory',
      kind: 'refused',
      reason: 'out_of_stock',
      message: 'm',
    } as const;
    const view = checkoutView({ ...completed, failure });
    expect(view).toMatchObject({ status: 'completed', error: null, reason: null });
  });

  it('shows a checkout’s state, total and ids, and nothing of the card, customer or internals', () => {
    const view = checkoutView(completed);
    expect(view).toEqual({
      ...COMPLETED_BODY,
      reason: null,
      installments: { count: 1, amounts: ['349.70'] },
      created_at: completed.createdAt,
      updated_at: completed.updatedAt,
    });
    const shown = JSON.stringify(view);
    for (const hidden of ['visa', '1111', 'customer@example.com', 'Rua das Flores', 'prod_001']) {
      expect(shown).not.toContain(hidden);
    }
  });

  it('shows a waiting Pix’s instructions and expiry, as the 202 did', () => {
    const view = checkoutView(pix());
    expect(view).toMatchObject({
      status: 'awaiting_payment',
      payment: bodyOf(presentOutcome({ kind: 'awaiting', checkout: pix() })).payment,
      expires_at: PIX_EXPIRES_AT,
    });
    expect(view).not.toHaveProperty('due_date');
  });

  it('shows a boleto’s due date and expiry, and its instructions only while it waits', () => {
    expect(checkoutView(boleto())).toMatchObject({
      payment: { method: 'boleto', barcode: BOLETO_INSTRUCTIONS.barcode },
      expires_at: '2026-12-03T03:00:00.000Z',
      due_date: '2026-11-27',
    });
    for (const status of ['completed', 'expired', 'failed'] as const) {
      const view = checkoutView(boleto(status));
      expect(view, status).not.toHaveProperty('payment');
      expect(view, status).toMatchObject({
        expires_at: '2026-12-03T03:00:00.000Z',
        due_date: '2026-11-27',
      });
      expect(JSON.stringify(view)).not.toContain(BOLETO_INSTRUCTIONS.barcode);
    }
  });

  it('shows nothing of a Pix or boleto for a card checkout', () => {
    const view = checkoutView(completed);
    for (const field of ['payment', 'expires_at', 'due_date']) {
      expect(view).not.toHaveProperty(field);
    }
  });

  it('shows the failure’s code and reason, but not its message or the undos that failed', () => {
    const view = checkoutView(
      ended(failure('inventory', 'refused'), 'requires_attention', ['refund_payment']),
    );
    expect(view).toMatchObject({
      status: 'requires_attention',
      error: 'inventory_failed',
      reason: 'declined',
    });
    expect(JSON.stringify(view)).not.toMatch(/said no|refund_payment/);
  });
});

describe('presentOutcome of a cart the catalog refused', () => {
  const card = '4556737586899855'; // a card number pasted where a product id goes

  it('never echoes a product id that reads as a card number, only its last 4', () => {
    const answer = presentOutcome({ kind: 'unknown_product', productId: card });
    expect(answer.body).not.toContain(card);
    expect(JSON.parse(answer.body)).toMatchObject({ product_id: '************9855' });
    const changed = presentOutcome({
      kind: 'price_changed',
      currency: 'BRL',
      items: [{ productId: card, priceSentCents: 100, currentPriceCents: 200 }],
    });
    expect(changed.body).not.toContain(card);
  });

  it('echoes any other product id as sent, a 13-digit barcode that fails Luhn included', () => {
    for (const productId of ['prod_001', '7891234567895']) {
      const answer = presentOutcome({ kind: 'unknown_product', productId });
      expect(JSON.parse(answer.body)).toMatchObject({ product_id: productId });
    }
  });
});
