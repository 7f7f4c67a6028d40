import type { CheckoutLine, OperatorAnswer } from '#functions/operator/run-operator-command.ts';
import type { Checkout, PaymentFlow } from '#lib/checkout/checkout.ts';
import { failureCode } from '#lib/checkout/checkout.ts';
import { installmentAmounts } from '#lib/checkout/installments.ts';
import type { CheckoutReport, ServiceRecord } from '#lib/checkout/operations/show-checkout.ts';
import type { ChargeRecord, Transition } from '#lib/checkout/ports.ts';
import { formatMinorUnits } from '#lib/money.ts';

/** What a refusal means for the person who asked. */
const REFUSALS = {
  not_found: 'there is no checkout with this id',
  held: 'another worker holds it right now (a request or a recovery run); try again once its lease ends',
  settling:
    'its lease ended less than the settle delay ago, and a request it sent may still land; try again in a minute',
  finished: 'it is completed or failed already: nothing is left to do',
  services_disagree: 'the services do not hold that end state',
  services_unknown: 'a service could not be asked, so the end state cannot be checked',
  no_recovery_point: 'it has no earlier state to go back to; resolve it by hand',
} as const;

/** The answer as text for a person; `--json` prints the answer itself instead. */
export function renderAnswer(answer: OperatorAnswer, now = Date.now()): string {
  if ('refused' in answer)
    return `${answer.command} ${answer.id}: refused: ${REFUSALS[answer.refused]}${answer.detail ? ` (${answer.detail}); settle it with them first, or --force with a note saying why` : ''}`;
  switch (answer.command) {
    case 'list':
      return [renderList(answer.checkouts), ...answer.unreadable.map(unreadableLine)].join('\n');
    case 'show':
      return renderReport(answer, now);
    case 'retry':
    case 'resolve': {
      const { checkout } = answer;
      if (!answer.finished) {
        const inSeconds = Math.ceil((answer.retryInMs ?? 0) / 1000);
        return (
          `${answer.command} ${checkout.id}: still unfinished (${checkout.status}): a service did not answer; ` +
          `its lease ends in about ${inSeconds} s, then the next recovery run (the hourly sweep, ` +
          `or on AWS the operator function's schedule) or another retry settles it`
        );
      }
      return `${answer.command} ${checkout.id}: ${checkout.status}${describeFailure(checkout)}`;
    }
  }
}

/** A row this version cannot read: listed by id, so a person can look at it in SQL. */
function unreadableLine(id: string): string {
  return `${id}  (its row cannot be read by this version: see "Unreadable rows" in docs/operations.md)`;
}

function renderList(checkouts: CheckoutLine[]): string {
  if (checkouts.length === 0) return 'No checkouts match.';
  const rows = [
    ['ID', 'STATUS', 'AGE', 'FAILURE', 'UNDO FAILURES', 'TOTAL'],
    ...checkouts.map((c) => [
      c.id,
      c.status,
      age(c.ageSeconds),
      c.failure ? `${c.failure} (${c.reason})` : '-',
      c.undoFailures.join(',') || '-',
      `${c.total} ${c.currency}`,
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  const table = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const noun = checkouts.length === 1 ? 'checkout' : 'checkouts';
  return [...table, `${checkouts.length} ${noun}, oldest first`].join('\n');
}

function renderReport(
  report: {
    checkout: Checkout;
    history: Transition[];
    services: CheckoutReport['services'];
  },
  now: number,
): string {
  const { checkout: c, history, services } = report;
  const ageSeconds = Math.round((now - Date.parse(c.createdAt)) / 1000);
  const failure = c.failure
    ? `${failureCode(c.failure)} (${c.failure.reason}): ${c.failure.message}`
    : '-';
  const fields = [
    ['status', `${c.status} (attempt ${c.attempt}, settle tries ${c.settleTries})`],
    ['created', `${c.createdAt} (${age(ageSeconds)} ago)`],
    ['updated', c.updatedAt],
    ['customer', c.customerEmail],
    [
      'total',
      `${formatMinorUnits(c.totalCents, c.currency)} ${c.currency}, ${c.items.length} item(s)`,
    ],
    ['payment', paymentLine(c)],
    ['installments', installmentLine(c)],
    ['payment id', c.paymentId ?? '-'],
    ['order id', c.orderId ?? '-'],
    ['failure', failure],
    ['undo failures', c.undoFailures.join(', ') || '-'],
  ];
  return [
    `Checkout ${c.id}`,
    ...fields.map(([name = '', value]) => `  ${name.padEnd(14)}${value}`),
    '',
    'History (oldest first)',
    ...renderHistory(history),
    '',
    'What the services hold (their outcome lookups)',
    `  ${'payment'.padEnd(10)}${renderRecord(services.payment, paymentRecord)}`,
    `  ${'inventory'.padEnd(10)}${renderRecord(services.inventory)}`,
    `  ${'order'.padEnd(10)}${renderRecord(services.order)}`,
  ].join('\n');
}

function renderHistory(history: Transition[]): string[] {
  if (history.length === 0) return ['  (none recorded)'];
  const moves = history.map((t) =>
    t.from === null ? `(new) -> ${t.to}` : t.from === t.to ? `= ${t.to}` : `${t.from} -> ${t.to}`,
  );
  const moveWidth = Math.max(...moves.map((m) => m.length));
  const byWidth = Math.max(...history.map((t) => t.by.length));
  return history.map(
    (t, i) => `  ${t.at}  ${moves[i]?.padEnd(moveWidth)}  ${t.by.padEnd(byWidth)}  ${t.cause}`,
  );
}

function renderRecord<T extends object>(
  record: ServiceRecord<T>,
  render: (entry: T) => string = (entry) => Object.values(entry).join(' '),
): string {
  if ('unknown' in record) return `could not ask: ${record.unknown}`;
  if (record.records.length === 0) return 'nothing';
  return record.records.map(render).join('; ');
}

/** A payment as an operator needs to read it: what money it holds or took. */
const PAYMENT_STATES: Record<ChargeRecord['status'], string> = {
  success: 'charge, taken',
  authorized: 'authorization, held on the card, not captured',
  captured: 'authorization, captured',
  voided: 'authorization, voided',
  refunded: 'refunded',
  failed: 'declined',
  pending: 'Pix or boleto, issued, not paid yet',
  paid: 'Pix or boleto, paid',
  cancelled: 'Pix or boleto, cancelled unpaid',
  expired: 'Pix or boleto, expired unpaid',
};

/** A payment with its state's meaning, the amount the service holds and when it was paid. */
function paymentRecord({ transactionId, status, amountCents, currency, paidAt }: ChargeRecord) {
  const amount =
    amountCents !== undefined && currency
      ? `, ${formatMinorUnits(amountCents, currency)} ${currency}`
      : '';
  const paid = paidAt ? `, paid at ${paidAt}` : '';
  return `${transactionId} ${status} (${PAYMENT_STATES[status]}${amount}${paid})`;
}

function describeFailure(c: CheckoutLine): string {
  const failure = c.failure ? ` (${c.failure}: ${c.reason})` : '';
  const undo = c.undoFailures.length > 0 ? `; undo failed: ${c.undoFailures.join(', ')}` : '';
  return failure + undo;
}

/** `45s`, `12m`, `2h 05m`, `3d 04h`. */
export function age(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
}

/** How each flow takes the money, for a person. */
const FLOWS: Record<PaymentFlow, string> = {
  immediate: 'one-shot charge',
  after_order: 'authorize, capture after the order',
  pix: 'Pix, paid by the customer later',
  boleto: 'boleto, paid by the customer later',
};

/**
 * How the checkout pays: method, card (brand and last 4 only) or a Pix's or boleto's expiry,
 * flow and where prices came from.
 */
function paymentLine(c: Checkout): string {
  const held = c.asyncPayment
    ? `expires ${c.asyncPayment.expiresAt}${c.paidLate ? ', paid late' : ''}`
    : c.card
      ? `${c.card.brand} ending ${c.card.last4}`
      : 'card not known yet';
  return `${c.method}, ${held}; ${FLOWS[c.flow]}; priced by ${c.pricing ?? 'an older release'}`;
}

/** The installment plan: `3 × (116.58, 116.56, 116.56)`. */
function installmentLine(c: Checkout): string {
  const amounts = installmentAmounts(c.installments).map((cents) =>
    formatMinorUnits(cents, c.currency),
  );
  return `${c.installments.count} × (${amounts.join(', ')})`;
}
