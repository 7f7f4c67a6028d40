import type { PaymentFlow } from './fault-schedule.ts';
import {
  type Authorization,
  type Charge,
  type ItemQuantity,
  type LedgerSnapshot,
  type NetPosition,
  netPosition,
  toMinor,
} from './ledger.ts';

/** What the oracle knows of a checkout the client asked for. */
export interface CheckoutSpec {
  index: number;
  email: string;
  currency: string;
  /** The cart as its client last sent it: each item with the price the customer saw, if sent. */
  items: (ItemQuantity & { sentMinor?: number })[];
  /**
   * The catalog's unit price of each product of the cart it knows, in minor units, as the
   * scenario started; a product of the cart missing here is one it does not know.
   */
  prices: Readonly<Record<string, number>>;
  /**
   * The catalog changed prices before a same-key retry: its prices after, and whether the
   * checkout had been recorded by then (it then keeps the prices it was recorded with).
   */
  priceChange?: { prices: Readonly<Record<string, number>>; recordedBefore: boolean };
  /** The card it was planned with, and the token it paid with instead, if it did. */
  card: { number: string; cvv: string; token?: string };
  /**
   * The payment flows it may have been recorded with: the `PAYMENT_CAPTURE` of each process
   * whose request could have recorded it (the traffic's or the child's if it was recorded by
   * the end of the traffic, else the setting of the lease-expired retries). Its payment must
   * follow that flow, whatever the setting of the process that resumed it. Absent: any.
   */
  flows?: readonly PaymentFlow[];
}

/** One answer a client (or the killed child, had it answered) got for a checkout. */
export interface ClientAnswer {
  checkout: number;
  source: string;
  /** The HTTP status, or `error` when the request itself failed (no answer). */
  status: number | 'error';
  body: string;
  replayed: boolean;
  /** Its `Retry-After` header (null or absent: none). */
  retryAfter?: string | null;
  /** Asked once the checkout was final (the harness's last same-key request). */
  afterEnd?: boolean;
  /**
   * The harness saw the checkout's row before sending this request: its key already held a
   * checkout, so this request cannot have written one (and the holder must answer it).
   */
  keyHeld?: boolean;
}

/** A step of a stuck checkout undone outside it, by an operator in a console (`external_undo`). */
export interface OutsideUndo {
  checkout: number;
  /** Its charge (or captured authorization) was refunded in full in the payment console. */
  refunded: boolean;
  /** Its open authorization was voided in the payment console. */
  voided?: boolean;
  /** Its deduction was released in the inventory console. */
  released: boolean;
}

/** The row of a checkout, as read from the database after quiescence. */
export interface CheckoutRowView {
  id: string;
  status: string;
  customerEmail: string;
  paymentId: string | null;
  orderId: string | null;
  undoFailures: string[];
  /** The payment flow stored on the row (absent: the row does not say, or not readably). */
  flow?: PaymentFlow;
  /** Every column of the row as text (`row_to_json`), searched for card data. */
  dump: string;
}

export interface OracleInput {
  checkouts: CheckoutSpec[];
  answers: ClientAnswer[];
  rows: CheckoutRowView[];
  ledger: LedgerSnapshot;
  /** Everything the processes logged during the scenario. */
  logs: string;
  /**
   * Requests that carried card data anywhere but a charge or an authorization (from the
   * simulator).
   */
  cardLeaks: string[];
  /** Acting requests whose Idempotency-Key was not `<checkout_id>:<step>` (from the simulator). */
  keyMisuses?: string[];
  /** Steps undone outside the checkouts (none when absent). */
  outsideUndos?: OutsideUndo[];
  /** Checkouts whose lookups kept failing into the quiescence rounds (`lookups_keep_failing`). */
  lookupsKeptFailing?: number[];
}

export type ViolationKind =
  | 'not_final'
  | 'duplicate_rows'
  | 'missing_row'
  | 'completed_money'
  | 'completed_stock'
  | 'completed_order'
  | 'completed_record'
  | 'failed_money'
  | 'failed_stock'
  | 'failed_order'
  | 'attention_unexplained'
  | 'completed_after_outside_undo'
  | 'attention_over_outside_undo'
  | 'answer_disagrees'
  | 'answer_inconsistent'
  | 'unexpected_answer'
  | 'ledger_without_row'
  | 'card_in_database'
  | 'card_in_logs'
  | 'card_sent_elsewhere'
  | 'not_catalog_price'
  | 'recorded_against_catalog'
  | 'pricing_refusal_untrue'
  | 'pricing_refusal_recorded'
  | 'pricing_refusal_over_holder'
  | 'flow_mixed'
  | 'flow_not_recorded'
  | 'refund_under_after_order'
  | 'order_payment_status'
  | 'payment_twice'
  | 'attention_contradicted'
  | 'record_disagrees'
  | 'wrong_idempotency_key'
  // Pix and boleto (`checkAsyncInvariants`)
  | 'issued_twice'
  | 'paid_not_settled'
  | 'paid_ended_expired'
  | 'completed_unpaid'
  | 'stock_held_after_end'
  | 'charge_left_pending'
  | 'cancelled_while_payable'
  | 'forged_webhook_acted'
  | 'webhook_refused'
  | 'webhook_never_accepted'
  | 'cpf_in_logs'
  | 'instructions_disagree';

export interface Violation {
  kind: ViolationKind;
  checkout?: number;
  message: string;
}

/** A checkout left `requires_attention`, with what the ledgers show it was left with. */
export interface Attention {
  checkout: number;
  undoFailures: string[];
  discrepancy: string;
  /** Nothing left on the ledgers: the undo had in fact happened (its answer was lost). */
  ledgersClean: boolean;
}

export interface OracleReport {
  violations: Violation[];
  attention: Attention[];
  /** Final status (or `not_recorded`, `unfinished`) → count. */
  outcomes: Record<string, number>;
  /**
   * Recorded checkouts by the flow their payment followed (`after_order`, `immediate`, or `no
   * payment` when the ledgers hold none) and final status (`after_order completed` → count).
   */
  byFlow: Record<string, number>;
}

const FINAL = new Set(['completed', 'failed', 'requires_attention']);

/**
 * The chaos oracle: judges each checkout of a scenario by the services' ledgers (money, stock,
 * orders), the answers its client got, and where card data went. Our own rows only say which
 * final state the checkout claims; the ledgers say whether that is true.
 */
export function checkInvariants(input: OracleInput): OracleReport {
  const violations: Violation[] = [];
  const attention: Attention[] = [];
  const outcomes: Record<string, number> = {};
  const byFlow: Record<string, number> = {};
  const violate = (kind: ViolationKind, checkout: number | undefined, message: string) =>
    violations.push({ kind, checkout, message });

  for (const spec of input.checkouts) {
    const rows = input.rows.filter((r) => r.customerEmail === spec.email);
    const answers = input.answers.filter((a) => a.checkout === spec.index);
    const v = (kind: ViolationKind, message: string) => violate(kind, spec.index, message);
    if (rows.length > 1) v('duplicate_rows', `${rows.length} rows for one client checkout`);
    const row = rows[0];
    checkUnexpectedAnswers(answers, v);
    checkPricingRefusals(spec, row, answers, v);
    if (!row) {
      const told = answers.find((a) => checkoutIdOf(a) !== undefined);
      if (told) v('missing_row', `answered ${told.status} with a checkout id, but no row exists`);
      outcomes.not_recorded = (outcomes.not_recorded ?? 0) + 1;
      continue;
    }
    const status = FINAL.has(row.status) ? row.status : 'unfinished';
    outcomes[status] = (outcomes[status] ?? 0) + 1;
    if (!FINAL.has(row.status)) v('not_final', `still ${row.status} after recovery`);
    const flow = checkFlow(spec, row, input.ledger, v);
    const flowKey = `${flow ?? 'no payment'} ${status}`;
    byFlow[flowKey] = (byFlow[flowKey] ?? 0) + 1;
    const position = netPosition(input.ledger, row.id);
    const stockLeft = [...position.netStock].map(([p, q]) => `${p}:${q}`).join(', ');
    const money = describeMoney(input.ledger, row.id, position, catalogTotal(spec));

    const outside = input.outsideUndos?.find((u) => u.checkout === spec.index);
    if (row.status === 'completed') {
      if (flow === 'after_order') checkCompletedAfterOrder(spec, row, input.ledger, outside, v);
      else checkCompleted(spec, row, input.ledger, outside, v);
    }
    if (row.status === 'failed') {
      if (flow === 'after_order') {
        checkFailedAfterOrder(input.ledger, row.id, money, v);
      } else {
        // At most one charge moved money (a declined one did not), and it was refunded in full.
        const moved = movedMoney(input.ledger, row.id);
        if (
          moved.length > 1 ||
          moved.some((c) => c.status !== 'refunded' || c.refunded !== c.amount)
        ) {
          v('failed_money', `failed, but ${money}`);
        }
      }
      if (position.netStock.size > 0) v('failed_stock', `failed, but stock kept: {${stockLeft}}`);
      if (position.orders.length > 0) v('failed_order', `failed, but an order exists`);
    }
    if (row.status === 'requires_attention') {
      const discrepancies: Discrepancy[] = [];
      if (position.netCharge !== 0) discrepancies.push('payment');
      if (position.openAuthorizations.length > 0) discrepancies.push('authorization');
      if (position.netStock.size > 0) discrepancies.push('inventory');
      if (position.orders.length > 0) discrepancies.push('order');
      const explains = (failure: string) =>
        leftBy(failure, { flow, ordered: row.orderId !== null, outside });
      const unknown = row.undoFailures.filter((failure) => explains(failure) === undefined);
      const unexplained = discrepancies.filter(
        (d) => !row.undoFailures.some((failure) => explains(failure)?.includes(d)),
      );
      const ledgers = `ledgers: ${money}, stock {${stockLeft}}, ${position.orders.length} order(s)`;
      if (row.undoFailures.length === 0 || unknown.length > 0 || unexplained.length > 0) {
        const why = [
          row.undoFailures.length === 0 ? 'no undo or settle failure named' : '',
          unknown.length
            ? `[${unknown}] not a failure this run can leave${flow ? ` under ${flow}` : ''}`
            : '',
          unexplained.length ? `${unexplained.join(' + ')} left, explained by none` : '',
        ].filter(Boolean);
        v(
          'attention_unexplained',
          `requires_attention with undo_failures [${row.undoFailures}] (${why.join('; ')}), ${ledgers}`,
        );
      }
      // A capture refused (or never answered) is named for a person only where the order
      // exists and no capture stands: else there is nothing to capture, or nothing missing.
      if (row.undoFailures.includes(CAPTURE_FAILURE)) {
        const captured = position.charges.filter((c) => c.left > 0).length > 0;
        if (position.orders.length === 0 || captured) {
          v(
            'attention_contradicted',
            `requires_attention [${row.undoFailures}], but ${position.orders.length === 0 ? 'no order exists' : 'a capture stands'}: ${ledgers}`,
          );
        }
      }
      // Two payments held for one checkout: each step runs once per key, whatever its end.
      const held = heldPayments(input.ledger, row.id);
      if (held.length > 1) {
        v('payment_twice', `requires_attention with ${held.length} payments: ${money}`);
      }
      // An operator's refund, void or release that left nothing standing finished the undo:
      // the checkout ends failed. Only lookups that kept failing (recovery could not see the
      // refund) excuse asking a person.
      const keptFailing = input.lookupsKeptFailing?.includes(spec.index) ?? false;
      if (outside && discrepancies.length === 0 && !keptFailing) {
        v(
          'attention_over_outside_undo',
          `requires_attention [${row.undoFailures}] although ${describeUndo(outside)} outside the checkout left nothing standing`,
        );
      }
      attention.push({
        checkout: spec.index,
        undoFailures: row.undoFailures,
        ledgersClean: discrepancies.length === 0,
        discrepancy: discrepancies.length
          ? `${discrepancies.join(' + ')} (${money}; stock {${stockLeft}}; ${position.orders.length} order(s))`
          : 'none left on the ledgers',
      });
    }
    if (row.status === 'failed' || row.status === 'requires_attention') {
      checkRecord(row, input.ledger, v);
    }
    checkCatalogPrices(spec, row, input.ledger, v);
    checkAnswers(spec, row, answers, v);
    if (leaksCard(row.dump, spec.card)) {
      v('card_in_database', 'card number, CVV or token in the row');
    }
  }

  // Nothing on the ledgers for a checkout that has no row (one refused by pricing included):
  // named by its client where the entry carries the customer's email.
  const known = new Set(input.rows.map((r) => r.id));
  const emailOf = (transactionId: string) =>
    input.ledger.authorizations.find((a) => a.transactionId === transactionId)?.customerEmail;
  const orphans = [
    ...input.ledger.charges.map((c) => ['charge', c.checkoutId, c.customerEmail] as const),
    ...input.ledger.authorizations.map(
      (a) => ['authorization', a.checkoutId, a.customerEmail] as const,
    ),
    ...input.ledger.captures.map(
      (c) => ['capture', c.checkoutId, emailOf(c.transactionId)] as const,
    ),
    ...input.ledger.deductions.map((d) => ['deduction', d.checkoutId, undefined] as const),
    ...input.ledger.orders.map((o) => ['order', o.checkoutId, o.customerEmail] as const),
  ].filter(([, id]) => !known.has(id));
  for (const [what, id, email] of orphans) {
    const owner = input.checkouts.find((c) => email !== undefined && c.email === email);
    violate('ledger_without_row', owner?.index, `a ${what} for checkout ${id}, which has no row`);
  }
  for (const spec of input.checkouts) {
    if (leaksCard(input.logs, spec.card)) {
      violate('card_in_logs', spec.index, 'card number, CVV or token in the logs');
    }
  }
  for (const leak of input.cardLeaks) violate('card_sent_elsewhere', undefined, leak);
  for (const misuse of input.keyMisuses ?? []) {
    violate('wrong_idempotency_key', undefined, misuse);
  }
  return { violations, attention, outcomes, byFlow };
}

/** The name a checkout ends `requires_attention` under when its capture is refused. */
const CAPTURE_FAILURE = 'capture_payment';

/** Which flow the ledgers show the checkout's payment followed: none, one, or both (`mixed`). */
export function ledgerFlow(
  ledger: LedgerSnapshot,
  checkoutId: string,
): PaymentFlow | 'mixed' | undefined {
  const charged = ledger.charges.some((c) => c.checkoutId === checkoutId);
  const authorized = ledger.authorizations.some((a) => a.checkoutId === checkoutId);
  if (charged && authorized) return 'mixed';
  return charged ? 'immediate' : authorized ? 'after_order' : undefined;
}

/**
 * The checkout follows the flow it was recorded with (`PAYMENT_CAPTURE` of the process that
 * recorded it, stored on its row), whatever the setting of the process that resumes it:
 *
 * - its payment is one flow's: charges (`POST /payments/process`) or authorizations, never both
 *   (`flow_mixed`);
 * - that flow is the one stored on its row, when the row says, and one the setting allowed when
 *   it was recorded (`flow_not_recorded`): a checkout recorded under `after_order` and resumed
 *   under `immediate` still authorizes and captures, and the other way round;
 * - an order is told `payment_status: "authorized"` under after_order, nothing under immediate
 *   (`order_payment_status`);
 * - under after_order nothing of the checkout is ever refunded by it (an undo voids; after the
 *   order nothing is undone): only an operator's console refund may stand on its ledger
 *   (`refund_under_after_order`).
 *
 * Returns the flow the rest of the oracle judges it by: the ledgers', else the row's, else the
 * only setting it can have been recorded under (undefined: no payment, and either flow).
 */
function checkFlow(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  v: (kind: ViolationKind, message: string) => void,
): PaymentFlow | undefined {
  const paid = ledgerFlow(ledger, row.id);
  const allowed = spec.flows;
  const setting = `PAYMENT_CAPTURE was ${allowed?.join(' or ')} when it was recorded`;
  if (paid === 'mixed') {
    v(
      'flow_mixed',
      `both a one-shot charge and an authorization: ${describePayments(ledger, row.id)}`,
    );
  } else if (paid !== undefined) {
    if (row.flow !== undefined && row.flow !== paid) {
      v('flow_not_recorded', `the row says ${row.flow}, but the payment followed ${paid}`);
    }
    if (allowed && !allowed.includes(paid)) {
      v('flow_not_recorded', `the payment followed ${paid}, but ${setting}`);
    }
  }
  if (row.flow !== undefined && allowed && !allowed.includes(row.flow)) {
    v('flow_not_recorded', `the row says ${row.flow}, but ${setting}`);
  }
  const flow =
    paid !== undefined && paid !== 'mixed'
      ? paid
      : (row.flow ?? (allowed?.length === 1 ? allowed[0] : undefined));
  for (const order of ledger.orders.filter((o) => o.checkoutId === row.id)) {
    const expected = flow === 'after_order' ? 'authorized' : undefined;
    if (flow !== undefined && order.paymentStatus !== expected) {
      v(
        'order_payment_status',
        `order ${order.orderId} sent payment_status ${order.paymentStatus ?? '(none)'} under ${flow}`,
      );
    }
  }
  const authorizations = new Set(
    ledger.authorizations.filter((a) => a.checkoutId === row.id).map((a) => a.transactionId),
  );
  for (const refund of ledger.refunds) {
    if (!refund.byOperator && authorizations.has(refund.transactionId)) {
      v(
        'refund_under_after_order',
        `the checkout refunded ${refund.amount} of ${refund.transactionId}: an after_order payment is voided before the order, never refunded`,
      );
    }
  }
  return flow;
}

/**
 * `failed` under after_order costs the customer nothing, the strongest thing that holds: no
 * capture ever happened (a capture comes only after the order, and a checkout with an order
 * never fails), so no refund either, not even an operator's; at most one authorization was
 * not declined, and it is voided (by the checkout or in the console), none left open.
 */
function checkFailedAfterOrder(
  ledger: LedgerSnapshot,
  checkoutId: string,
  money: string,
  v: (kind: ViolationKind, message: string) => void,
) {
  const held = heldPayments(ledger, checkoutId);
  const captures = ledger.captures.filter((c) => c.checkoutId === checkoutId);
  const refunds = ledger.refunds.filter((r) => r.checkoutId === checkoutId);
  const notVoided = held.filter((a) => a.status !== 'voided');
  if (held.length > 1 || notVoided.length > 0 || captures.length > 0 || refunds.length > 0) {
    const why = [
      held.length > 1 ? `${held.length} authorizations` : '',
      notVoided.length ? `${notVoided.map((a) => a.status).join(', ')} not voided` : '',
      captures.length ? `${captures.length} capture(s)` : '',
      refunds.length ? `${refunds.length} refund(s)` : '',
    ].filter(Boolean);
    v('failed_money', `failed under after_order, but ${why.join(', ')}: ${money}`);
  }
}

/**
 * `completed` under after_order: one authorization that was not declined, of the total,
 * captured once in full (one capture, of the total) and nothing refunded, so none left open;
 * one deduction standing; one order of the total, paid by that authorization, told it was
 * `authorized`; and the row names that authorization and that order. As for a one-shot charge,
 * a payment (void or refund) or stock an operator undid outside must never end `completed`.
 */
function checkCompletedAfterOrder(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  outside: OutsideUndo | undefined,
  v: (kind: ViolationKind, message: string) => void,
) {
  const held = heldPayments(ledger, row.id);
  const auth = held.find((p): p is Authorization => 'captured' in p);
  const captures = ledger.captures.filter((c) => c.checkoutId === row.id);
  const total = catalogTotal(spec);
  const standing = ledger.deductions.filter((d) => d.checkoutId === row.id && !d.released);
  const orders = ledger.orders.filter((o) => o.checkoutId === row.id);
  if (outside && (outside.refunded || outside.voided || outside.released)) {
    v(
      'completed_after_outside_undo',
      `completed although ${describeUndo(outside)} outside the checkout (${describePayments(ledger, row.id)}, ${standing.length} deduction(s) standing)`,
    );
  } else {
    const [capture] = captures;
    if (
      held.length !== 1 ||
      auth?.status !== 'captured' ||
      auth.amount !== total ||
      auth.captured !== total ||
      auth.refunded !== 0 ||
      auth.currency !== spec.currency ||
      captures.length !== 1 ||
      capture?.transactionId !== auth.transactionId ||
      capture.amount !== total
    ) {
      v(
        'completed_money',
        `completed under after_order, but ${describePayments(ledger, row.id)}, total ${total} ${spec.currency}`,
      );
    }
    checkOneDeduction(spec, standing, v);
  }
  checkOrderAndRecord(spec, row, orders, total, auth && ['authorization', auth.transactionId], v);
}

/**
 * The payments of a checkout that were not declined: its one-shot charges that moved money and
 * its authorizations that held some (whatever became of them since).
 */
function heldPayments(ledger: LedgerSnapshot, checkoutId: string): (Charge | Authorization)[] {
  return [
    ...movedMoney(ledger, checkoutId),
    ...ledger.authorizations.filter((a) => a.checkoutId === checkoutId && a.status !== 'failed'),
  ];
}

/**
 * A row that is not completed names only what the ledgers hold: its payment id, when set, a
 * payment of this checkout that was not declined; its order id, when set, an order of this
 * checkout (`record_disagrees`). The completed row is held to more (`completed_record`).
 */
function checkRecord(
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  v: (kind: ViolationKind, message: string) => void,
) {
  const payments = heldPayments(ledger, row.id).map((p) => p.transactionId);
  if (row.paymentId !== null && !payments.includes(row.paymentId)) {
    v(
      'record_disagrees',
      `${row.status} row names payment ${row.paymentId}; the checkout's payments are [${payments}]`,
    );
  }
  const orders = ledger.orders.filter((o) => o.checkoutId === row.id).map((o) => o.orderId);
  if (row.orderId !== null && !orders.includes(row.orderId)) {
    v(
      'record_disagrees',
      `${row.status} row names order ${row.orderId}; the ledgers hold [${orders}]`,
    );
  }
}

/** A checkout's payments, for a message. */
function describePayments(ledger: LedgerSnapshot, checkoutId: string): string {
  const charges = ledger.charges.filter((c) => c.checkoutId === checkoutId).map(describeCharge);
  const auths = ledger.authorizations
    .filter((a) => a.checkoutId === checkoutId)
    .map(
      (a) =>
        `authorization ${a.transactionId} ${a.status}${a.expired ? ' (expired)' : ''} ${a.amount} ${a.currency}, ${a.captured} captured, ${a.refunded} refunded`,
    );
  const captures = ledger.captures.filter((c) => c.checkoutId === checkoutId).length;
  const voids = ledger.voids.filter((x) => x.checkoutId === checkoutId).length;
  const refunds = ledger.refunds.filter((r) => r.checkoutId === checkoutId).length;
  return `payments [${[...charges, ...auths].join('; ')}], ${captures} capture(s), ${voids} void(s), ${refunds} refund(s)`;
}

/** What the ledgers hold of a checkout's money, for a message. */
function describeMoney(
  ledger: LedgerSnapshot,
  checkoutId: string,
  position: NetPosition,
  total: number | undefined,
): string {
  const taken = position.charges.map((c) => `${c.amount} ${c.currency}, ${c.left} left`);
  const open = position.openAuthorizations.map((a) => `${a.amount} ${a.currency}`);
  const authorized = ledgerFlow(ledger, checkoutId) === 'after_order';
  return [
    `charges [${taken.join('; ')}], net ${position.netCharge}`,
    open.length ? `, open authorizations [${open.join('; ')}]` : '',
    `, total ${total}`,
    authorized ? ` (${describePayments(ledger, checkoutId)})` : '',
  ].join('');
}

/**
 * The statuses `POST /checkout/process` answers a valid request with: 200 completed, 422 a
 * service refused (or the catalog does not know a product), 502 a service unreachable (or the
 * gateway's own, for a crashed function), 503 an outcome not known yet (or the database not
 * answering, or the catalog not pricing the cart), 409 another request holds the key, the
 * checkout requires attention or a price the customer saw changed. A request that got no
 * answer at all (reset, the harness's timeout) is `error`.
 */
const ANSWERED = new Set<number>([200, 409, 422, 502, 503]);

/** The three 409s a valid request can get (design §2); any other 409 is unexpected. */
const IN_PROGRESS = 'checkout_in_progress';
const REQUIRES_ATTENTION = 'checkout_requires_attention';
const PRICE_CHANGED = 'price_changed';

/**
 * The refusals of pricing (design §2): nothing written, nothing called. 409 `price_changed`, 422
 * `unknown_product`, 503 `pricing_unavailable`.
 */
type PricingRefusal = 'price_changed' | 'unknown_product' | 'pricing_unavailable';
const PRICING_REFUSALS: Readonly<Record<PricingRefusal, number>> = {
  price_changed: 409,
  unknown_product: 422,
  pricing_unavailable: 503,
};

function pricingRefusalOf(a: ClientAnswer): PricingRefusal | undefined {
  const error = a.status === 'error' ? undefined : parse(a.body)?.error;
  if (typeof error !== 'string' || !Object.hasOwn(PRICING_REFUSALS, error)) return undefined;
  const refusal = error as PricingRefusal;
  return PRICING_REFUSALS[refusal] === a.status ? refusal : undefined;
}

/**
 * Answers a valid request should never get: any other status, a key mismatch for the same
 * body, a 409 that is none of the three, a requires_attention answer that is not well formed
 * (its status not `requires_attention`, or a `Retry-After`, which invites a retry that cannot
 * help: a person must act), a `price_changed` that lists no item with both prices, and a
 * `pricing_unavailable` without `Retry-After` (design §2).
 */
function checkUnexpectedAnswers(
  answers: ClientAnswer[],
  v: (kind: ViolationKind, message: string) => void,
) {
  for (const a of answers) {
    if (a.status === 'error') continue;
    if (isKeyMismatch(a)) {
      v('unexpected_answer', `${a.source}: 422 idempotency_key_mismatch for the same body`);
    } else if (!ANSWERED.has(a.status)) {
      v('unexpected_answer', `${a.source}: ${a.status} ${a.body.slice(0, 160)}`);
    } else if (pricingRefusalOf(a) === 'pricing_unavailable' && !a.retryAfter) {
      v('unexpected_answer', `${a.source}: 503 pricing_unavailable without Retry-After`);
    } else if (a.status === 409) {
      const body = parse(a.body);
      if (body?.error === PRICE_CHANGED) {
        const items = Array.isArray(body.items) ? (body.items as Record<string, unknown>[]) : [];
        const whole = (i: Record<string, unknown>) =>
          typeof i?.product_id === 'string' &&
          typeof i.price_sent === 'number' &&
          typeof i.current_price === 'number';
        if (items.length === 0 || !items.every(whole)) {
          v('unexpected_answer', `${a.source}: 409 ${a.body.slice(0, 160)}`);
        }
      } else if (body?.error !== IN_PROGRESS && body?.error !== REQUIRES_ATTENTION) {
        v('unexpected_answer', `${a.source}: 409 ${a.body.slice(0, 160)}`);
      } else if (body.error === REQUIRES_ATTENTION) {
        if (body.status !== 'requires_attention') {
          v(
            'unexpected_answer',
            `${a.source}: 409 ${REQUIRES_ATTENTION} with status ${body.status}`,
          );
        }
        if (a.retryAfter) {
          v(
            'unexpected_answer',
            `${a.source}: 409 ${REQUIRES_ATTENTION} with Retry-After ${a.retryAfter}`,
          );
        }
      }
    }
  }
}

/**
 * Every answer agrees with the checkout's final row, answer by answer:
 *
 * - 200: the checkout ends `completed`, with the row's payment and order ids and the total.
 *   That the ledgers say so too (one charge of the total, nothing refunded, one deduction
 *   standing, one order, the row's ids) is checked for every `completed` row above.
 * - 422 or 502: the client was told the checkout did not complete and everything was undone
 *   (the README's "steps undone"). It ends `failed`, only: a body that says another status, or
 *   a checkout that ended `requires_attention` (money or stock may still be held), disagrees.
 *   The gateway's own 502 (a crashed function: no checkout id, no status) says no more than
 *   "did not complete", and is held to the same.
 * - 409 `checkout_requires_attention` (status `requires_attention`, no `Retry-After`): the
 *   checkout ends `requires_attention`; a person must finish it. It never claims an undo.
 * - 409 `checkout_in_progress` or 503: nothing is final yet (an unknown outcome, the database
 *   down, another holder of the key): any final state agrees.
 * - `error` (no answer reached the client): nothing was said.
 * - Any other status, and a key mismatch for the same body, are `unexpected_answer`s.
 * - Asked once the checkout is final (the harness's last same-key request), the answer is its
 *   final answer, marked `Idempotent-Replayed`: no 503, no 409 in progress, no missing answer.
 *
 * Every answer that names a checkout names this row's, and every final answer (200, 422 or
 * 502 with a checkout id, 409 requires_attention) is the same status and body byte for byte (a
 * replay is the stored text).
 */
function checkAnswers(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  answers: ClientAnswer[],
  v: (kind: ViolationKind, message: string) => void,
) {
  const finals: ClientAnswer[] = [];
  for (const a of answers) {
    if (a.afterEnd && !isFinalAnswer(a)) {
      v(
        'answer_disagrees',
        `${a.source}: asked once the checkout was ${row.status}, got ${a.status} ${a.body.slice(0, 120)}`,
      );
    } else if (a.afterEnd && !a.replayed) {
      v('answer_disagrees', `${a.source}: the final answer, but not marked Idempotent-Replayed`);
    }
    // No answer, an answer reported by checkUnexpectedAnswers, or a refusal of pricing (which
    // names no checkout: checkPricingRefusals judges it).
    if (a.status === 'error' || !ANSWERED.has(a.status) || isKeyMismatch(a)) continue;
    if (pricingRefusalOf(a)) continue;
    const body = parse(a.body);
    const id = checkoutIdOf(a);
    if (id !== undefined && id !== row.id) {
      v('answer_disagrees', `${a.source}: answered for checkout ${id}, the row is ${row.id}`);
    }
    if (a.status === 200) {
      finals.push(a);
      if (body?.status !== 'completed' || row.status !== 'completed') {
        v(
          'answer_disagrees',
          `${a.source}: 200 ${body?.status}, but the checkout ended ${row.status}`,
        );
      } else if (body.payment_id !== row.paymentId || body.order_id !== row.orderId) {
        v('answer_disagrees', `${a.source}: 200 names other payment/order ids than the row`);
      } else if (toMinor(body.total_amount, spec.currency) !== catalogTotal(spec)) {
        v(
          'answer_disagrees',
          `${a.source}: 200 total ${body.total_amount}, expected ${catalogTotal(spec)} minor`,
        );
      }
    } else if (a.status === 422 || a.status === 502) {
      if (id !== undefined) finals.push(a);
      const told = body?.status;
      if (row.status !== 'failed' || (told !== undefined && told !== 'failed')) {
        v(
          'answer_disagrees',
          `${a.source}: ${a.status} ${told === undefined ? '(no status)' : String(told)}, but the checkout ended ${row.status}`,
        );
      }
    } else if (a.status === 409 && body?.error === REQUIRES_ATTENTION) {
      finals.push(a);
      if (row.status !== 'requires_attention') {
        v(
          'answer_disagrees',
          `${a.source}: 409 ${REQUIRES_ATTENTION}, but the checkout ended ${row.status}`,
        );
      }
    }
    // 503 and 409 checkout_in_progress: any final state.
  }
  const [first, ...others] = finals;
  for (const other of others) {
    if (first && (other.status !== first.status || other.body !== first.body)) {
      v(
        'answer_inconsistent',
        `${first.source} got ${first.status} ${first.body.slice(0, 120)}; ${other.source} got ${other.status} ${other.body.slice(0, 120)}`,
      );
    }
  }
}

/**
 * `completed` means exactly what one clean run of the saga leaves, nothing netted out: one
 * charge that moved money, `success` with nothing refunded, of the total in the checkout's
 * currency (a declined charge moved none and may sit beside it); one deduction standing, of the
 * checkout's items; one order of the total, paid by that charge; and the row names that charge
 * and that order. A step undone outside the checkout (an operator's refund or release) must
 * never end `completed`: the goods ship unpaid, or from stock given back.
 */
function checkCompleted(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  outside: OutsideUndo | undefined,
  v: (kind: ViolationKind, message: string) => void,
) {
  const moved = movedMoney(ledger, row.id);
  const [charge] = moved;
  const total = catalogTotal(spec);
  const standing = ledger.deductions.filter((d) => d.checkoutId === row.id && !d.released);
  const orders = ledger.orders.filter((o) => o.checkoutId === row.id);
  if (outside && (outside.refunded || outside.voided || outside.released)) {
    v(
      'completed_after_outside_undo',
      `completed although ${describeUndo(outside)} outside the checkout (charges [${moved.map(describeCharge).join('; ')}], ${standing.length} deduction(s) standing)`,
    );
  } else {
    if (
      moved.length !== 1 ||
      charge?.status !== 'success' ||
      charge.refunded !== 0 ||
      charge.amount !== total ||
      charge.currency !== spec.currency
    ) {
      v(
        'completed_money',
        `completed, but charges [${moved.map(describeCharge).join('; ')}], total ${total} ${spec.currency}`,
      );
    }
    checkOneDeduction(spec, standing, v);
  }
  checkOrderAndRecord(spec, row, orders, total, charge && ['charge', charge.transactionId], v);
}

/** A completed checkout holds exactly one deduction standing, of its items. */
function checkOneDeduction(
  spec: CheckoutSpec,
  standing: LedgerSnapshot['deductions'],
  v: (kind: ViolationKind, message: string) => void,
) {
  const [deduction] = standing;
  if (standing.length !== 1 || !deduction || !sameStock(deduction.items, spec.items)) {
    const what = standing.map((d) => d.items.map((i) => `${i.productId}:${i.quantity}`));
    v('completed_stock', `completed, but deductions standing: [${what.join('; ')}]`);
  }
}

/**
 * A completed checkout has one order of its total, paid by its own payment (`[what, id]`: the
 * charge or the authorization), and its row names that payment and that order.
 */
function checkOrderAndRecord(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  orders: LedgerSnapshot['orders'],
  total: number | undefined,
  payment: readonly [what: string, transactionId: string] | undefined,
  v: (kind: ViolationKind, message: string) => void,
) {
  const [order] = orders;
  if (orders.length !== 1 || !order) {
    v('completed_order', `completed with ${orders.length} orders`);
  } else if (order.totalAmount !== total || order.currency !== spec.currency) {
    v('completed_order', `the order is for ${order.totalAmount} ${order.currency}`);
  } else if (payment && order.paymentId !== payment[1]) {
    v(
      'completed_order',
      `the order is paid by ${order.paymentId}, the ${payment[0]} is ${payment[1]}`,
    );
  }
  if (row.paymentId !== payment?.[1] || row.orderId !== order?.orderId) {
    v(
      'completed_record',
      `row says payment ${row.paymentId}, order ${row.orderId}; ledgers say ${payment?.[1]}, ${order?.orderId}`,
    );
  }
}

/** The catalog's unit prices for the cart as they stood when the checkout was recorded. */
export function pricesWhenRecorded(spec: CheckoutSpec): Readonly<Record<string, number>> {
  return spec.priceChange && !spec.priceChange.recordedBefore
    ? spec.priceChange.prices
    : spec.prices;
}

/**
 * The catalog's total for the cart as priced when the checkout was recorded (Σ quantity × unit
 * price), or undefined when the catalog does not know a product of it: no total may be charged.
 */
export function catalogTotal(spec: CheckoutSpec): number | undefined {
  const prices = pricesWhenRecorded(spec);
  let total = 0;
  for (const { productId, quantity } of spec.items) {
    const price = prices[productId];
    if (price === undefined) return undefined;
    total += quantity * price;
  }
  return total;
}

/**
 * Prices come from the catalog, never from the caller (design §2), for a checkout that was
 * recorded, whatever its end:
 *
 * - it could be recorded: the catalog knew every product of the cart, and every price the
 *   client sent (the price the customer saw) was the catalog's then; otherwise the answer was
 *   a refusal and nothing was written (`recorded_against_catalog`);
 * - every charge and authorization (declined, refunded, voided or standing) and every capture
 *   is of the catalog's total for the cart in its currency, as priced when the checkout was
 *   recorded: neither a cheaper price the customer sent, nor a price the catalog set after
 *   (`not_catalog_price`);
 * - every order is of that total, each item at the catalog's unit price then.
 */
function checkCatalogPrices(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  ledger: LedgerSnapshot,
  v: (kind: ViolationKind, message: string) => void,
) {
  const prices = pricesWhenRecorded(spec);
  const when = spec.priceChange
    ? spec.priceChange.recordedBefore
      ? ' (recorded before the catalog changed a price)'
      : ' (recorded after the catalog changed a price)'
    : '';
  const unknown = spec.items.filter((i) => prices[i.productId] === undefined);
  const stale = spec.items.filter(
    (i) => i.sentMinor !== undefined && prices[i.productId] !== i.sentMinor,
  );
  if (unknown.length > 0) {
    v(
      'recorded_against_catalog',
      `recorded (${row.status}) with ${unknown.map((i) => i.productId).join(', ')}, which the catalog does not know`,
    );
  }
  if (stale.length > 0) {
    const what = stale.map(
      (i) => `${i.productId} sent ${i.sentMinor}, catalog ${prices[i.productId]}`,
    );
    v('recorded_against_catalog', `recorded (${row.status}) although [${what.join('; ')}]${when}`);
  }
  const total = catalogTotal(spec);
  const compare = (amount: number) =>
    total === undefined || amount === total ? '' : amount < total ? ' (cheaper)' : ' (dearer)';
  for (const charge of ledger.charges.filter((c) => c.checkoutId === row.id)) {
    if (charge.amount !== total || charge.currency !== spec.currency) {
      v(
        'not_catalog_price',
        `charge ${describeCharge(charge)}${compare(charge.amount)}, the catalog's total is ${total} ${spec.currency}${when}`,
      );
    }
  }
  const payments = [
    ...ledger.authorizations
      .filter((a) => a.checkoutId === row.id)
      .map((a) => ({ what: `authorization ${a.transactionId} ${a.status}`, ...a })),
    ...ledger.captures
      .filter((c) => c.checkoutId === row.id)
      .map((c) => ({ what: `capture of ${c.transactionId}`, ...c })),
  ];
  for (const p of payments) {
    if (p.amount !== total || p.currency !== spec.currency) {
      v(
        'not_catalog_price',
        `${p.what} of ${p.amount} ${p.currency}${compare(p.amount)}, the catalog's total is ${total} ${spec.currency}${when}`,
      );
    }
  }
  for (const order of ledger.orders.filter((o) => o.checkoutId === row.id)) {
    const wrong = order.items.filter((i) => i.priceMinor !== prices[i.productId]);
    if (order.totalAmount !== total || order.currency !== spec.currency || wrong.length > 0) {
      const items = wrong.map(
        (i) => `${i.productId} at ${i.priceMinor}, catalog ${prices[i.productId]}`,
      );
      v(
        'not_catalog_price',
        `order ${order.orderId} of ${order.totalAmount} ${order.currency}${compare(order.totalAmount)}${items.length ? ` [${items.join('; ')}]` : ''}, the catalog's total is ${total} ${spec.currency}${when}`,
      );
    }
  }
}

/**
 * A refusal of pricing (409 `price_changed`, 422 `unknown_product`, 503 `pricing_unavailable`)
 * means nothing was written for that request (design §2):
 *
 * - it is true: a `price_changed` lists products of the cart each at a current price the
 *   catalog held and a sent price that differs from it; an `unknown_product` names a product of
 *   the cart the catalog does not know (`pricing_refusal_untrue`);
 * - a request whose key already held a checkout gets that checkout's answer, never a refusal of
 *   pricing: a same-key retry resumes with the stored prices, whatever the catalog says now
 *   (`pricing_refusal_over_holder`);
 * - a row exists only if some request of the checkout that was not refused could have written
 *   it: one answered otherwise, or with no answer, sent before the harness saw the row
 *   (`pricing_refusal_recorded`). Without a key, that is the refused request itself.
 *
 * Nothing on the ledgers for a checkout that has no row is `ledger_without_row`.
 */
function checkPricingRefusals(
  spec: CheckoutSpec,
  row: CheckoutRowView | undefined,
  answers: ClientAnswer[],
  v: (kind: ViolationKind, message: string) => void,
) {
  const refused = answers.filter((a) => pricingRefusalOf(a) !== undefined);
  if (refused.length === 0) return;
  const inCart = new Set(spec.items.map((i) => i.productId));
  const catalogPrices = (productId: string) =>
    [spec.prices[productId], spec.priceChange?.prices[productId]].filter(
      (p): p is number => p !== undefined,
    );
  for (const a of refused) {
    const body = parse(a.body) ?? {};
    const refusal = pricingRefusalOf(a);
    if (refusal === 'price_changed' && Array.isArray(body.items)) {
      for (const item of body.items as Record<string, unknown>[]) {
        const productId = String(item?.product_id);
        const current = toMinor(item?.current_price, spec.currency);
        const sent = toMinor(item?.price_sent, spec.currency);
        if (
          !inCart.has(productId) ||
          current === undefined ||
          !catalogPrices(productId).includes(current) ||
          sent === current
        ) {
          v(
            'pricing_refusal_untrue',
            `${a.source}: 409 price_changed lists ${JSON.stringify(item)}; the catalog held [${catalogPrices(productId).join(', ')}] for it`,
          );
        }
      }
    }
    if (refusal === 'unknown_product') {
      const productId = String(body.product_id);
      if (!inCart.has(productId) || spec.prices[productId] !== undefined) {
        v(
          'pricing_refusal_untrue',
          `${a.source}: 422 unknown_product names ${productId}, ${inCart.has(productId) ? 'which the catalog knows' : 'not a product of the cart'}`,
        );
      }
    }
    if (a.keyHeld) {
      v(
        'pricing_refusal_over_holder',
        `${a.source}: ${a.status} ${refusal}, although its key already held the checkout (its answer or its stored prices come first)`,
      );
    }
  }
  if (!row) return;
  const writers = answers.filter((a) => !a.afterEnd && !a.keyHeld && !pricingRefusalOf(a));
  if (writers.length === 0) {
    const told = refused.map((a) => `${a.source} ${a.status} ${pricingRefusalOf(a)}`);
    v(
      'pricing_refusal_recorded',
      `a row (${row.status}) exists, but every request that could have written it was refused: ${told.join(', ')}`,
    );
  }
}

/** The checkout's charges that moved money (`success` or `refunded`; a declined one did not). */
function movedMoney(ledger: LedgerSnapshot, checkoutId: string): Charge[] {
  return ledger.charges.filter((c) => c.checkoutId === checkoutId && c.status !== 'failed');
}

function describeCharge(c: Charge): string {
  return `${c.transactionId} ${c.status} ${c.amount} ${c.currency}, ${c.refunded} refunded`;
}

function describeUndo(undo: OutsideUndo): string {
  return [
    undo.refunded ? 'its charge was refunded' : '',
    undo.voided ? 'its authorization voided' : '',
    undo.released ? 'its stock released' : '',
  ]
    .filter(Boolean)
    .join(' and ');
}

function sameStock(a: ItemQuantity[], b: ItemQuantity[]): boolean {
  const x = expectedStock(a);
  const y = expectedStock(b);
  return x.size === y.size && [...x].every(([p, q]) => y.get(p) === q);
}

/**
 * What a checkout left `requires_attention` may still hold: money taken (a charge, or a
 * capture, not refunded), an authorization still open (held on the card, not captured), stock
 * deducted, an order.
 */
type Discrepancy = 'payment' | 'authorization' | 'inventory' | 'order';

/** Where the checkout stood: what decides what a name in `undo_failures` may leave. */
interface AttentionContext {
  /** The flow its payment followed (undefined: no payment on the ledgers, and either flow). */
  flow: PaymentFlow | undefined;
  /** Its row names an order: it had reached the order (the recovery point is written first). */
  ordered: boolean;
  outside: OutsideUndo | undefined;
}

/**
 * What each name a `requires_attention` row can carry in `undo_failures` may leave on the
 * ledgers, by flow: nothing else may be left. The names and what stands behind them, from the
 * code:
 *
 * - `settle_<step>` (recovery.ts): recovery gave up asking whether the open step happened. The
 *   checkout stood at that step's recovery point and nothing was undone, so the step itself
 *   may have happened and every step before it did (each recovery point is durable before the
 *   next call). Immediate: `settle_payment` (at `pending`) may leave a charge only;
 *   `settle_inventory` (at `payment_processed`) the charge and a deduction; `settle_order` (at
 *   `inventory_deducted`) the charge, the deduction and an order. After_order: the same with an
 *   open authorization for the charge; and `settle_payment` names both payment steps, told
 *   apart by the row: without an order it is the authorization's (at `pending`: an open
 *   authorization only), with one the capture's (at `order_created`: the authorization open or
 *   captured, the deduction and the order). A later step cannot have been called.
 * - `refund_payment` (immediate), `void_payment` (after_order), `release_inventory`
 *   (saga-steps.ts, via compensate): that undo kept failing, so its own service may still show
 *   the step. The other undos went through, and no order exists for a compensated checkout:
 *   compensation starts only when the order service refused or was never reached, or its
 *   lookup found no order after the settle delay. An after_order checkout never refunds:
 *   `refund_payment` is not one of its names, nor `void_payment` one of immediate's.
 * - `capture_payment` (after_order, the capture's `attention`): the capture was refused (an
 *   authorization that expired, was voided, or a refusal) or never went through: the order
 *   stands with its stock, the authorization is left (open, or voided by whoever voided it),
 *   and nothing was captured (checked apart: `attention_contradicted`).
 * - `read_checkout` (checkout-repository.ts, claimAbandoned) marks a row recovery could not
 *   read (an amount its currency cannot hold, from an older version). Every row of a chaos run
 *   is written by the code under test, so here it means the code wrote a row it cannot read
 *   back: it is not in this table, and any name not in it is itself a violation.
 */
const LEFT_BY: Readonly<
  Record<PaymentFlow, ReadonlyMap<string, (c: AttentionContext) => readonly Discrepancy[]>>
> = {
  immediate: new Map([
    ['settle_payment', () => ['payment']],
    ['settle_inventory', () => ['payment', 'inventory']],
    ['settle_order', () => ['payment', 'inventory', 'order']],
    ['refund_payment', () => ['payment']],
    ['release_inventory', () => ['inventory']],
  ]),
  after_order: new Map<string, (c: AttentionContext) => readonly Discrepancy[]>([
    [
      'settle_payment',
      ({ ordered }) =>
        ordered ? ['authorization', 'payment', 'inventory', 'order'] : ['authorization'],
    ],
    ['settle_inventory', () => ['authorization', 'inventory']],
    ['settle_order', () => ['authorization', 'inventory', 'order']],
    ['void_payment', () => ['authorization']],
    ['release_inventory', () => ['inventory']],
    ['capture_payment', () => ['authorization', 'inventory', 'order']],
  ]),
};

/*
 * ──── Names for "a step was undone outside the checkout while an order exists" ────
 *
 * An operator refunded (or voided, or released) a stuck checkout whose order, it turns out,
 * exists: an order cannot be undone and the checkout cannot complete, so it ends
 * `requires_attention` under a name of its own (issue 19, finding 1):
 * `<step>_undone_under_order` (lib/checkout/saga-transitions.ts `orderOnUndoneStep`). Each
 * explains the order and what the operator left standing (a refund or void leaves the stock
 * deducted for the order; a release leaves the payment: a charge, or an authorization open or
 * already captured), and only on a checkout whose step the operator did undo: anywhere else it
 * is an unknown name.
 */
const UNDONE_UNDER_ORDER: ReadonlyMap<
  string,
  {
    undone: readonly (keyof Omit<OutsideUndo, 'checkout'>)[];
    leaves: Readonly<Record<PaymentFlow, readonly Discrepancy[]>>;
  }
> = new Map([
  [
    'payment_undone_under_order',
    {
      undone: ['refunded', 'voided'],
      leaves: { immediate: ['inventory', 'order'], after_order: ['inventory', 'order'] },
    },
  ],
  [
    'inventory_undone_under_order',
    {
      undone: ['released'],
      leaves: {
        immediate: ['payment', 'order'],
        after_order: ['authorization', 'payment', 'order'],
      },
    },
  ],
]);

/**
 * What a name in `undo_failures` may leave on the ledgers; undefined: a name it cannot carry.
 * With no payment on the ledgers (the flow unknown), a name of either flow.
 */
function leftBy(failure: string, context: AttentionContext): readonly Discrepancy[] | undefined {
  const flows: readonly PaymentFlow[] = context.flow
    ? [context.flow]
    : ['immediate', 'after_order'];
  const left = new Set<Discrepancy>();
  let known = false;
  for (const flow of flows) {
    const underOrder = UNDONE_UNDER_ORDER.get(failure);
    const names = underOrder
      ? underOrder.undone.some((u) => context.outside?.[u])
        ? underOrder.leaves[flow]
        : undefined
      : LEFT_BY[flow].get(failure)?.(context);
    if (names === undefined) continue;
    known = true;
    for (const name of names) left.add(name);
  }
  return known ? [...left] : undefined;
}

function expectedStock(items: ItemQuantity[]): Map<string, number> {
  const stock = new Map<string, number>();
  for (const { productId, quantity } of items) {
    stock.set(productId, (stock.get(productId) ?? 0) + quantity);
  }
  return stock;
}

/**
 * A card number, its CVV as a JSON string (plain or escaped), card fields by name, or the
 * token paid with (like the card, sent to the payment service and never stored or logged).
 */
export function leaksCard(
  text: string,
  card: { number: string; cvv: string; token?: string },
): boolean {
  return (
    text.includes(card.number) ||
    (card.token !== undefined && text.includes(card.token)) ||
    text.includes(`"${card.cvv}"`) ||
    text.includes(`\\"${card.cvv}\\"`) ||
    /card_number|card_cvv/.test(text)
  );
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isKeyMismatch(answer: ClientAnswer): boolean {
  return answer.status === 422 && parse(answer.body)?.error === 'idempotency_key_mismatch';
}

/** A checkout's final answer: 200, 422 or 502 naming it, or 409 requires_attention. */
function isFinalAnswer(a: ClientAnswer): boolean {
  if (a.status === 200) return true;
  if (a.status === 422 || a.status === 502) return checkoutIdOf(a) !== undefined;
  return a.status === 409 && parse(a.body)?.error === REQUIRES_ATTENTION;
}

function checkoutIdOf(answer: ClientAnswer): string | undefined {
  const id = parse(answer.body)?.checkout_id;
  return typeof id === 'string' ? id : undefined;
}

/*
 * Pix and boleto (design §4a): the oracle of `async-scenario.ts`, judged after quiescence (the
 * rounds until every checkout is final or waiting, then time moved past every expiry and the
 * late window, and rounds again until every checkout is final), by the services' ledgers.
 */

/** What the oracle knows of a Pix or boleto checkout. */
export interface AsyncCheckoutSpec {
  index: number;
  email: string;
  method: 'pix' | 'boleto';
  cpf: string;
  totalMinor: number;
  items: ItemQuantity[];
  /** The customer had the QR code or the slip: a 202 with them came (first answer or a retry). */
  instructed: boolean;
}

/** A forged webhook (bad signature, stale time, none) and what it did. */
export interface ForgedWebhook {
  checkout: number;
  forgery: string;
  status: number | 'error';
  /** The checkout's row, or the services' ledgers of the checkout, differ after it. */
  rowChanged: boolean;
  ledgerChanged: boolean;
}

/** A genuine (signed) webhook delivered, and the app's answer. */
export interface WebhookDelivery {
  checkout: number | undefined;
  /** The event's id: the service redelivers it until it gets a 2xx. */
  eventId?: string;
  type: string;
  status: number | 'error';
  body: string;
}

export interface AsyncOracleInput {
  checkouts: AsyncCheckoutSpec[];
  answers: ClientAnswer[];
  rows: CheckoutRowView[];
  ledger: LedgerSnapshot;
  logs: string;
  forged: ForgedWebhook[];
  deliveries: WebhookDelivery[];
  cardLeaks: string[];
  keyMisuses?: string[];
}

const ASYNC_FINAL = new Set(['completed', 'failed', 'expired', 'requires_attention']);
/** The app never cancels a Pix or boleto before its expiry plus this grace (design §4a). */
export const EXPIRY_GRACE_MS = 120_000;
/**
 * What a person is asked to do for a Pix or boleto: refund a boleto (the payer's bank account
 * is needed), look at a payment of another amount; a Pix refund refused (`refund_payment`).
 */
const ASYNC_ATTENTION_FOR_MONEY = ['refund_boleto', 'paid_amount_differs', 'refund_payment'];

/**
 * The Pix and boleto invariants:
 * - every paid checkout ends `completed` (one order, the stock deducted once net, the payment
 *   paid with its amount), or refunded (`failed`: the payment refunded, the stock released,
 *   no order), or `requires_attention` for what the design leaves to a person (a boleto's
 *   refund, another amount paid);
 * - every unpaid one ends `expired` (or `failed`: refused before or while issuing, or a creation
 *   whose answer was lost), its stock released and its charge cancelled or expired by the
 *   service: none left pending, none standing past expiry plus grace;
 * - no charge is cancelled while it could still be paid: a cancel of a pending charge whose
 *   customer had the instructions, before its expiry + 120 s;
 * - a forged webhook gets 401 and changes nothing; a genuine one is never refused as unsigned,
 *   and ends accepted (200) once its checkout is final (else it is redelivered for days);
 * - one charge issued per checkout, at most one paid; the codes a 202 hands out are the
 *   service's; no CPF in any log line; no card data sent; keys `<checkout_id>:<step>`.
 */
export function checkAsyncInvariants(input: AsyncOracleInput): OracleReport {
  const violations: Violation[] = [];
  const attention: Attention[] = [];
  const outcomes: Record<string, number> = {};
  const byFlow: Record<string, number> = {};
  const violate = (kind: ViolationKind, checkout: number | undefined, message: string) =>
    violations.push({ kind, checkout, message });
  const charges = input.ledger.asyncCharges ?? [];
  const cancels = input.ledger.cancels ?? [];

  for (const spec of input.checkouts) {
    const v = (kind: ViolationKind, message: string) => violate(kind, spec.index, message);
    const rows = input.rows.filter((r) => r.customerEmail === spec.email);
    const answers = input.answers.filter((a) => a.checkout === spec.index);
    if (rows.length > 1) v('duplicate_rows', `${rows.length} rows for one client checkout`);
    const row = rows[0];
    if (!row) {
      const told = answers.find((a) => checkoutIdOf(a) !== undefined);
      if (told) v('missing_row', `answered ${told.status} with a checkout id, but no row exists`);
      outcomes.not_recorded = (outcomes.not_recorded ?? 0) + 1;
      continue;
    }
    const status = ASYNC_FINAL.has(row.status) ? row.status : 'unfinished';
    outcomes[status] = (outcomes[status] ?? 0) + 1;
    if (!ASYNC_FINAL.has(row.status)) v('not_final', `still ${row.status} after quiescence`);
    const own = charges.filter((c) => c.checkoutId === row.id);
    const paid = own.filter((c) => c.status === 'paid' || c.status === 'refunded');
    const flowKey = `${spec.method}${paid.length > 0 ? ' paid' : ''} ${status}`;
    byFlow[flowKey] = (byFlow[flowKey] ?? 0) + 1;
    const position = netPosition(input.ledger, row.id);
    const stockLeft = [...position.netStock].map(([p, q]) => `${p}:${q}`).join(', ');
    const describe = () =>
      `charges [${own.map((c) => `${c.status} ${c.amount}${c.paidAmount ? ` paid ${c.paidAmount}` : ''}${c.refunded ? ` refunded ${c.refunded}` : ''}`).join('; ')}], stock {${stockLeft}}, ${position.orders.length} order(s)`;
    if (own.length > 1) v('issued_twice', `${own.length} Pix/boletos issued: ${describe()}`);
    if (paid.length > 1) v('payment_twice', `${paid.length} payments taken: ${describe()}`);
    const held = paid.filter((c) => c.paidAmount - c.refunded > 0);

    if (row.status === 'completed') {
      const full = paid.find((c) => c.status === 'paid' && c.paidAmount === spec.totalMinor);
      if (!full)
        v(
          'completed_unpaid',
          `completed, but no payment of ${spec.totalMinor} stands: ${describe()}`,
        );
      if (paid.some((c) => c.refunded > 0))
        v('completed_money', `completed, but refunded: ${describe()}`);
      const expected = expectedStock(spec.items);
      const same =
        expected.size === position.netStock.size &&
        [...expected].every(([p, q]) => position.netStock.get(p) === q);
      if (!same) v('completed_stock', `completed, but the stock deducted net is {${stockLeft}}`);
      if (position.orders.length !== 1) {
        v('completed_order', `completed with ${position.orders.length} orders`);
      }
    } else if (row.status === 'requires_attention') {
      const named = row.undoFailures.filter((f) => ASYNC_ATTENTION_FOR_MONEY.includes(f));
      const differs = paid.some((c) => c.paidAmount !== c.amount);
      const boleto = spec.method === 'boleto';
      const explained =
        row.undoFailures.length > 0 &&
        (held.length === 0 ||
          (named.includes('paid_amount_differs') && differs) ||
          (named.includes('refund_boleto') && boleto) ||
          named.includes('refund_payment'));
      if (!explained) {
        v('attention_unexplained', `requires_attention [${row.undoFailures}]: ${describe()}`);
      }
      if (position.orders.length > 0 && !differs) {
        v('failed_order', `requires_attention, but an order exists: ${describe()}`);
      }
      attention.push({
        checkout: spec.index,
        undoFailures: row.undoFailures,
        ledgersClean: held.length === 0 && position.netStock.size === 0,
        discrepancy: describe(),
      });
    } else if (ASYNC_FINAL.has(row.status)) {
      // failed or expired: nothing may stand.
      if (held.length > 0) {
        v('paid_not_settled', `${row.status}, but a payment stands unrefunded: ${describe()}`);
      } else if (row.status === 'expired' && paid.length > 0) {
        // Paid, then refunded by the checkout: it ends failed (paid_after_expiry, or the order
        // refused), never as if it had not been paid.
        v(
          'paid_ended_expired',
          `expired, though its customer paid (refunded since): ${describe()}`,
        );
      }
      if (position.netStock.size > 0) {
        v('stock_held_after_end', `${row.status}, but stock stays deducted: {${stockLeft}}`);
      }
      if (position.orders.length > 0) v('failed_order', `${row.status}, but an order exists`);
    }
    if (ASYNC_FINAL.has(row.status) && row.status !== 'completed') {
      const pending = own.filter((c) => c.status === 'pending');
      // A cancel refused or never answered, given up on: a person cancels it.
      const toPerson =
        row.status === 'requires_attention' && row.undoFailures.includes('cancel_payment');
      if (pending.length > 0 && !toPerson) {
        v('charge_left_pending', `${row.status}, but its charge can still be paid: ${describe()}`);
      }
    }
    if (spec.instructed) {
      for (const cancel of cancels.filter(
        (c) => c.checkoutId === row.id && c.before === 'pending',
      )) {
        const early = cancel.appExpiresAt + EXPIRY_GRACE_MS - cancel.at;
        if (early > 0) {
          v(
            'cancelled_while_payable',
            `its charge was cancelled ${Math.round(early / 1000)} s before its expiry + 120 s, though the customer had its instructions`,
          );
        }
      }
    }
    for (const answer of answers.filter((a) => a.status === 202)) {
      const code = codeOf(answer.body);
      if (code !== undefined && !own.some((c) => c.code === code)) {
        v(
          'instructions_disagree',
          `a 202 (${answer.source}) handed out a code the service never issued for it`,
        );
      }
    }
    const last = answers.filter((a) => a.afterEnd).at(-1);
    if (last && ASYNC_FINAL.has(row.status)) {
      const expected: Record<string, (number | 'error')[]> = {
        completed: [200],
        failed: [422, 502],
        expired: [422],
        requires_attention: [409],
      };
      if (!(expected[row.status] ?? []).includes(last.status)) {
        v(
          'answer_disagrees',
          `ended ${row.status}, but its last same-key request got ${last.status}`,
        );
      }
    }
    if (input.logs.includes(spec.cpf) || input.logs.includes(spec.cpf.replace(/\D/g, ''))) {
      v('cpf_in_logs', "the customer's CPF appears in the logs");
    }
  }
  for (const f of input.forged) {
    if (f.status !== 401 || f.rowChanged || f.ledgerChanged) {
      violate(
        'forged_webhook_acted',
        f.checkout,
        `a forged webhook (${f.forgery}) got ${f.status}${f.rowChanged ? ', changed the row' : ''}${f.ledgerChanged ? ', changed the ledgers' : ''}`,
      );
    }
  }
  // Every event ends accepted (200): once the checkout is final, the service's redeliveries
  // must stop; one still refused after all of them is redelivered for days, and means the app
  // cannot apply what its own lookup shows.
  const lastOf = new Map<string, WebhookDelivery>();
  for (const d of input.deliveries) if (d.eventId) lastOf.set(d.eventId, d);
  for (const [eventId, d] of lastOf) {
    if (d.status !== 200) {
      violate(
        'webhook_never_accepted',
        d.checkout,
        `the ${d.type} event ${eventId} still got ${d.status} after every redelivery: ${d.body.slice(0, 120)}`,
      );
    }
  }
  for (const d of input.deliveries) {
    if (d.status === 401 || d.status === 400) {
      violate(
        'webhook_refused',
        d.checkout,
        `a signed ${d.type} webhook got ${d.status}: ${d.body.slice(0, 120)}`,
      );
    }
  }
  const known = new Set(input.rows.map((r) => r.id));
  for (const c of charges.filter((c) => !known.has(c.checkoutId))) {
    const owner = input.checkouts.find((s) => s.email === c.customerEmail);
    violate(
      'ledger_without_row',
      owner?.index,
      `a ${c.method} for checkout ${c.checkoutId}, which has no row`,
    );
  }
  for (const d of input.ledger.deductions.filter((d) => !known.has(d.checkoutId))) {
    violate(
      'ledger_without_row',
      undefined,
      `a deduction for checkout ${d.checkoutId}, which has no row`,
    );
  }
  for (const leak of input.cardLeaks) violate('card_sent_elsewhere', undefined, leak);
  for (const misuse of input.keyMisuses ?? []) violate('wrong_idempotency_key', undefined, misuse);
  return { violations, attention, outcomes, byFlow };
}

/** The QR code or barcode of a 202 body (`payment`), if any. */
function codeOf(text: string): string | undefined {
  const payment = parse(text)?.payment as Record<string, unknown> | null | undefined;
  const code = payment?.qr_code ?? payment?.barcode;
  return typeof code === 'string' ? code : undefined;
}
