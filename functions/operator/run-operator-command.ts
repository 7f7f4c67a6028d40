// Operator function → use cases: runs one validated command through `app.operations` and
// shapes what it returns as plain JSON, for the operator Lambda and `npm run checkouts` alike.
import type { App } from '#lib/app.ts';
import { type Checkout, failureCode } from '#lib/checkout/checkout.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import type { ResolveRefusal } from '#lib/checkout/operations/resolve-checkout.ts';
import type { CheckoutReport } from '#lib/checkout/operations/show-checkout.ts';
import type { OperatorTake } from '#lib/checkout/ports.ts';
import { formatMinorUnits } from '#lib/money.ts';
import type { OperatorCommand } from './operator-command.ts';

/** One checkout on a line: where it stands and since when, without the customer's details. */
export interface CheckoutLine {
  id: string;
  status: Checkout['status'];
  /** Seconds since it was created. */
  ageSeconds: number;
  createdAt: string;
  updatedAt: string;
  total: string;
  currency: string;
  /** `payment_unavailable`, `order_failed`, ...; `null` while nothing failed. */
  failure: string | null;
  reason: string | null;
  undoFailures: string[];
  attempt: number;
  settleTries: number;
}

type Refused = Extract<OperatorTake | ResolveRefusal, { refused: unknown }>['refused'];

export type OperatorAnswer =
  /** `unreadable`: ids of rows this version cannot read (see the runbook). */
  | { command: 'list'; checkouts: CheckoutLine[]; unreadable: string[] }
  | ({ command: 'show' } & CheckoutReport)
  | {
      command: 'retry' | 'resolve';
      /**
       * Whether the checkout reached a final state (`checkout.status`); if not, a service did
       * not answer and recovery tries again in `retryInMs`.
       */
      finished: boolean;
      checkout: CheckoutLine;
      retryInMs?: number;
    }
  /** `detail`: what the services hold, when that is why `resolve` was refused. */
  | { command: 'show' | 'retry' | 'resolve'; id: string; refused: Refused; detail?: string };

/**
 * Runs `command` as `operator:<by>`. `remainingMs` bounds retry's downstream calls (the Lambda's
 * remaining time; the lease's length when absent).
 */
export async function runOperatorCommand(
  app: Pick<App, 'config' | 'operations'>,
  command: OperatorCommand,
  remainingMs?: number,
): Promise<OperatorAnswer> {
  const now = Date.now();
  const line = (checkout: Checkout) => checkoutLine(checkout, now);
  switch (command.command) {
    case 'list': {
      const { status, olderThan: olderThanMs, limit } = command;
      const statuses = status === undefined ? undefined : [status].flat();
      const { checkouts, unreadable } = await app.operations.list({ statuses, olderThanMs, limit });
      return { command: 'list', checkouts: checkouts.map(line), unreadable };
    }
    case 'show': {
      const report = await app.operations.show(command.id);
      if (!report) return { command: 'show', id: command.id, refused: 'not_found' };
      return { command: 'show', ...report };
    }
    case 'retry':
    case 'resolve': {
      const budget = workBudget(app.config.leaseMs, remainingMs, `operator:${command.by}`);
      const done =
        command.command === 'retry'
          ? await app.operations.retry(command.id, budget)
          : await app.operations.resolve(
              command.id,
              { as: command.as, note: command.note, force: command.force },
              budget,
            );
      if ('refused' in done) return { command: command.command, id: command.id, ...done };
      return {
        command: command.command,
        finished: done.kind !== 'incomplete',
        checkout: line(done.checkout),
        ...(done.kind === 'incomplete' && { retryInMs: done.retryInMs }),
      };
    }
  }
}

function checkoutLine(checkout: Checkout, now: number): CheckoutLine {
  return {
    id: checkout.id,
    status: checkout.status,
    ageSeconds: Math.max(0, Math.round((now - Date.parse(checkout.createdAt)) / 1000)),
    createdAt: checkout.createdAt,
    updatedAt: checkout.updatedAt,
    total: formatMinorUnits(checkout.totalCents, checkout.currency),
    currency: checkout.currency,
    failure: checkout.failure ? failureCode(checkout.failure) : null,
    reason: checkout.failure?.reason ?? null,
    undoFailures: checkout.undoFailures,
    attempt: checkout.attempt,
    settleTries: checkout.settleTries,
  };
}
