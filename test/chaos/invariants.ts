import {
  type Charge,
  type ItemQuantity,
  type LedgerSnapshot,
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
  card: { number: string; cvv: string };
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
  /** Its charge was refunded in full in the payment console. */
  refunded: boolean;
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
  /** Requests that carried card data to a service other than the charge (from the simulator). */
  cardLeaks: string[];
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
  | 'pricing_refusal_over_holder';

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
    outcomes[FINAL.has(row.status) ? row.status : 'unfinished'] =
      (outcomes[FINAL.has(row.status) ? row.status : 'unfinished'] ?? 0) + 1;
    if (!FINAL.has(row.status)) v('not_final', `still ${row.status} after recovery`);
    const position = netPosition(input.ledger, row.id);
    const stockLeft = [...position.netStock].map(([p, q]) => `${p}:${q}`).join(', ');
    const money = `charges [${position.charges
      .map((c) => `${c.amount} ${c.currency}, ${c.left} left`)
      .join('; ')}], net ${position.netCharge}, total ${catalogTotal(spec)}`;

    const outside = input.outsideUndos?.find((u) => u.checkout === spec.index);
    if (row.status === 'completed') {
      checkCompleted(spec, row, input.ledger, outside, v);
    }
    if (row.status === 'failed') {
      // At most one charge moved money (a declined one did not), and it was refunded in full.
      const moved = movedMoney(input.ledger, row.id);
      if (
        moved.length > 1 ||
        moved.some((c) => c.status !== 'refunded' || c.refunded !== c.amount)
      ) {
        v('failed_money', `failed, but ${money}`);
      }
      if (position.netStock.size > 0) v('failed_stock', `failed, but stock kept: {${stockLeft}}`);
      if (position.orders.length > 0) v('failed_order', `failed, but an order exists`);
    }
    if (row.status === 'requires_attention') {
      const discrepancies: Discrepancy[] = [];
      if (position.netCharge !== 0) discrepancies.push('payment');
      if (position.netStock.size > 0) discrepancies.push('inventory');
      if (position.orders.length > 0) discrepancies.push('order');
      const explains = (failure: string) => leftBy(failure, outside);
      const unknown = row.undoFailures.filter((failure) => explains(failure) === undefined);
      const unexplained = discrepancies.filter(
        (d) => !row.undoFailures.some((failure) => explains(failure)?.includes(d)),
      );
      if (row.undoFailures.length === 0 || unknown.length > 0 || unexplained.length > 0) {
        const why = [
          row.undoFailures.length === 0 ? 'no undo or settle failure named' : '',
          unknown.length ? `[${unknown}] not a failure this run can leave` : '',
          unexplained.length ? `${unexplained.join(' + ')} left, explained by none` : '',
        ].filter(Boolean);
        v(
          'attention_unexplained',
          `requires_attention with undo_failures [${row.undoFailures}] (${why.join('; ')}), ledgers: ${money}, stock {${stockLeft}}, ${position.orders.length} order(s)`,
        );
      }
      // An operator's refund or release that left nothing standing finished the undo: the
      // checkout ends failed. Only lookups that kept failing (recovery could not see the
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
    checkCatalogPrices(spec, row, input.ledger, v);
    checkAnswers(spec, row, answers, v);
    if (leaksCard(row.dump, spec.card)) v('card_in_database', 'card number or CVV in the row');
  }

  // Nothing on the ledgers for a checkout that has no row (one refused by pricing included):
  // named by its client where the entry carries the customer's email.
  const known = new Set(input.rows.map((r) => r.id));
  const orphans = [
    ...input.ledger.charges.map((c) => ['charge', c.checkoutId, c.customerEmail] as const),
    ...input.ledger.deductions.map((d) => ['deduction', d.checkoutId, undefined] as const),
    ...input.ledger.orders.map((o) => ['order', o.checkoutId, o.customerEmail] as const),
  ].filter(([, id]) => !known.has(id));
  for (const [what, id, email] of orphans) {
    const owner = input.checkouts.find((c) => email !== undefined && c.email === email);
    violate('ledger_without_row', owner?.index, `a ${what} for checkout ${id}, which has no row`);
  }
  for (const spec of input.checkouts) {
    if (leaksCard(input.logs, spec.card)) {
      violate('card_in_logs', spec.index, 'card number or CVV in the logs');
    }
  }
  for (const leak of input.cardLeaks) violate('card_sent_elsewhere', undefined, leak);
  return { violations, attention, outcomes };
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
  const [order] = orders;
  if (outside && (outside.refunded || outside.released)) {
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
    const [deduction] = standing;
    if (standing.length !== 1 || !deduction || !sameStock(deduction.items, spec.items)) {
      const what = standing.map((d) => d.items.map((i) => `${i.productId}:${i.quantity}`));
      v('completed_stock', `completed, but deductions standing: [${what.join('; ')}]`);
    }
  }
  if (orders.length !== 1 || !order) {
    v('completed_order', `completed with ${orders.length} orders`);
  } else if (order.totalAmount !== total || order.currency !== spec.currency) {
    v('completed_order', `the order is for ${order.totalAmount} ${order.currency}`);
  } else if (charge && order.paymentId !== charge.transactionId) {
    v(
      'completed_order',
      `the order is paid by ${order.paymentId}, the charge is ${charge.transactionId}`,
    );
  }
  if (row.paymentId !== charge?.transactionId || row.orderId !== order?.orderId) {
    v(
      'completed_record',
      `row says payment ${row.paymentId}, order ${row.orderId}; ledgers say ${charge?.transactionId}, ${order?.orderId}`,
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
 * - every charge (declined, refunded or standing) is of the catalog's total for the cart in its
 *   currency, as priced when the checkout was recorded: neither a cheaper price the customer
 *   sent, nor a price the catalog set after (`not_catalog_price`);
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
  return [undo.refunded ? 'its charge was refunded' : '', undo.released ? 'its stock released' : '']
    .filter(Boolean)
    .join(' and ');
}

function sameStock(a: ItemQuantity[], b: ItemQuantity[]): boolean {
  const x = expectedStock(a);
  const y = expectedStock(b);
  return x.size === y.size && [...x].every(([p, q]) => y.get(p) === q);
}

type Discrepancy = 'payment' | 'inventory' | 'order';

/**
 * What each name a `requires_attention` row can carry in `undo_failures` may leave on the
 * ledgers: nothing else may be left. The names and what stands behind them, from the code:
 *
 * - `settle_<step>` (recovery.ts): recovery gave up asking whether the open step happened. The
 *   checkout stood at that step's recovery point and nothing was undone, so the step itself
 *   may have happened and every step before it did (each recovery point is durable before the
 *   next call): `settle_payment` (at `pending`) may leave a charge only; `settle_inventory`
 *   (at `payment_processed`) the charge and a deduction; `settle_order` (at
 *   `inventory_deducted`) the charge, the deduction and an order. A later step cannot have
 *   been called.
 * - `refund_payment`, `release_inventory` (saga-steps.ts, via compensate): that undo kept
 *   failing, so its own service may still show the step. The other undos went through, and no
 *   order exists for a compensated checkout: compensation starts only when the order service
 *   refused or was never reached, or its lookup found no order after the settle delay.
 * - `read_checkout` (checkout-repository.ts, claimAbandoned) marks a row recovery could not
 *   read (an amount its currency cannot hold, from an older version). Every row of a chaos run
 *   is written by the code under test, so here it means the code wrote a row it cannot read
 *   back: it is not in this table, and any name not in it is itself a violation.
 */
const LEFT_BY: ReadonlyMap<string, readonly Discrepancy[]> = new Map([
  ['settle_payment', ['payment']],
  ['settle_inventory', ['payment', 'inventory']],
  ['settle_order', ['payment', 'inventory', 'order']],
  ['refund_payment', ['payment']],
  ['release_inventory', ['inventory']],
]);

/*
 * ──── Names for "a step was undone outside the checkout while an order exists" ────
 *
 * An operator refunded (or released) a stuck checkout whose order, it turns out, exists: an
 * order cannot be undone and the checkout cannot complete, so it ends `requires_attention`
 * under a name of its own (issue 19, finding 1). The names belong to the recovery fix, which
 * chooses them: the entries below are the names its work in progress writes
 * (`<step>_undone_under_order`, lib/checkout/saga-transitions.ts `orderOnUndoneStep`) and
 * must follow it. Each explains the order and what the operator left standing (a refund
 * leaves the stock deducted for the order; a release leaves the charge), and only on a
 * checkout whose step the operator did undo: anywhere else it is an unknown name.
 */
const UNDONE_UNDER_ORDER: ReadonlyMap<
  string,
  { undone: keyof Omit<OutsideUndo, 'checkout'>; leaves: readonly Discrepancy[] }
> = new Map([
  ['payment_undone_under_order', { undone: 'refunded', leaves: ['inventory', 'order'] }],
  ['inventory_undone_under_order', { undone: 'released', leaves: ['payment', 'order'] }],
]);

/** What a name in `undo_failures` may leave on the ledgers; undefined: a name it cannot carry. */
function leftBy(failure: string, outside: OutsideUndo | undefined) {
  const underOrder = UNDONE_UNDER_ORDER.get(failure);
  if (underOrder) return outside?.[underOrder.undone] ? underOrder.leaves : undefined;
  return LEFT_BY.get(failure);
}

function expectedStock(items: ItemQuantity[]): Map<string, number> {
  const stock = new Map<string, number>();
  for (const { productId, quantity } of items) {
    stock.set(productId, (stock.get(productId) ?? 0) + quantity);
  }
  return stock;
}

/** A card number, its CVV as a JSON string (plain or escaped), or card fields by name. */
export function leaksCard(text: string, card: { number: string; cvv: string }): boolean {
  return (
    text.includes(card.number) ||
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
