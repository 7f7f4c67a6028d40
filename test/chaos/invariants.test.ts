import { describe, expect, it } from 'vitest';
import {
  type CheckoutRowView,
  type CheckoutSpec,
  type ClientAnswer,
  checkInvariants,
  type OracleInput,
} from './invariants.ts';
import type { LedgerSnapshot } from './ledger.ts';

/* The oracle must be able to fail: each deliberately wrong ledger/row/answer is reported. */
const ID = '11111111-1111-4111-8111-111111111111';
const spec: CheckoutSpec = {
  index: 0,
  email: 'chaos+t@example.com',
  currency: 'BRL',
  totalMinor: 34970,
  items: [{ productId: 'p1', quantity: 2 }],
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
