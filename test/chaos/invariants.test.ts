import { describe, expect, it } from 'vitest';
import {
  type AsyncCheckoutSpec,
  type AsyncOracleInput,
  type CheckoutRowView,
  type CheckoutSpec,
  type ClientAnswer,
  checkAsyncInvariants,
  checkInvariants,
  type ForgedWebhook,
  type OracleInput,
} from './invariants.ts';
import type { AsyncCharge, LedgerSnapshot } from './ledger.ts';
import { storedFlow } from './scenario.ts';

/* The oracle must be able to fail: each deliberately wrong ledger/row/answer is reported. */
const ID = '11111111-1111-4111-8111-111111111111';
const spec: CheckoutSpec = {
  index: 0,
  email: 'chaos+t@example.com',
  currency: 'BRL',
  items: [{ productId: 'p1', quantity: 2, sentMinor: 17485 }],
  prices: { p1: 17485 },
  card: { number: '4000056655665556', cvv: '7391' },
};
const completedRow: CheckoutRowView = {
  id: ID,
  status: 'completed',
  customerEmail: spec.email,
  paymentId: 'txn_1',
  orderId: 'ord_1',
  undoFailures: [],
  dump: `{"id":"${ID}","status":"completed","card_last4":"5556"}`,
};
const completedLedger = (): LedgerSnapshot => ({
  charges: [
    {
      transactionId: 'txn_1',
      checkoutId: ID,
      customerEmail: spec.email,
      amount: 34970,
      currency: 'BRL',
      status: 'success',
      refunded: 0,
    },
  ],
  authorizations: [],
  captures: [],
  voids: [],
  refunds: [],
  deductions: [{ checkoutId: ID, items: [{ productId: 'p1', quantity: 2 }], released: false }],
  orders: [
    {
      orderId: 'ord_1',
      checkoutId: ID,
      customerEmail: spec.email,
      totalAmount: 34970,
      currency: 'BRL',
      paymentId: 'txn_1',
      items: [{ productId: 'p1', quantity: 2, priceMinor: 17485 }],
      status: 'created',
    },
  ],
});
const ok200: ClientAnswer = {
  checkout: 0,
  source: 'first',
  status: 200,
  replayed: false,
  body: JSON.stringify({
    checkout_id: ID,
    status: 'completed',
    total_amount: '349.70',
    currency: 'BRL',
    payment_id: 'txn_1',
    order_id: 'ord_1',
    error: null,
  }),
};
const check = (overrides: Partial<OracleInput>) =>
  checkInvariants({
    checkouts: [spec],
    answers: [ok200],
    rows: [completedRow],
    ledger: completedLedger(),
    logs: '',
    cardLeaks: [],
    ...overrides,
  });
const kinds = (overrides: Partial<OracleInput>) => check(overrides).violations.map((v) => v.kind);

/** The ledger of a checkout that was charged, stocked and then fully undone. */
function undoneLedger(): LedgerSnapshot {
  const ledger = completedLedger();
  ledger.orders = [];
  ledger.charges[0] = {
    ...(ledger.charges[0] as LedgerSnapshot['charges'][number]),
    refunded: 34970,
    status: 'refunded',
  };
  ledger.refunds = [{ refundId: 'rf_1', transactionId: 'txn_1', checkoutId: ID, amount: 34970 }];
  ledger.deductions = [
    { checkoutId: ID, items: [{ productId: 'p1', quantity: 2 }], released: true },
  ];
  return ledger;
}
const failedRow: CheckoutRowView = { ...completedRow, status: 'failed', orderId: null };
const failed502: ClientAnswer = {
  checkout: 0,
  source: 'first',
  status: 502,
  replayed: false,
  body: JSON.stringify({ checkout_id: ID, status: 'failed', error: 'order_unavailable' }),
};

/** A ledger that still holds, for the checkout, only what is named; the rest was undone. */
function ledgerLeaving(left: { payment?: true; inventory?: true; order?: true }): LedgerSnapshot {
  const kept = completedLedger();
  const undone = undoneLedger();
  return {
    ...kept,
    charges: left.payment ? kept.charges : undone.charges,
    refunds: left.payment ? [] : undone.refunds,
    deductions: left.inventory ? kept.deductions : undone.deductions,
    orders: left.order ? kept.orders : [],
  };
}
/** A requires_attention row left with these undo_failures. */
const attentionRow = (...undoFailures: string[]): CheckoutRowView => ({
  ...failedRow,
  status: 'requires_attention',
  undoFailures,
});
/** Checks one requires_attention checkout (no client answer) against a ledger. */
const attentionKinds = (
  undoFailures: string[],
  left: { payment?: true; inventory?: true; order?: true },
) => kinds({ rows: [attentionRow(...undoFailures)], answers: [], ledger: ledgerLeaving(left) });
/**
 * What an older version stored for a checkout that ended requires_attention: a 502 naming the
 * unreachable step, although the charge and the stock still stood (issue 19, finding 5).
 */
const attention502: ClientAnswer = {
  ...failed502,
  body: JSON.stringify({
    checkout_id: ID,
    status: 'requires_attention',
    error: 'order_unavailable',
    reason: 'abandoned',
    message:
      'The checkout could not be confirmed in time and was undone; undoing it failed (refund_payment), the checkout needs attention',
  }),
};
/** The requires_attention answer (design §2): 409, no Retry-After, the same on replay. */
const attention409: ClientAnswer = {
  ...failed502,
  status: 409,
  retryAfter: null,
  body: JSON.stringify({
    checkout_id: ID,
    status: 'requires_attention',
    error: 'checkout_requires_attention',
    message: 'The checkout stopped part-way and a person must finish it',
  }),
};
/** What a client gets while nothing is final yet, and with no answer at all. */
const incomplete503: ClientAnswer = {
  ...failed502,
  status: 503,
  body: JSON.stringify({ checkout_id: ID, status: 'pending', error: 'checkout_incomplete' }),
};
const inProgress409: ClientAnswer = {
  ...failed502,
  source: 'concurrent',
  status: 409,
  body: JSON.stringify({ error: 'checkout_in_progress', checkout_id: ID }),
};
const databaseDown503: ClientAnswer = {
  ...failed502,
  source: 'retry',
  status: 503,
  body: '{"error":"service_unavailable","message":"The service is temporarily unavailable, please retry"}',
};
const noAnswer: ClientAnswer = { ...failed502, status: 'error', body: 'fetch failed' };
/** API Gateway's own answer when the function itself fails: no checkout id, no status. */
const gateway502: ClientAnswer = {
  ...failed502,
  body: '{"message":"Internal server error"}',
};

describe('the chaos oracle', () => {
  it('passes a completed checkout the ledgers agree with, and a failed one fully undone', () => {
    expect(check({}).violations).toEqual([]);
    expect(
      check({ rows: [failedRow], answers: [failed502], ledger: undoneLedger() }).violations,
    ).toEqual([]);
  });

  it('reports a completed checkout whose charge was refunded', () => {
    const ledger = completedLedger();
    ledger.charges[0] = {
      ...(ledger.charges[0] as LedgerSnapshot['charges'][number]),
      refunded: 34970,
      status: 'refunded',
    };
    ledger.refunds = [{ refundId: 'rf_1', transactionId: 'txn_1', checkoutId: ID, amount: 34970 }];
    expect(kinds({ ledger })).toContain('completed_money');
  });

  it('reports a completed checkout charged twice, with no order, or with its stock released', () => {
    const twice = completedLedger();
    twice.charges.push({
      ...(twice.charges[0] as LedgerSnapshot['charges'][number]),
      transactionId: 'txn_2',
    });
    expect(kinds({ ledger: twice })).toContain('completed_money');
    const noOrder = completedLedger();
    noOrder.orders = [];
    expect(kinds({ ledger: noOrder })).toContain('completed_order');
    const released = completedLedger();
    released.deductions = undoneLedger().deductions;
    expect(kinds({ ledger: released })).toContain('completed_stock');
  });

  it('completed means one charge of the total with nothing refunded, not one net charge', () => {
    // Let through before: the net was the total, and there was one charge.
    const netted = completedLedger();
    const charge = netted.charges[0] as LedgerSnapshot['charges'][number];
    netted.charges[0] = { ...charge, amount: 2 * 34970, refunded: 34970 };
    netted.refunds = [{ refundId: 'rf_1', transactionId: 'txn_1', checkoutId: ID, amount: 34970 }];
    // (and a charge of twice the catalog's total is not its total)
    expect(kinds({ ledger: netted })).toEqual(['completed_money', 'not_catalog_price']);
    // A declined charge beside it moved no money: still one charge.
    const declined = completedLedger();
    declined.charges.unshift({ ...charge, transactionId: 'txn_0', status: 'failed' });
    expect(kinds({ ledger: declined })).toEqual([]);
  });

  it('completed means one deduction standing, and an order paid by its own charge', () => {
    // Let through before: the net stock per product was right.
    const split = completedLedger();
    split.deductions = [
      { checkoutId: ID, items: [{ productId: 'p1', quantity: 1 }], released: false },
      { checkoutId: ID, items: [{ productId: 'p1', quantity: 1 }], released: false },
    ];
    expect(kinds({ ledger: split })).toEqual(['completed_stock']);
    // An order created with another checkout's transaction (a duplicate answer read as ours).
    const otherPayment = completedLedger();
    const order = otherPayment.orders[0] as LedgerSnapshot['orders'][number];
    otherPayment.orders[0] = { ...order, paymentId: 'txn_of_someone_else' };
    expect(kinds({ ledger: otherPayment })).toEqual(['completed_order']);
  });

  it('failed allows at most one charge, refunded in full', () => {
    // Let through before: two charges, both refunded, net zero.
    const twice = undoneLedger();
    twice.charges.push({
      ...(twice.charges[0] as LedgerSnapshot['charges'][number]),
      transactionId: 'txn_2',
    });
    expect(kinds({ rows: [failedRow], answers: [failed502], ledger: twice })).toEqual([
      'failed_money',
    ]);
    const declined = undoneLedger();
    declined.charges.push({
      ...(declined.charges[0] as LedgerSnapshot['charges'][number]),
      transactionId: 'txn_2',
      status: 'failed',
      refunded: 0,
    });
    expect(kinds({ rows: [failedRow], answers: [failed502], ledger: declined })).toEqual([]);
  });

  it('reports a failed checkout that kept money, stock or an order', () => {
    const answers = [failed502];
    expect(kinds({ rows: [failedRow], answers, ledger: completedLedger() })).toEqual(
      expect.arrayContaining(['failed_money', 'failed_stock', 'failed_order']),
    );
  });

  it('reports a charge, deduction or order without its checkout row', () => {
    expect(kinds({ rows: [], answers: [] })).toEqual([
      'ledger_without_row',
      'ledger_without_row',
      'ledger_without_row',
    ]);
  });

  it('reports a checkout left unfinished, and an unexplained requires_attention', () => {
    expect(kinds({ rows: [{ ...completedRow, status: 'pending' }], answers: [] })).toContain(
      'not_final',
    );
    const attention = { ...failedRow, status: 'requires_attention' };
    const ledger = completedLedger();
    ledger.orders = [];
    expect(kinds({ rows: [attention], answers: [], ledger })).toContain('attention_unexplained');
    const partly = { ...attention, undoFailures: ['refund_payment'] };
    expect(kinds({ rows: [partly], answers: [], ledger })).toContain('attention_unexplained');
    const explained = { ...attention, undoFailures: ['release_inventory', 'refund_payment'] };
    const report = check({ rows: [explained], answers: [], ledger });
    expect(report.violations).toEqual([]);
    expect(report.attention).toHaveLength(1);
    expect(report.attention[0]?.discrepancy).toMatch(/^payment \+ inventory/);
  });

  it('reports answers that disagree with the final state or with each other', () => {
    expect(kinds({ rows: [failedRow], ledger: undoneLedger() })).toContain('answer_disagrees');
    expect(kinds({ answers: [failed502] })).toContain('answer_disagrees');
    const replay = { ...ok200, source: 'retry', body: ok200.body.replace('349.70', '349.7') };
    expect(kinds({ answers: [ok200, replay] })).toContain('answer_inconsistent');
    const mismatch = { ...failed502, status: 422, body: '{"error":"idempotency_key_mismatch"}' };
    expect(kinds({ answers: [ok200, mismatch] })).toContain('unexpected_answer');
  });

  it('a settle failure explains only its own step and the steps before it', () => {
    // settle_payment: recovery never learnt whether the charge happened, nothing later ran.
    expect(attentionKinds(['settle_payment'], { payment: true })).toEqual([]);
    expect(attentionKinds(['settle_payment'], {})).toEqual([]);
    expect(attentionKinds(['settle_payment'], { payment: true, inventory: true })).toEqual([
      'attention_unexplained',
    ]);
    expect(attentionKinds(['settle_payment'], { order: true })).toEqual(['attention_unexplained']);
    // settle_inventory: charged for sure, the deduction unknown, no order can exist.
    expect(attentionKinds(['settle_inventory'], { payment: true, inventory: true })).toEqual([]);
    expect(attentionKinds(['settle_inventory'], { payment: true })).toEqual([]);
    expect(
      attentionKinds(['settle_inventory'], { payment: true, inventory: true, order: true }),
    ).toEqual(['attention_unexplained']);
    // settle_order: charged and stocked, the order unknown: all three may be left.
    expect(
      attentionKinds(['settle_order'], { payment: true, inventory: true, order: true }),
    ).toEqual([]);
    const report = check({
      rows: [attentionRow('settle_payment')],
      answers: [],
      ledger: ledgerLeaving({ payment: true, inventory: true }),
    });
    expect(report.violations[0]?.message).toMatch(/inventory left, explained by none/);
  });

  it('a failed undo explains only its own service, and only names the code writes count', () => {
    expect(attentionKinds(['refund_payment'], { payment: true })).toEqual([]);
    expect(attentionKinds(['release_inventory'], { inventory: true })).toEqual([]);
    expect(attentionKinds(['release_inventory', 'refund_payment'], {})).toEqual([]); // undone after all
    expect(attentionKinds(['refund_payment'], { inventory: true })).toEqual([
      'attention_unexplained',
    ]);
    expect(attentionKinds(['release_inventory'], { payment: true })).toEqual([
      'attention_unexplained',
    ]);
    // An order never exists while compensating: no undo failure explains one.
    expect(
      attentionKinds(['release_inventory', 'refund_payment'], {
        payment: true,
        inventory: true,
        order: true,
      }),
    ).toEqual(['attention_unexplained']);
    // Names the code never writes explain nothing and are reported even on clean ledgers
    // (the old check matched any name containing "payment", "order", "settle"...).
    expect(attentionKinds(['payment_lost'], { payment: true })).toEqual(['attention_unexplained']);
    expect(attentionKinds(['unsettled_order'], { order: true })).toEqual(['attention_unexplained']);
    expect(attentionKinds(['read_checkout'], {})).toEqual(['attention_unexplained']);
    expect(attentionKinds([], {})).toEqual(['attention_unexplained']);
  });

  it('a 200 must end completed', () => {
    expect(kinds({ answers: [ok200, { ...ok200, source: 'retry', replayed: true }] })).toEqual([]);
    expect(kinds({ rows: [failedRow], ledger: undoneLedger() })).toEqual(['answer_disagrees']);
    const attention = attentionRow('refund_payment');
    const ledger = ledgerLeaving({ payment: true });
    expect(kinds({ rows: [attention], ledger })).toEqual(['answer_disagrees']);
  });

  it('a 422 or 502 ends failed, and only failed', () => {
    const failed = { rows: [failedRow], ledger: undoneLedger() };
    const attention = {
      rows: [attentionRow('refund_payment')],
      ledger: ledgerLeaving({ payment: true }),
    };
    // Legitimate: told failed and failed, replayed byte for byte.
    expect(kinds({ ...failed, answers: [failed502, { ...failed502, status: 502 }] })).toEqual([]);
    expect(kinds({ ...failed, answers: [{ ...failed502, status: 422 }] })).toEqual([]);
    // The gateway's 502 for a crashed function says nothing more than "did not complete".
    expect(kinds({ ...failed, answers: [gateway502] })).toEqual([]);
    // Told failed, but something was left.
    expect(kinds({ ...attention, answers: [failed502] })).toEqual(['answer_disagrees']);
    // Told requires_attention, but the row says failed: a final state rewritten.
    expect(kinds({ ...failed, answers: [attention502] })).toEqual(['answer_disagrees']);
    // Told it did not complete, but it completed.
    expect(kinds({ answers: [failed502] })).toEqual(['answer_disagrees']);
    expect(kinds({ answers: [gateway502] })).toEqual(['answer_disagrees']);
    expect(kinds({ ...attention, answers: [gateway502] })).toEqual(['answer_disagrees']);
    const refusedNoId = { ...failed502, status: 422, body: '{"status":"failed"}' };
    expect(kinds({ ...attention, answers: [refusedNoId] })).toEqual(['answer_disagrees']);
    // Let through before: a 502 (or 422) whose body said requires_attention, for a checkout
    // that ended so. "502: steps undone" was untrue: the charge still stood.
    const replay = { ...attention502, source: 'lease_retry', replayed: true };
    expect(kinds({ ...attention, answers: [attention502, replay] })).toEqual([
      'answer_disagrees',
      'answer_disagrees',
    ]);
    expect(kinds({ ...attention, answers: [{ ...attention502, status: 422 }] })).toEqual([
      'answer_disagrees',
    ]);
  });

  it('a 409 checkout_requires_attention ends requires_attention, without Retry-After, the same on replay', () => {
    const attention = {
      rows: [attentionRow('refund_payment')],
      ledger: ledgerLeaving({ payment: true }),
    };
    const replay = { ...attention409, source: 'lease_retry', replayed: true };
    expect(kinds({ ...attention, answers: [attention409, replay] })).toEqual([]);
    // Let through before (a 409 agreed with any final state): the row must say so too.
    expect(kinds({ rows: [failedRow], ledger: undoneLedger(), answers: [attention409] })).toEqual([
      'answer_disagrees',
    ]);
    expect(kinds({ answers: [ok200, attention409] })).toEqual([
      'answer_disagrees',
      'answer_inconsistent',
    ]);
    // ...not be told to retry, say its status, and be replayed byte for byte.
    const retry = { ...attention409, retryAfter: '2' };
    expect(kinds({ ...attention, answers: [retry] })).toEqual(['unexpected_answer']);
    const saysFailed = {
      ...attention409,
      body: attention409.body.replace('"requires_attention"', '"failed"'),
    };
    expect(kinds({ ...attention, answers: [saysFailed] })).toEqual(['unexpected_answer']);
    const reworded = { ...replay, body: replay.body.replace('a person', 'someone') };
    expect(kinds({ ...attention, answers: [attention409, reworded] })).toEqual([
      'answer_inconsistent',
    ]);
    // Any other 409 is unexpected.
    const other = { ...attention409, body: '{"error":"price_changed","items":[]}' };
    expect(kinds({ answers: [ok200, other] })).toEqual(['unexpected_answer']);
  });

  it('a 503 or 409 checkout_in_progress agrees with any final state, and no answer says nothing', () => {
    const waiting = [incomplete503, inProgress409, databaseDown503, noAnswer];
    expect(kinds({ answers: [...waiting, ok200] })).toEqual([]);
    expect(kinds({ rows: [failedRow], ledger: undoneLedger(), answers: waiting })).toEqual([]);
    const attention = {
      rows: [attentionRow('refund_payment')],
      ledger: ledgerLeaving({ payment: true }),
    };
    expect(kinds({ ...attention, answers: waiting })).toEqual([]);
    // ...but it must name this checkout.
    const other = incomplete503.body.replace(ID, '22222222-2222-4222-8222-222222222222');
    expect(kinds({ answers: [{ ...incomplete503, body: other }, ok200] })).toEqual([
      'answer_disagrees',
    ]);
  });

  it('asked once the checkout is final, a same-key request gets its final answer, replayed', () => {
    const last = { source: 'final_replay', afterEnd: true, replayed: true };
    expect(kinds({ answers: [ok200, { ...ok200, ...last }] })).toEqual([]);
    const attention = {
      rows: [attentionRow('refund_payment')],
      ledger: ledgerLeaving({ payment: true }),
    };
    expect(kinds({ ...attention, answers: [{ ...attention409, ...last }] })).toEqual([]);
    // Let through before: a 503 or a 409 in progress agreed with any final state.
    expect(kinds({ answers: [ok200, { ...incomplete503, ...last }] })).toEqual([
      'answer_disagrees',
    ]);
    expect(kinds({ answers: [ok200, { ...inProgress409, ...last }] })).toEqual([
      'answer_disagrees',
    ]);
    expect(kinds({ answers: [ok200, { ...ok200, ...last, replayed: false }] })).toEqual([
      'answer_disagrees',
    ]);
  });

  it('reports any other status as an answer a valid request should never get', () => {
    // Let through before (only 400, 404, 413, 415 and a key mismatch were reported).
    for (const status of [500, 504, 201, 429]) {
      const answer = { ...failed502, status, body: '{"error":"internal_error"}' };
      expect(kinds({ answers: [ok200, answer] }), String(status)).toEqual(['unexpected_answer']);
    }
    for (const status of [400, 404, 413, 415]) {
      const answer = { ...failed502, status, body: '{"error":"validation_error"}' };
      expect(kinds({ answers: [ok200, answer] }), String(status)).toEqual(['unexpected_answer']);
    }
    const mismatch = { ...failed502, status: 422, body: '{"error":"idempotency_key_mismatch"}' };
    expect(kinds({ answers: [ok200, mismatch] })).toEqual(['unexpected_answer']);
    // Also for a checkout never recorded (nothing on the ledgers either).
    const nothing: LedgerSnapshot = {
      ...completedLedger(),
      charges: [],
      deductions: [],
      orders: [],
    };
    const internal = { ...mismatch, status: 500, body: '{"error":"internal_error"}' };
    expect(kinds({ rows: [], answers: [internal], ledger: nothing })).toEqual([
      'unexpected_answer',
    ]);
  });

  it('a checkout whose charge an operator refunded never ends completed', () => {
    // What an operator's console refund leaves, then a takeover that completed on the replayed
    // charge: the goods ship unpaid.
    const ledger = completedLedger();
    ledger.charges[0] = {
      ...(ledger.charges[0] as LedgerSnapshot['charges'][number]),
      refunded: 34970,
      status: 'refunded',
    };
    ledger.refunds = [
      {
        refundId: 'rf_console',
        transactionId: 'txn_1',
        checkoutId: ID,
        amount: 34970,
        byOperator: true,
      },
    ];
    const refunded = [{ checkout: 0, refunded: true, released: false }];
    expect(kinds({ ledger, outsideUndos: refunded })).toEqual(['completed_after_outside_undo']);
    const released = completedLedger();
    released.deductions = undoneLedger().deductions;
    expect(
      kinds({ ledger: released, outsideUndos: [{ checkout: 0, refunded: false, released: true }] }),
    ).toEqual(['completed_after_outside_undo']);
  });

  it('an operator undo that left nothing standing ends failed, not requires_attention', () => {
    const refunded = [{ checkout: 0, refunded: true, released: true }];
    const clean = { rows: [attentionRow('refund_payment')], answers: [], ledger: undoneLedger() };
    // Let through before: requires_attention with clean ledgers was an undo whose answer was lost.
    expect(kinds(clean)).toEqual([]);
    expect(kinds({ ...clean, outsideUndos: refunded })).toEqual(['attention_over_outside_undo']);
    // Lookups that kept failing may keep recovery from seeing the refund: a person is right.
    const settle = { ...clean, rows: [attentionRow('settle_inventory')] };
    expect(kinds({ ...settle, outsideUndos: refunded, lookupsKeptFailing: [0] })).toEqual([]);
    // Something still standing (stock here) is a reason of its own.
    const stock = { ...clean, ledger: ledgerLeaving({ inventory: true }) };
    const onlyRefund = [{ checkout: 0, refunded: true, released: false }];
    const both = { ...stock, rows: [attentionRow('release_inventory')], outsideUndos: onlyRefund };
    expect(kinds(both)).toEqual([]);
    expect(check({ ...clean, outsideUndos: refunded }).violations[0]?.message).toMatch(
      /its charge was refunded and its stock released outside the checkout/,
    );
  });

  it('an order standing on a step undone outside is explained only by that undo (names: to be fixed by recovery)', () => {
    const onOrder = ledgerLeaving({ inventory: true, order: true });
    const row = attentionRow('payment_undone_under_order');
    const refunded = [{ checkout: 0, refunded: true, released: false }];
    expect(kinds({ rows: [row], answers: [], ledger: onOrder, outsideUndos: refunded })).toEqual(
      [],
    );
    // Without that operator refund the name explains nothing.
    expect(kinds({ rows: [row], answers: [], ledger: onOrder })).toEqual(['attention_unexplained']);
    const released = [{ checkout: 0, refunded: false, released: true }];
    expect(kinds({ rows: [row], answers: [], ledger: onOrder, outsideUndos: released })).toEqual([
      'attention_unexplained',
    ]);
    const onRelease = ledgerLeaving({ payment: true, order: true });
    const stockRow = attentionRow('inventory_undone_under_order');
    expect(
      kinds({ rows: [stockRow], answers: [], ledger: onRelease, outsideUndos: released }),
    ).toEqual([]);
  });

  it('reports card data in the database, in the logs, or sent to another service', () => {
    const dump = completedRow.dump.replace('}', ',"x":"4000056655665556"}');
    expect(kinds({ rows: [{ ...completedRow, dump }] })).toContain('card_in_database');
    expect(kinds({ logs: '{"level":"INFO","body":{"card_cvv":"7391"}}' })).toContain(
      'card_in_logs',
    );
    expect(kinds({ logs: '{"message":"x","value":"7391"}' })).toContain('card_in_logs');
    expect(kinds({ cardLeaks: ['deduct of x carried card data'] })).toContain(
      'card_sent_elsewhere',
    );
    expect(kinds({ logs: '{"card_last4":"5556","port":7391}' })).toEqual([]);
  });
});

/** The completed checkout's ledger, charged and ordered at `unitMinor` each (2 × p1). */
function ledgerPricedAt(unitMinor: number): LedgerSnapshot {
  const ledger = completedLedger();
  const charge = ledger.charges[0] as LedgerSnapshot['charges'][number];
  const order = ledger.orders[0] as LedgerSnapshot['orders'][number];
  ledger.charges[0] = { ...charge, amount: 2 * unitMinor };
  ledger.orders[0] = {
    ...order,
    totalAmount: 2 * unitMinor,
    items: [{ productId: 'p1', quantity: 2, priceMinor: unitMinor }],
  };
  return ledger;
}
/** The answers a refusal of pricing gets (design §2): nothing written, no checkout id. */
const priceChanged409: ClientAnswer = {
  checkout: 0,
  source: 'first',
  status: 409,
  replayed: false,
  body: JSON.stringify({
    error: 'price_changed',
    message: 'Prices changed',
    items: [{ product_id: 'p1', price_sent: 150, current_price: 174.85 }],
  }),
};
const unknownProduct422: ClientAnswer = {
  ...priceChanged409,
  status: 422,
  body: JSON.stringify({ error: 'unknown_product', product_id: 'p9', message: 'unknown' }),
};
const pricingUnavailable503: ClientAnswer = {
  ...priceChanged409,
  status: 503,
  retryAfter: '5',
  body: JSON.stringify({ error: 'pricing_unavailable', message: 'retry later' }),
};
const nothing = (): LedgerSnapshot => ({
  charges: [],
  authorizations: [],
  captures: [],
  voids: [],
  refunds: [],
  deductions: [],
  orders: [],
});
/** The client sent a price for p1 the catalog no longer holds (a cheaper one). */
const staleSpec: CheckoutSpec = {
  ...spec,
  items: [{ productId: 'p1', quantity: 2, sentMinor: 15000 }],
};
/** A cart with a product the catalog does not know. */
const unknownSpec: CheckoutSpec = {
  ...spec,
  items: [...spec.items, { productId: 'p9', quantity: 1 }],
};

describe('the chaos oracle on prices (the catalog prices every charge)', () => {
  it('every charge is the catalog total, whatever the checkout ended as: a cheaper one is reported', () => {
    // The old oracle's total was the request's: charged at the prices the customer sent (150.00
    // each, cheaper than the catalog's 174.85), it passed. Prices sent are now only checked.
    const cheap = ledgerPricedAt(15000);
    expect(kinds({ checkouts: [staleSpec], ledger: cheap, answers: [] })).toEqual([
      'completed_money',
      'completed_order',
      'recorded_against_catalog',
      'not_catalog_price',
      'not_catalog_price',
    ]);
    // Let through before on any other end: a failed checkout's refunded charge, or a charge
    // standing on a requires_attention checkout, at a cheaper total.
    const refunded = undoneLedger();
    const charge = refunded.charges[0] as LedgerSnapshot['charges'][number];
    refunded.charges[0] = { ...charge, amount: 30000, refunded: 30000 };
    expect(kinds({ rows: [failedRow], answers: [failed502], ledger: refunded })).toEqual([
      'not_catalog_price',
    ]);
    const standing = ledgerLeaving({ payment: true });
    standing.charges[0] = { ...(standing.charges[0] as typeof charge), amount: 30000 };
    const report = check({ rows: [attentionRow('refund_payment')], answers: [], ledger: standing });
    expect(report.violations.map((v) => v.kind)).toEqual(['not_catalog_price']);
    expect(report.violations[0]?.message).toMatch(
      /30000 BRL.*\(cheaper\), the catalog's total is 34970/,
    );
    // A declined charge asked for the wrong amount too.
    const declined = completedLedger();
    declined.charges.unshift({ ...charge, transactionId: 'txn_0', status: 'failed', amount: 100 });
    expect(kinds({ ledger: declined })).toEqual(['not_catalog_price']);
  });

  it('an order carries the catalog unit prices, not only its total', () => {
    // Let through before: the order's total was right.
    const ledger = completedLedger();
    const order = ledger.orders[0] as LedgerSnapshot['orders'][number];
    ledger.orders[0] = {
      ...order,
      items: [
        { productId: 'p1', quantity: 1, priceMinor: 20000 },
        { productId: 'p1', quantity: 1, priceMinor: 14970 },
      ],
    };
    expect(kinds({ ledger })).toEqual(['not_catalog_price']);
  });

  it('a checkout recorded before the catalog changed a price is charged the old total, one recorded after the new', () => {
    const before = { ...spec, priceChange: { prices: { p1: 20000 }, recordedBefore: true } };
    expect(kinds({ checkouts: [before] })).toEqual([]);
    // The retry resumed at the catalog's new price instead of the stored one: let through
    // before (the old oracle knew one total).
    const resumedAtNew = ledgerPricedAt(20000);
    const newTotal200 = { ...ok200, body: ok200.body.replace('349.70', '400.00') };
    expect(kinds({ checkouts: [before], ledger: resumedAtNew, answers: [newTotal200] })).toEqual([
      'completed_money',
      'completed_order',
      'not_catalog_price',
      'not_catalog_price',
      'answer_disagrees',
    ]);
    // Recorded by the retry after the change (no price sent): the new total is the right one.
    const after = {
      ...spec,
      items: [{ productId: 'p1', quantity: 2 }],
      priceChange: { prices: { p1: 20000 }, recordedBefore: false },
    };
    expect(kinds({ checkouts: [after], ledger: resumedAtNew, answers: [newTotal200] })).toEqual([]);
    expect(kinds({ checkouts: [after] })).toContain('not_catalog_price');
    // ...but a client that still sends the old price must have been refused, not recorded.
    const sentOld = { ...after, items: spec.items };
    expect(kinds({ checkouts: [sentOld], ledger: resumedAtNew, answers: [newTotal200] })).toEqual([
      'recorded_against_catalog',
    ]);
  });

  it('a recorded checkout had every price sent equal to the catalog, and every product known', () => {
    // Let through before: the app ignored the price the customer saw and charged the catalog's.
    expect(kinds({ checkouts: [staleSpec] })).toEqual(['recorded_against_catalog']);
    // A product the catalog does not know cannot be charged for at all.
    expect(kinds({ checkouts: [unknownSpec] })).toEqual([
      'completed_money',
      'completed_stock',
      'completed_order',
      'recorded_against_catalog',
      'not_catalog_price',
      'not_catalog_price',
      'answer_disagrees',
    ]);
    // A cart with prices left out is priced by the catalog alone.
    const omitted = { ...spec, items: [{ productId: 'p1', quantity: 2 }] };
    expect(kinds({ checkouts: [omitted] })).toEqual([]);
  });

  it('the three refusals of pricing are answers a valid request can get, with nothing written', () => {
    // The old oracle reported any 409 other than in-progress and requires-attention.
    const none = { rows: [], ledger: nothing() };
    expect(kinds({ ...none, checkouts: [staleSpec], answers: [priceChanged409] })).toEqual([]);
    expect(kinds({ ...none, checkouts: [unknownSpec], answers: [unknownProduct422] })).toEqual([]);
    expect(kinds({ ...none, answers: [pricingUnavailable503] })).toEqual([]);
    // ...well formed: a price_changed lists its items, a pricing_unavailable says when to retry.
    const noItems = { ...priceChanged409, body: '{"error":"price_changed","items":[]}' };
    expect(kinds({ ...none, answers: [noItems] })).toEqual(['unexpected_answer']);
    const noRetry = { ...pricingUnavailable503, retryAfter: null };
    expect(kinds({ ...none, answers: [noRetry] })).toEqual(['unexpected_answer']);
  });

  it('a refusal of pricing writes no row: one the refused request alone could have written is reported', () => {
    // Let through before: a 503 agreed with any final state, and a 422 with a failed one. Here
    // the only request was refused, yet a checkout was recorded (and charged).
    expect(kinds({ answers: [pricingUnavailable503] })).toEqual(['pricing_refusal_recorded']);
    expect(
      kinds({
        checkouts: [unknownSpec],
        rows: [{ ...failedRow, paymentId: null }],
        ledger: nothing(),
        answers: [unknownProduct422],
      }),
    ).toEqual(['pricing_refusal_recorded', 'recorded_against_catalog']);
    // A retry under the same key that found the row (and resumed it) did not write it either.
    const resumed = { ...ok200, source: 'lease_retry', keyHeld: true };
    expect(kinds({ answers: [pricingUnavailable503, resumed] })).toEqual([
      'pricing_refusal_recorded',
    ]);
    // Another request of the same key could have: the concurrent one that completed, or one
    // that got no answer (a killed process).
    const concurrent = { ...ok200, source: 'concurrent' };
    expect(kinds({ answers: [pricingUnavailable503, concurrent] })).toEqual([]);
    const killed = { ...noAnswer, source: 'child' };
    expect(kinds({ answers: [pricingUnavailable503, killed, resumed] })).toEqual([]);
  });

  it('a request whose key already held a checkout gets its answer, never a refusal of pricing', () => {
    // The catalog changed a price after the checkout was recorded; the same-key retry must
    // resume with the stored prices (or replay), not answer price_changed.
    const before = { ...spec, priceChange: { prices: { p1: 20000 }, recordedBefore: true } };
    const refusedRetry = {
      ...priceChanged409,
      source: 'lease_retry',
      keyHeld: true,
      body: priceChanged409.body.replace('150', '174.85').replace('174.85}', '200}'),
    };
    expect(kinds({ checkouts: [before], answers: [ok200, refusedRetry] })).toEqual([
      'pricing_refusal_over_holder',
    ]);
    const unavailableReplay = {
      ...pricingUnavailable503,
      source: 'final_replay',
      afterEnd: true,
      keyHeld: true,
    };
    expect(kinds({ answers: [ok200, unavailableReplay] })).toEqual([
      'pricing_refusal_over_holder',
      'answer_disagrees',
    ]);
  });

  it('a refusal of pricing is true to the catalog', () => {
    const none = { rows: [], ledger: nothing() };
    // The catalog knows p1 (at 174.85).
    const knownNamed = { ...unknownProduct422, body: unknownProduct422.body.replace('p9', 'p1') };
    expect(kinds({ ...none, checkouts: [unknownSpec], answers: [knownNamed] })).toEqual([
      'pricing_refusal_untrue',
    ]);
    // A current price the catalog never held (the price sent, read back as current).
    const notCatalog = {
      ...priceChanged409,
      body: priceChanged409.body.replace('174.85', '160'),
    };
    expect(kinds({ ...none, checkouts: [staleSpec], answers: [notCatalog] })).toEqual([
      'pricing_refusal_untrue',
    ]);
    // ...nor one that did not change.
    const same = { ...priceChanged409, body: priceChanged409.body.replace('150', '174.85') };
    expect(kinds({ ...none, answers: [same] })).toEqual(['pricing_refusal_untrue']);
    // The catalog's price after a change is current too.
    const changed = {
      ...spec,
      priceChange: { prices: { p1: 16000 }, recordedBefore: false },
    };
    const afterChange = {
      ...priceChanged409,
      body: priceChanged409.body.replace('150', '174.85').replace('174.85}', '160}'),
    };
    expect(kinds({ ...none, checkouts: [changed], answers: [afterChange] })).toEqual([]);
  });

  it('names the checkout whose charge or order is on the ledgers without its row', () => {
    const report = check({ rows: [], answers: [priceChanged409], checkouts: [staleSpec] });
    expect(report.violations.map((v) => [v.kind, v.checkout])).toEqual([
      ['ledger_without_row', 0],
      ['ledger_without_row', undefined],
      ['ledger_without_row', 0],
    ]);
  });
});

/* ──── PAYMENT_CAPTURE=after_order: authorize → deduct → order → capture; undo = void ──── */
const AUTH = 'txn_auth_1';
type AuthorizationEntry = LedgerSnapshot['authorizations'][number];
const authorizationOf = (overrides: Partial<AuthorizationEntry> = {}): AuthorizationEntry => ({
  transactionId: AUTH,
  checkoutId: ID,
  customerEmail: spec.email,
  amount: 34970,
  currency: 'BRL',
  status: 'captured',
  captured: 34970,
  refunded: 0,
  method: 'credit_card',
  installments: 1,
  ...overrides,
});
/** What one clean after_order checkout leaves: captured in full, stock deducted, one order. */
function capturedLedger(): LedgerSnapshot {
  const ledger = completedLedger();
  const order = ledger.orders[0] as LedgerSnapshot['orders'][number];
  return {
    ...ledger,
    charges: [],
    authorizations: [authorizationOf()],
    captures: [
      { captureId: 'cap_1', transactionId: AUTH, checkoutId: ID, amount: 34970, currency: 'BRL' },
    ],
    orders: [{ ...order, paymentId: AUTH, paymentStatus: 'authorized' }],
  };
}
/** An after_order checkout undone before its order: the authorization voided, stock released. */
function voidedLedger(): LedgerSnapshot {
  return {
    ...capturedLedger(),
    authorizations: [authorizationOf({ status: 'voided', captured: 0 })],
    captures: [],
    voids: [{ voidId: 'void_1', transactionId: AUTH, checkoutId: ID, reason: 'order_refused' }],
    deductions: undoneLedger().deductions,
    orders: [],
  };
}
/** An after_order ledger that still holds only what is named (an open authorization for money). */
function afterOrderLeaving(left: {
  authorization?: true;
  captured?: true;
  inventory?: true;
  order?: true;
}): LedgerSnapshot {
  const kept = capturedLedger();
  const voided = voidedLedger();
  const authorization = left.captured
    ? kept.authorizations
    : left.authorization
      ? [authorizationOf({ status: 'authorized', captured: 0 })]
      : voided.authorizations;
  return {
    ...kept,
    authorizations: authorization,
    captures: left.captured ? kept.captures : [],
    voids: left.captured || left.authorization ? [] : voided.voids,
    deductions: left.inventory ? kept.deductions : voided.deductions,
    orders: left.order ? kept.orders : [],
  };
}
const aoSpec: CheckoutSpec = { ...spec, flows: ['after_order'] };
const aoRow: CheckoutRowView = { ...completedRow, paymentId: AUTH, flow: 'after_order' };
const aoFailedRow: CheckoutRowView = { ...aoRow, status: 'failed', orderId: null };
const aoAttentionRow = (ordered: boolean, ...undoFailures: string[]): CheckoutRowView => ({
  ...aoRow,
  status: 'requires_attention',
  orderId: ordered ? 'ord_1' : null,
  undoFailures,
});
const ao200: ClientAnswer = { ...ok200, body: ok200.body.replace('"txn_1"', `"${AUTH}"`) };
const ao = (overrides: Partial<OracleInput>) =>
  kinds({
    checkouts: [aoSpec],
    rows: [aoRow],
    answers: [ao200],
    ledger: capturedLedger(),
    ...overrides,
  });
/** One after_order requires_attention checkout (no client answer) against a ledger. */
const aoAttention = (
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  more: Partial<OracleInput> = {},
) => ao({ rows: [row], answers: [], ledger, ...more });

describe('the chaos oracle, PAYMENT_CAPTURE=after_order: completed', () => {
  it('passes one authorization captured in full once, stock deducted once, one order told authorized', () => {
    const report = check({
      checkouts: [aoSpec],
      rows: [aoRow],
      answers: [ao200],
      ledger: capturedLedger(),
    });
    expect(report.violations).toEqual([]);
    expect(report.byFlow).toEqual({ 'after_order completed': 1 });
    // The row need not say its flow; a declined authorization beside it moved nothing.
    const declined = capturedLedger();
    declined.authorizations.unshift(
      authorizationOf({ transactionId: 'txn_0', status: 'failed', captured: 0 }),
    );
    expect(ao({ rows: [{ ...aoRow, flow: undefined }], ledger: declined })).toEqual([]);
  });

  it('reports a completed checkout whose authorization was never captured (an open authorization, no money taken)', () => {
    const open = capturedLedger();
    open.authorizations = [authorizationOf({ status: 'authorized', captured: 0 })];
    open.captures = [];
    expect(ao({ ledger: open })).toEqual(['completed_money']);
  });

  it('reports a capture of less than the total, two captures, or a second authorization left open', () => {
    const partial = capturedLedger();
    partial.authorizations = [authorizationOf({ captured: 30000 })];
    partial.captures = [
      { ...(partial.captures[0] as LedgerSnapshot['captures'][number]), amount: 30000 },
    ];
    expect(ao({ ledger: partial })).toEqual(['completed_money', 'not_catalog_price']);
    const twice = capturedLedger();
    twice.captures.push({
      ...(twice.captures[0] as LedgerSnapshot['captures'][number]),
      captureId: 'cap_2',
    });
    expect(ao({ ledger: twice })).toEqual(['completed_money']);
    const second = capturedLedger();
    second.authorizations.push(
      authorizationOf({ transactionId: 'txn_auth_2', status: 'authorized', captured: 0 }),
    );
    expect(ao({ ledger: second })).toEqual(['completed_money']);
  });

  it('reports a capture the checkout refunded: never completed, and an after_order checkout never refunds', () => {
    const refunded = capturedLedger();
    refunded.authorizations = [authorizationOf({ status: 'refunded', refunded: 34970 })];
    refunded.refunds = [{ refundId: 'rf_1', transactionId: AUTH, checkoutId: ID, amount: 34970 }];
    expect(ao({ ledger: refunded })).toEqual(['refund_under_after_order', 'completed_money']);
  });

  it('reports an order not told the payment is authorized, or paid by another transaction', () => {
    const untold = capturedLedger();
    const order = untold.orders[0] as LedgerSnapshot['orders'][number];
    untold.orders = [{ ...order, paymentStatus: undefined }];
    expect(ao({ ledger: untold })).toEqual(['order_payment_status']);
    const other = capturedLedger();
    other.orders = [{ ...order, paymentId: 'txn_of_someone_else' }];
    expect(ao({ ledger: other })).toEqual(['completed_order']);
    // ...and under immediate an order is told nothing of the kind.
    const immediate = completedLedger();
    immediate.orders = [{ ...(immediate.orders[0] as typeof order), paymentStatus: 'authorized' }];
    expect(kinds({ ledger: immediate })).toEqual(['order_payment_status']);
  });

  it('reports a completed checkout whose authorization an operator voided or whose capture was refunded outside', () => {
    const voided = [{ checkout: 0, refunded: false, voided: true, released: false }];
    expect(ao({ outsideUndos: voided })).toEqual(['completed_after_outside_undo']);
    const refunded = [{ checkout: 0, refunded: true, voided: false, released: false }];
    expect(ao({ outsideUndos: refunded })).toEqual(['completed_after_outside_undo']);
  });
});

describe('the chaos oracle, PAYMENT_CAPTURE=after_order: failed', () => {
  const failed = { rows: [aoFailedRow], answers: [failed502] };

  it('passes a failed checkout whose authorization was voided (by it or in the console) or declined', () => {
    expect(ao({ ...failed, ledger: voidedLedger() })).toEqual([]);
    const byOperator = voidedLedger();
    byOperator.voids = [
      { ...(byOperator.voids[0] as LedgerSnapshot['voids'][number]), byOperator: true },
    ];
    const voided = [{ checkout: 0, refunded: false, voided: true, released: false }];
    expect(ao({ ...failed, ledger: byOperator, outsideUndos: voided })).toEqual([]);
    const declined = voidedLedger();
    declined.authorizations = [authorizationOf({ status: 'failed', captured: 0 })];
    declined.voids = [];
    declined.deductions = [];
    expect(
      ao({ ...failed, rows: [{ ...aoFailedRow, paymentId: null }], ledger: declined }),
    ).toEqual([]);
  });

  it('reports a failed checkout that left its authorization open (the customer’s money held)', () => {
    expect(ao({ ...failed, ledger: afterOrderLeaving({}) })).toEqual([]);
    expect(ao({ ...failed, ledger: afterOrderLeaving({ authorization: true }) })).toEqual([
      'failed_money',
    ]);
  });

  it('reports any capture or refund on a failed checkout, even an operator’s refund: it costs the customer nothing', () => {
    // What a checkout that refunds instead of voiding leaves (the immediate flow's undo).
    const refunded = voidedLedger();
    refunded.authorizations = [authorizationOf({ status: 'refunded', refunded: 34970 })];
    refunded.captures = capturedLedger().captures;
    refunded.voids = [];
    refunded.refunds = [{ refundId: 'rf_1', transactionId: AUTH, checkoutId: ID, amount: 34970 }];
    expect(ao({ ...failed, ledger: refunded })).toEqual([
      'refund_under_after_order',
      'failed_money',
    ]);
    const byOperator = structuredClone(refunded);
    byOperator.refunds = [
      { ...(refunded.refunds[0] as LedgerSnapshot['refunds'][number]), byOperator: true },
    ];
    expect(ao({ ...failed, ledger: byOperator })).toEqual(['failed_money']);
    // Two authorizations, both voided: authorized twice.
    const twice = voidedLedger();
    twice.authorizations.push(
      authorizationOf({ transactionId: 'txn_auth_2', status: 'voided', captured: 0 }),
    );
    expect(ao({ ...failed, ledger: twice })).toEqual(['failed_money']);
  });

  it('reports a failed checkout that kept stock or an order, as under immediate', () => {
    const kept = afterOrderLeaving({ inventory: true, order: true });
    expect(ao({ ...failed, ledger: kept })).toEqual(['failed_stock', 'failed_order']);
  });
});

describe('the chaos oracle, PAYMENT_CAPTURE=after_order: requires_attention names what the ledgers show', () => {
  it('void_payment explains an authorization left open, and nothing else; refund_payment is no after_order name', () => {
    const open = afterOrderLeaving({ authorization: true });
    expect(aoAttention(aoAttentionRow(false, 'void_payment'), open)).toEqual([]);
    expect(aoAttention(aoAttentionRow(false, 'void_payment'), afterOrderLeaving({}))).toEqual([]); // voided after all
    expect(
      aoAttention(
        aoAttentionRow(false, 'release_inventory', 'void_payment'),
        afterOrderLeaving({ authorization: true, inventory: true }),
      ),
    ).toEqual([]);
    expect(aoAttention(aoAttentionRow(false, 'release_inventory'), open)).toEqual([
      'attention_unexplained',
    ]);
    expect(aoAttention(aoAttentionRow(false, 'refund_payment'), open)).toEqual([
      'attention_unexplained',
    ]);
    // An order never stands on a compensated checkout.
    const ordered = afterOrderLeaving({ authorization: true, inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'release_inventory', 'void_payment'), ordered)).toEqual(
      ['attention_unexplained'],
    );
    // ...and under immediate a void is no name either.
    expect(attentionKinds(['void_payment'], { payment: true })).toEqual(['attention_unexplained']);
  });

  it('capture_payment: the order and its stock stand, the authorization is left (open or voided), nothing captured', () => {
    const refused = afterOrderLeaving({ authorization: true, inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'capture_payment'), refused)).toEqual([]);
    // An authorization that expired before the capture: still open, nothing taken.
    const expired = structuredClone(refused);
    expired.authorizations = [
      authorizationOf({ status: 'authorized', captured: 0, expired: true }),
    ];
    expect(aoAttention(aoAttentionRow(true, 'capture_payment'), expired)).toEqual([]);
    // Voided in the console before the capture: the order and the stock are what is left.
    const voided = afterOrderLeaving({ inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'capture_payment'), voided)).toEqual([]);
  });

  it('capture_payment is contradicted by a ledger with no order, or with a capture standing', () => {
    const noOrder = afterOrderLeaving({ authorization: true, inventory: true });
    expect(aoAttention(aoAttentionRow(false, 'capture_payment'), noOrder)).toEqual([
      'attention_contradicted',
    ]);
    const captured = afterOrderLeaving({ captured: true, inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'capture_payment'), captured)).toEqual([
      'attention_unexplained',
      'attention_contradicted',
    ]);
    const report = check({
      checkouts: [aoSpec],
      rows: [aoAttentionRow(true, 'capture_payment')],
      answers: [],
      ledger: captured,
    });
    expect(report.violations[1]?.message).toMatch(/a capture stands/);
  });

  it('settle_payment is the authorization’s without an order, the capture’s with one (the row says which)', () => {
    const open = afterOrderLeaving({ authorization: true });
    expect(aoAttention(aoAttentionRow(false, 'settle_payment'), open)).toEqual([]);
    const atCapture = afterOrderLeaving({ captured: true, inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'settle_payment'), atCapture)).toEqual([]);
    const notYet = afterOrderLeaving({ authorization: true, inventory: true, order: true });
    expect(aoAttention(aoAttentionRow(true, 'settle_payment'), notYet)).toEqual([]);
    // Without an order on the row, stock left is no authorization's doing.
    expect(
      aoAttention(
        aoAttentionRow(false, 'settle_payment'),
        afterOrderLeaving({ authorization: true, inventory: true }),
      ),
    ).toEqual(['attention_unexplained']);
    // settle_order: the authorization open, the stock and maybe the order; never a capture.
    expect(aoAttention(aoAttentionRow(false, 'settle_order'), notYet)).toEqual([]);
    expect(aoAttention(aoAttentionRow(false, 'settle_order'), atCapture)).toEqual([
      'attention_unexplained',
    ]);
  });

  it('an order on a payment voided or refunded outside is explained only by that operator undo', () => {
    const left = afterOrderLeaving({ inventory: true, order: true });
    const row = aoAttentionRow(true, 'payment_undone_under_order');
    const voided = [{ checkout: 0, refunded: false, voided: true, released: false }];
    expect(aoAttention(row, left, { outsideUndos: voided })).toEqual([]);
    expect(aoAttention(row, left)).toEqual(['attention_unexplained']);
    const released = [{ checkout: 0, refunded: false, voided: false, released: true }];
    const stockRow = aoAttentionRow(true, 'inventory_undone_under_order');
    const onRelease = afterOrderLeaving({ authorization: true, order: true });
    expect(aoAttention(stockRow, onRelease, { outsideUndos: released })).toEqual([]);
  });

  it('reports two authorizations held for one checkout, whatever it ended as', () => {
    const twice = afterOrderLeaving({ authorization: true });
    twice.authorizations.push(
      authorizationOf({ transactionId: 'txn_auth_2', status: 'voided', captured: 0 }),
    );
    expect(aoAttention(aoAttentionRow(false, 'void_payment'), twice)).toEqual(['payment_twice']);
  });

  it('an operator void that left nothing standing ends failed, not requires_attention', () => {
    const voided = [{ checkout: 0, refunded: false, voided: true, released: true }];
    expect(
      aoAttention(aoAttentionRow(false, 'void_payment'), afterOrderLeaving({}), {
        outsideUndos: voided,
      }),
    ).toEqual(['attention_over_outside_undo']);
  });
});

describe('the chaos oracle: a checkout follows the flow it was recorded with', () => {
  it('reports a checkout paid both ways (a charge and an authorization)', () => {
    const both = capturedLedger();
    both.charges = completedLedger().charges;
    expect(ao({ ledger: both })).toContain('flow_mixed');
  });

  it('reports a payment of the other flow than the setting it was recorded under, or than its row says', () => {
    // Recorded under after_order, resumed after PAYMENT_CAPTURE changed to immediate, charged.
    expect(kinds({ checkouts: [aoSpec] })).toEqual(['flow_not_recorded']);
    expect(kinds({ rows: [{ ...completedRow, flow: 'after_order' }] })).toEqual([
      'flow_not_recorded',
    ]);
    expect(ao({ rows: [{ ...aoRow, flow: 'immediate' }] })).toEqual([
      'flow_not_recorded',
      'flow_not_recorded',
    ]);
    // Recorded while either setting could have been the recorder's: either flow.
    const either: CheckoutSpec = { ...spec, flows: ['after_order', 'immediate'] };
    expect(ao({ checkouts: [either] })).toEqual([]);
    expect(kinds({ checkouts: [either] })).toEqual([]);
    // No payment at all: the row's flow still has to be one the setting allowed.
    const none = {
      rows: [{ ...failedRow, paymentId: null, flow: 'immediate' as const }],
      answers: [],
      ledger: nothing(),
    };
    expect(kinds({ ...none, checkouts: [aoSpec] })).toEqual(['flow_not_recorded']);
    expect(check({ ...none, checkouts: [aoSpec] }).byFlow).toEqual({ 'immediate failed': 1 });
  });
});

describe('the chaos oracle on the rest of the payment service', () => {
  it('every authorization and capture is of the catalog total', () => {
    const cheap = capturedLedger();
    cheap.authorizations.unshift(
      authorizationOf({ transactionId: 'txn_0', status: 'failed', captured: 0, amount: 30000 }),
    );
    expect(ao({ ledger: cheap })).toEqual(['not_catalog_price']);
  });

  it('reports a failed or requires_attention row naming a payment or an order the ledgers do not hold', () => {
    const ghost = { ...aoFailedRow, paymentId: 'txn_of_someone_else' };
    expect(ao({ rows: [ghost], answers: [failed502], ledger: voidedLedger() })).toEqual([
      'record_disagrees',
    ]);
    const declined = voidedLedger();
    declined.authorizations = [authorizationOf({ status: 'failed', captured: 0 })];
    declined.voids = [];
    expect(ao({ rows: [aoFailedRow], answers: [failed502], ledger: declined })).toEqual([
      'record_disagrees',
    ]);
    const noOrder = aoAttentionRow(true, 'settle_order');
    expect(
      aoAttention(noOrder, afterOrderLeaving({ authorization: true, inventory: true })),
    ).toEqual(['record_disagrees']);
  });

  it('reports an authorization or a capture with no checkout row, named by its client', () => {
    const report = check({
      rows: [],
      answers: [],
      ledger: { ...capturedLedger(), deductions: [], orders: [] },
    });
    expect(report.violations.map((v) => [v.kind, v.checkout])).toEqual([
      ['ledger_without_row', 0],
      ['ledger_without_row', 0],
    ]);
  });

  it('reports a request under another Idempotency-Key than <checkout_id>:<step>', () => {
    expect(
      kinds({ keyMisuses: ['capture of x under Idempotency-Key x:charge, not x:capture'] }),
    ).toEqual(['wrong_idempotency_key']);
  });
});

describe('the token paid with is card data too', () => {
  it('reports the token in the row or the logs', () => {
    const tokenSpec = { ...aoSpec, card: { ...spec.card, token: 'tok_1234567890' } };
    const dump = aoRow.dump.replace('}', ',"payment_method":"card_token","x":"tok_1234567890"}');
    expect(ao({ checkouts: [tokenSpec], rows: [{ ...aoRow, dump }] })).toEqual([
      'card_in_database',
    ]);
    expect(ao({ checkouts: [tokenSpec], logs: '{"token":"tok_1234567890"}' })).toEqual([
      'card_in_logs',
    ]);
    expect(ao({ checkouts: [tokenSpec], logs: '{"payment_method":"card_token"}' })).toEqual([]);
  });
});

describe('the flow stored on a row, whatever its column is called', () => {
  it('reads the one column whose value is a flow, preferring one named for it', () => {
    expect(storedFlow('{"id":"x","payment_flow":"after_order","status":"completed"}')).toBe(
      'after_order',
    );
    expect(storedFlow('{"capture":"immediate"}')).toBe('immediate');
    expect(storedFlow('{"flow":"immediate","note":"after_order"}')).toBe('immediate');
    expect(storedFlow('{"a":"immediate","b":"after_order"}')).toBeUndefined();
    expect(storedFlow('{"status":"completed"}')).toBeUndefined();
    expect(storedFlow('not json')).toBeUndefined();
  });
});

/* Pix and boleto (checkAsyncInvariants): each rule must fail on a ledger that breaks it. */
describe('the chaos oracle on Pix and boleto', () => {
  const CPF = '529.982.247-25';
  const NOW = Date.parse('2026-12-07T12:00:00Z');
  const asyncSpec: AsyncCheckoutSpec = {
    index: 0,
    email: spec.email,
    method: 'pix',
    cpf: CPF,
    totalMinor: 34970,
    items: [{ productId: 'p1', quantity: 2 }],
    instructed: true,
  };
  const charge = (overrides: Partial<AsyncCharge> = {}): AsyncCharge => ({
    transactionId: 'txn_1',
    checkoutId: ID,
    method: 'pix',
    customerEmail: spec.email,
    amount: 34970,
    currency: 'BRL',
    status: 'paid',
    paidAmount: 34970,
    refunded: 0,
    paidAt: new Date(NOW).toISOString(),
    appExpiresAt: NOW + 1_800_000,
    serviceExpiresAt: NOW + 1_800_000,
    code: 'QR1',
    ...overrides,
  });
  /** Paid, stock deducted, one order: a completed Pix. */
  const paidLedger = (overrides: Partial<AsyncCharge> = {}): LedgerSnapshot => ({
    ...completedLedger(),
    charges: [],
    asyncCharges: [charge(overrides)],
    cancels: [],
  });
  /** Never paid: the charge expired by the service, the stock released, no order. */
  const expiredLedger = (): LedgerSnapshot => ({
    ...completedLedger(),
    charges: [],
    orders: [],
    deductions: [{ checkoutId: ID, items: [{ productId: 'p1', quantity: 2 }], released: true }],
    asyncCharges: [charge({ status: 'expired', paidAmount: 0, paidAt: undefined })],
    cancels: [],
  });
  const row = (status: string, undoFailures: string[] = []): CheckoutRowView => ({
    ...completedRow,
    status,
    undoFailures,
    orderId: status === 'completed' ? 'ord_1' : null,
  });
  const input = (overrides: Partial<AsyncOracleInput>): AsyncOracleInput => ({
    checkouts: [asyncSpec],
    answers: [],
    rows: [row('completed')],
    ledger: paidLedger(),
    logs: '',
    forged: [],
    deliveries: [],
    cardLeaks: [],
    ...overrides,
  });
  /** The one entry a test ledger holds. */
  const only = <T>(list: T[] | undefined): T => {
    const item = list?.[0];
    if (item === undefined) throw new Error('empty');
    return item;
  };
  const asyncKinds = (overrides: Partial<AsyncOracleInput>) =>
    checkAsyncInvariants(input(overrides)).violations.map((v) => v.kind);

  it('passes a paid Pix completed and an unpaid one expired with everything released', () => {
    expect(asyncKinds({})).toEqual([]);
    expect(asyncKinds({ rows: [row('expired')], ledger: expiredLedger() })).toEqual([]);
  });

  it('a paid checkout that did not complete must be refunded: a payment left standing is reported', () => {
    const ledger = paidLedger();
    ledger.orders = [];
    ledger.deductions = [{ ...only(ledger.deductions), released: true }];
    expect(asyncKinds({ rows: [row('expired')], ledger })).toContain('paid_not_settled');
    expect(asyncKinds({ rows: [row('failed')], ledger })).toContain('paid_not_settled');
    // Refunded in full, stock released: a failed paid_after_expiry is fine.
    const refunded = structuredClone(ledger);
    only(refunded.asyncCharges).status = 'refunded';
    only(refunded.asyncCharges).refunded = 34970;
    expect(asyncKinds({ rows: [row('failed')], ledger: refunded })).toEqual([]);
  });

  it('completed means paid with its amount, the stock deducted once net, one order', () => {
    expect(
      asyncKinds({ ledger: paidLedger({ status: 'pending', paidAmount: 0, paidAt: undefined }) }),
    ).toContain('completed_unpaid');
    const twice = paidLedger();
    twice.deductions.push({ ...only(twice.deductions) });
    expect(asyncKinds({ ledger: twice })).toContain('completed_stock');
    const noOrder = paidLedger();
    noOrder.orders = [];
    expect(asyncKinds({ ledger: noOrder })).toContain('completed_order');
  });

  it('requires_attention only for what a person does: a boleto refund, another amount paid', () => {
    const ledger = paidLedger();
    ledger.orders = [];
    ledger.deductions = [{ ...only(ledger.deductions), released: true }];
    expect(asyncKinds({ rows: [row('requires_attention', [])], ledger })).toContain(
      'attention_unexplained',
    );
    // A Pix's refund is the app's to make: refund_boleto does not explain it.
    expect(asyncKinds({ rows: [row('requires_attention', ['refund_boleto'])], ledger })).toContain(
      'attention_unexplained',
    );
    const boleto = { ...asyncSpec, method: 'boleto' as const };
    expect(
      asyncKinds({
        checkouts: [boleto],
        rows: [row('requires_attention', ['refund_boleto'])],
        ledger,
      }),
    ).toEqual([]);
    const other = paidLedger({ paidAmount: 34971 });
    other.orders = [];
    expect(
      asyncKinds({ rows: [row('requires_attention', ['paid_amount_differs'])], ledger: other }),
    ).toEqual([]);
  });

  it('an unpaid checkout ends with its stock released and no charge left payable', () => {
    const held = expiredLedger();
    only(held.deductions).released = false;
    expect(asyncKinds({ rows: [row('expired')], ledger: held })).toContain('stock_held_after_end');
    const pending = expiredLedger();
    only(pending.asyncCharges).status = 'pending';
    expect(asyncKinds({ rows: [row('expired')], ledger: pending })).toContain(
      'charge_left_pending',
    );
    expect(asyncKinds({ rows: [row('awaiting_payment')], ledger: expiredLedger() })).toContain(
      'not_final',
    );
  });

  it('a charge cancelled while its customer could still pay it is reported, unless they never had its code', () => {
    const ledger = expiredLedger();
    only(ledger.asyncCharges).status = 'cancelled';
    const cancel = (at: number) => ({
      transactionId: 'txn_1',
      checkoutId: ID,
      at,
      appExpiresAt: NOW,
      before: 'pending' as const,
    });
    ledger.cancels = [cancel(NOW + 60_000)];
    expect(asyncKinds({ rows: [row('expired')], ledger })).toContain('cancelled_while_payable');
    expect(
      asyncKinds({
        checkouts: [{ ...asyncSpec, instructed: false }],
        rows: [row('failed')],
        ledger,
      }),
    ).toEqual([]);
    ledger.cancels = [cancel(NOW + 121_000)];
    expect(asyncKinds({ rows: [row('expired')], ledger })).toEqual([]);
  });

  it('a forged webhook must get 401 and change nothing; a signed one is never refused', () => {
    const forged = (o: Partial<ForgedWebhook>): ForgedWebhook => ({
      checkout: 0,
      forgery: 'bad_secret',
      status: 401,
      rowChanged: false,
      ledgerChanged: false,
      ...o,
    });
    expect(asyncKinds({ forged: [forged({})] })).toEqual([]);
    expect(asyncKinds({ forged: [forged({ status: 200 })] })).toContain('forged_webhook_acted');
    expect(asyncKinds({ forged: [forged({ rowChanged: true })] })).toContain(
      'forged_webhook_acted',
    );
    expect(asyncKinds({ forged: [forged({ ledgerChanged: true })] })).toContain(
      'forged_webhook_acted',
    );
    expect(
      asyncKinds({
        deliveries: [{ checkout: 0, type: 'payment.paid', status: 401, body: '{}' }],
      }),
    ).toContain('webhook_refused');
  });

  it('a paid checkout never ends expired, even once refunded; every webhook ends accepted', () => {
    const ledger = paidLedger({ status: 'refunded', refunded: 34970 });
    ledger.orders = [];
    ledger.deductions = [{ ...only(ledger.deductions), released: true }];
    expect(asyncKinds({ rows: [row('expired')], ledger })).toContain('paid_ended_expired');
    expect(asyncKinds({ rows: [row('failed')], ledger })).toEqual([]);
    const delivery = (status: number) => ({
      checkout: 0,
      eventId: 'evt_1',
      type: 'payment.paid',
      status,
      body: '{}',
    });
    expect(asyncKinds({ deliveries: [delivery(503), delivery(200)] })).toEqual([]);
    expect(asyncKinds({ deliveries: [delivery(200), delivery(503)] })).toContain(
      'webhook_never_accepted',
    );
  });

  it('reports the CPF in a log line, formatted or digits only', () => {
    expect(asyncKinds({ logs: `{"msg":"x","doc":"${CPF}"}` })).toContain('cpf_in_logs');
    expect(asyncKinds({ logs: '{"doc":"52998224725"}' })).toContain('cpf_in_logs');
  });

  it('reports two charges issued or paid, a code the service never issued, a charge without a row', () => {
    const two = paidLedger();
    two.asyncCharges?.push(charge({ transactionId: 'txn_2', code: 'QR2' }));
    expect(asyncKinds({ ledger: two })).toEqual(
      expect.arrayContaining(['issued_twice', 'payment_twice']),
    );
    const answer: ClientAnswer = {
      checkout: 0,
      source: 'first',
      status: 202,
      replayed: false,
      body: JSON.stringify({ checkout_id: ID, payment: { qr_code: 'QR-other' } }),
    };
    expect(asyncKinds({ answers: [answer] })).toContain('instructions_disagree');
    expect(asyncKinds({ rows: [] })).toContain('ledger_without_row');
  });
});
