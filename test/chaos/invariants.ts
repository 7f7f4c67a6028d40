import { type ItemQuantity, type LedgerSnapshot, netPosition, toMinor } from './ledger.ts';

/** What the oracle knows of a checkout the client asked for. */
export interface CheckoutSpec {
  index: number;
  email: string;
  currency: string;
  totalMinor: number;
  items: ItemQuantity[];
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
  | 'answer_disagrees'
  | 'answer_inconsistent'
  | 'unexpected_answer'
  | 'ledger_without_row'
  | 'card_in_database'
  | 'card_in_logs'
  | 'card_sent_elsewhere';

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
      .join('; ')}], net ${position.netCharge}, total ${spec.totalMinor}`;

    if (row.status === 'completed') {
      const [charge] = position.charges;
      if (
        position.charges.length !== 1 ||
        position.netCharge !== spec.totalMinor ||
        charge?.currency !== spec.currency
      ) {
        v('completed_money', `completed, but ${money}`);
      }
      const expected = expectedStock(spec.items);
      const wrong = [...expected].filter(([p, q]) => position.netStock.get(p) !== q);
      if (wrong.length > 0 || position.netStock.size !== expected.size) {
        v('completed_stock', `completed, but net stock is {${stockLeft}}`);
      }
      const [order] = position.orders;
      if (position.orders.length !== 1) {
        v('completed_order', `completed with ${position.orders.length} orders`);
      } else if (order?.totalAmount !== spec.totalMinor || order.currency !== spec.currency) {
        v('completed_order', `the order is for ${order?.totalAmount} ${order?.currency}`);
      }
      if (row.paymentId !== charge?.transactionId || row.orderId !== order?.orderId) {
        v(
          'completed_record',
          `row says payment ${row.paymentId}, order ${row.orderId}; ledgers say ${charge?.transactionId}, ${order?.orderId}`,
        );
      }
    }
    if (row.status === 'failed') {
      if (position.netCharge !== 0) v('failed_money', `failed, but ${money}`);
      if (position.netStock.size > 0) v('failed_stock', `failed, but stock kept: {${stockLeft}}`);
      if (position.orders.length > 0) v('failed_order', `failed, but an order exists`);
    }
    if (row.status === 'requires_attention') {
      const discrepancies: Discrepancy[] = [];
      if (position.netCharge !== 0) discrepancies.push('payment');
      if (position.netStock.size > 0) discrepancies.push('inventory');
      if (position.orders.length > 0) discrepancies.push('order');
      const unknown = row.undoFailures.filter((failure) => !LEFT_BY.has(failure));
      const unexplained = discrepancies.filter(
        (d) => !row.undoFailures.some((failure) => LEFT_BY.get(failure)?.includes(d)),
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
      attention.push({
        checkout: spec.index,
        undoFailures: row.undoFailures,
        ledgersClean: discrepancies.length === 0,
        discrepancy: discrepancies.length
          ? `${discrepancies.join(' + ')} (${money}; stock {${stockLeft}}; ${position.orders.length} order(s))`
          : 'none left on the ledgers',
      });
    }
    checkAnswers(spec, row, answers, v);
    if (leaksCard(row.dump, spec.card)) v('card_in_database', 'card number or CVV in the row');
  }

  const known = new Set(input.rows.map((r) => r.id));
  const orphans = [
    ...input.ledger.charges.map((c) => ['charge', c.checkoutId] as const),
    ...input.ledger.deductions.map((d) => ['deduction', d.checkoutId] as const),
    ...input.ledger.orders.map((o) => ['order', o.checkoutId] as const),
  ].filter(([, id]) => !known.has(id));
  for (const [what, id] of orphans) {
    violate('ledger_without_row', undefined, `a ${what} for checkout ${id}, which has no row`);
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
 * service refused, 502 a service unreachable (or the gateway's own, for a crashed function),
 * 503 an outcome not known yet (or the database not answering), 409 another request holds the
 * key. A request that got no answer at all (reset, the harness's timeout) is `error`.
 */
const ANSWERED = new Set<number>([200, 409, 422, 502, 503]);

/** Answers a valid request should never get: any other status, or a key mismatch for the same body. */
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
    }
  }
}

/**
 * Every answer agrees with the checkout's final row, answer by answer:
 *
 * - 200: the checkout ends `completed`, with the row's payment and order ids and the total.
 *   That the ledgers say so too (one net charge of the total, one deduction, one order, the
 *   row's ids) is checked for every `completed` row above.
 * - 422 or 502: the client was told the checkout did not complete. It ends `failed`, or
 *   `requires_attention` only when this answer's own body said `requires_attention`: recovery
 *   stores a 422/502 whose `status` is `requires_attention` when an undo or a settle kept
 *   failing (design.md, "its stored answer keeps the failure's status code"), and a replay of
 *   it tells the client so. A 422/502 that said `failed` (or that carries no status: the
 *   gateway's own 502) while the checkout ended `requires_attention` told the client
 *   everything was undone when it was not; one that said `requires_attention` while the row
 *   ended `failed` means a final state was rewritten after its answer (only an operator does
 *   that, never a chaos run). So a status in the body must be the row's.
 * - 503 or 409: nothing is final yet (an unknown outcome, the database down, another holder of
 *   the key): any final state agrees.
 * - `error` (no answer reached the client): nothing was said.
 * - Any other status, and a key mismatch for the same body, are `unexpected_answer`s.
 *
 * Every answer that names a checkout names this row's, and every final answer (200, 422, 502
 * with a checkout id) is the same status and body byte for byte (a replay is the stored text).
 */
function checkAnswers(
  spec: CheckoutSpec,
  row: CheckoutRowView,
  answers: ClientAnswer[],
  v: (kind: ViolationKind, message: string) => void,
) {
  const finals: ClientAnswer[] = [];
  for (const a of answers) {
    // No answer, or an answer reported by checkUnexpectedAnswers.
    if (a.status === 'error' || !ANSWERED.has(a.status) || isKeyMismatch(a)) continue;
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
      } else if (toMinor(body.total_amount, spec.currency) !== spec.totalMinor) {
        v(
          'answer_disagrees',
          `${a.source}: 200 total ${body.total_amount}, expected ${spec.totalMinor} minor`,
        );
      }
    } else if (a.status === 422 || a.status === 502) {
      if (id !== undefined) finals.push(a);
      const told = body?.status;
      const agrees =
        row.status === 'failed'
          ? told === undefined || told === 'failed'
          : row.status === 'requires_attention' && told === 'requires_attention';
      if (!agrees) {
        v(
          'answer_disagrees',
          `${a.source}: ${a.status} ${told === undefined ? '(no status)' : String(told)}, but the checkout ended ${row.status}`,
        );
      }
    }
    // 503 and 409: any final state.
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

function checkoutIdOf(answer: ClientAnswer): string | undefined {
  const id = parse(answer.body)?.checkout_id;
  return typeof id === 'string' ? id : undefined;
}
