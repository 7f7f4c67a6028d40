import type {
  AsyncPayment,
  Checkout,
  CheckoutFailure,
  CheckoutStatus,
  InstallmentPlan,
  LineItem,
} from '#lib/checkout/checkout.ts';
import { failureCode, isWaiting } from '#lib/checkout/checkout.ts';
import { installmentPlan } from '#lib/checkout/installments.ts';
import {
  type CheckoutRepository,
  type IdempotencyClaim,
  type KeyHolder,
  LeaseLostError,
  type Transition,
} from '#lib/checkout/ports.ts';
import { formatMinorUnits, type MinorUnits, parseDecimal } from '#lib/money.ts';
import type { Database, SqlParams } from './database.ts';
import { planOperatorTake } from './operator-take.ts';

interface CheckoutRow {
  [column: string]: unknown;
  id: string;
  caller: string | null;
  status: CheckoutStatus;
  customer_email: string;
  currency: string;
  total_amount: string;
  items: string;
  shipping_address: string;
  card_brand: string | null;
  card_last4: string | null;
  payment_flow: Checkout['flow'] | null;
  payment_method: Checkout['method'] | null;
  pricing: Checkout['pricing'];
  installment_plan: string | null;
  payment_id: string | null;
  order_id: string | null;
  failed_step: CheckoutFailure['step'] | null;
  error: string | null;
  reason: string | null;
  message: string | null;
  undo_failures: string | null;
  compensation_from: Checkout['compensationFrom'];
  payment_expires_at: string | null;
  payment_due_date: string | null;
  payment_instructions: string | null;
  paid_late: boolean | null;
  unfinished_since: string;
  attempts: number;
  settle_tries: number;
  created_at: string;
  updated_at: string;
}

/** A row as an operator's take reads it first: what it decides on. */
interface CandidateRow extends CheckoutRow {
  history: string;
  held: boolean;
  settling: boolean;
}

interface HolderRow extends CheckoutRow {
  request_hash: string | null;
  response_status: number | null;
  response_body: string | null;
  lease_remaining_ms: number | string;
  key_expired: boolean;
}

/** Columns read back, cast to text so every driver returns the same shapes. */
const COLUMNS = `id::text, caller, status, customer_email, currency, total_amount::text,
  items::text, shipping_address::text, card_brand, card_last4, payment_flow, payment_method,
  pricing, installment_plan::text, payment_id, order_id,
  failed_step, error, reason, message, undo_failures::text, compensation_from, attempts,
  settle_tries, to_json(payment_expires_at)#>>'{}' as payment_expires_at,
  payment_due_date::text, payment_instructions::text, paid_late,
  to_json(coalesce(unfinished_since, created_at))#>>'{}' as unfinished_since,
  to_json(created_at)#>>'{}' as created_at, to_json(updated_at)#>>'{}' as updated_at`;

/** The row, before an update, is final (its stored answer is the one replayed). */
const FINAL_NOW = `status in ('completed', 'failed', 'expired', 'requires_attention')`;
/** Not final: what a same-key retry may take over (a waiting Pix included). */
const NOT_FINAL = `status not in ('completed', 'failed', 'expired', 'requires_attention')`;
/**
 * Unfinished: what recovery claims, ends and counts. A Pix or boleto waiting for its customer is
 * not: it is looked up by the sweep (`WAITING`) and never given up on by age or tries.
 */
const UNFINISHED = `status not in ('completed', 'failed', 'expired', 'requires_attention',
  'awaiting_payment')`;
/**
 * What the sweep looks up when due: waiting checkouts, and expired ones a late payment may reach.
 * Written as the predicate of its index (`checkouts_waiting`), which the backlog's count of the
 * waiting ones reads too.
 */
const WAITING = `(status = 'awaiting_payment' or (status = 'expired' and next_check_at is not null))`;
/**
 * An authorization that may still be open: an `after_order` checkout authorized and not
 * finished (`requires_attention` included: whatever a person must settle, the authorization may
 * be part of it), unless its payment was undone outside under its order. Counting one already
 * voided alarms early; missing one lets it expire uncaptured.
 */
const AUTHORIZATION_OPEN = `payment_flow = 'after_order' and payment_id is not null
  and status not in ('completed', 'failed', 'expired')
  and not coalesce(undo_failures ? 'payment_undone_under_order', false)`;
/**
 * How long past its expiry a waiting checkout may still wait before the metric counts it: the
 * expiry check runs from `expires_at` + 120 s, and the sweep that runs it at most an hour later.
 */
const EXPIRY_MARGIN = `interval '1 hour 2 minutes'`;
/** A lease measured on the database's clock, the one every worker shares. */
const LEASE_UNTIL = `now() + :leaseMs::integer * interval '1 millisecond'`;
const LEASE_FREE = '(locked_until is null or locked_until <= now())';

/**
 * One history entry as a JSON array of one, to append (`history || …`) in the statement that
 * makes the transition: no write costs an extra statement. Each argument is an SQL expression;
 * in an update they read the row as it was before it (`status` is the state left). `at` is on
 * the database's clock, as text, like `created_at` is read.
 */
const transition = (from: string, to: string, cause: string, by: string) =>
  `jsonb_build_array(jsonb_build_object('from', ${from}, 'to', ${to}, 'cause', ${cause},
     'at', to_json(now())#>>'{}', 'by', ${by}))`;
/**
 * Taken by a new worker (`:worker`, for `:cause`), at the state `to`: a new lease, and
 * `attempts` bumped so that the worker before is fenced.
 */
const take = (to: string) => `locked_until = ${LEASE_UNTIL}, attempts = attempts + 1,
  worker = :worker, updated_at = now(),
  history = history || ${transition('status', to, ':cause::text', ':worker::text')}`;
/** By the worker holding the row; `unknown` for one a release before the history wrote. */
const HOLDER = `coalesce(worker, 'unknown')`;

/** The `CheckoutRepository` port over the driver-neutral `Database`. */
export function createCheckoutRepository(db: Database): CheckoutRepository {
  const insert = (checkout: Checkout, leaseMs: number, worker: string, key?: IdempotencyClaim) =>
    db.query(
      // A key stored before keys had callers (raw) still holds for everyone until it expires.
      `insert into checkouts (id, caller, status, customer_email, currency, total_amount, items,
         shipping_address, card_brand, card_last4, payment_flow, payment_method, pricing,
         installment_plan, payment_expires_at, payment_due_date, payment_instructions,
         idempotency_key, request_hash, idempotency_ttl_hours, idempotency_expires_at,
         locked_until, attempts, created_at, unfinished_since, updated_at, worker, history)
       select :id::uuid, :caller, :status, :email, :currency, :total::numeric, :items::jsonb,
         :address::jsonb, :brand, :last4, :flow, :method, :pricing, :plan::jsonb,
         :expiresAt::timestamptz, :dueDate::date, :instructions::jsonb, :key, :requestHash,
         :ttlHours::integer,
         'infinity'::timestamptz, ${LEASE_UNTIL}, :attempt::integer,
         :now::timestamptz, :now::timestamptz, :now::timestamptz, :worker,
         ${transition('null', ':status::text', "'recorded'", ':worker::text')}
       where :rawKey::text is null or not exists (select 1 from checkouts
         where idempotency_key = :rawKey::text and idempotency_expires_at > now())
       on conflict (idempotency_key) where idempotency_key is not null do nothing
       returning id::text`,
      {
        id: checkout.id,
        caller: checkout.caller,
        status: checkout.status,
        email: checkout.customerEmail,
        currency: checkout.currency,
        total: formatMinorUnits(checkout.totalCents, checkout.currency),
        items: JSON.stringify(checkout.items.map((item) => toStoredItem(item, checkout.currency))),
        address: JSON.stringify(checkout.shippingAddress),
        brand: checkout.card?.brand ?? null,
        last4: checkout.card?.last4 ?? null,
        flow: checkout.flow,
        method: checkout.method,
        pricing: checkout.pricing,
        plan: JSON.stringify(toStoredPlan(checkout.installments, checkout.currency)),
        expiresAt: checkout.asyncPayment?.expiresAt ?? null,
        dueDate: checkout.asyncPayment?.dueDate ?? null,
        instructions: checkout.asyncPayment?.instructions
          ? JSON.stringify(checkout.asyncPayment.instructions)
          : null,
        key: key ? storedKey(key) : null,
        rawKey: key?.key ?? null,
        requestHash: key?.requestHash ?? null,
        ttlHours: key?.ttlHours ?? null,
        leaseMs,
        attempt: checkout.attempt,
        now: checkout.createdAt,
        worker,
      },
    );

  /** The checkout holding the caller's key, or one holding the same key from before callers. */
  const keyHolder = async (
    claim: IdempotencyClaim,
  ): Promise<{ holder: KeyHolder; expired: boolean } | undefined> => {
    const [row] = await db.query<HolderRow>(
      `select ${COLUMNS}, request_hash, response_status, response_body,
         coalesce(extract(epoch from (locked_until - now())) * 1000, 0)::float8 as lease_remaining_ms,
         idempotency_expires_at <= now() as key_expired
       from checkouts where idempotency_key in (:key, :rawKey)
       order by idempotency_key = :key desc limit 1`,
      { key: storedKey(claim), rawKey: claim.key },
    );
    if (!row) return undefined;
    const holder: KeyHolder = {
      checkout: toCheckout(row),
      requestHash: row.request_hash ?? '',
      response:
        row.response_status !== null && row.response_body !== null
          ? { code: Number(row.response_status), body: row.response_body }
          : null,
      leaseRemainingMs: Number(row.lease_remaining_ms),
    };
    return { holder, expired: row.key_expired };
  };

  return {
    async create(checkout, { leaseMs, idempotency, worker }) {
      // A holder whose key has expired gives it up and the insert is tried again.
      for (let round = 0; round < 3; round++) {
        const inserted = await insert(checkout, leaseMs, worker, idempotency);
        if (inserted.length > 0 || !idempotency) return { created: true };
        const found = await keyHolder(idempotency);
        if (found && !found.expired) return { created: false, holder: found.holder };
        if (found) {
          await db.query(
            `update checkouts set idempotency_key = null
             where id = :id::uuid and idempotency_expires_at <= now()`,
            { id: found.holder.checkout.id },
          );
        }
      }
      throw new Error(`could not claim idempotency key for checkout ${checkout.id}`);
    },

    async findKeyHolder(claim) {
      const found = await keyHolder(claim);
      return found && !found.expired ? found.holder : undefined;
    },

    async takeOver(id, leaseMs, worker) {
      const [row] = await db.query<CheckoutRow>(
        `update checkouts set ${take('status')}
         where id = :id::uuid and ${NOT_FINAL} and ${LEASE_FREE}
         returning ${COLUMNS}`,
        { id, leaseMs, worker, cause: 'taken over' },
      );
      return row && toCheckout(row);
    },

    async claimAbandoned(limit, leaseMs, settleDelayMs, worker) {
      const rows = await db.query<CheckoutRow>(
        `update checkouts set ${take('status')}
         where id in (
           select id from checkouts
           where ${UNFINISHED} and (locked_until is null
             or locked_until <= now() - :settleDelayMs::integer * interval '1 millisecond')
           order by locked_until nulls first
           limit :limit::integer
           for update skip locked)
         returning ${COLUMNS}`,
        { limit, leaseMs, settleDelayMs, worker, cause: 'claimed by recovery' },
      );
      const claimed: Checkout[] = [];
      const unreadable: string[] = [];
      for (const row of rows) {
        const checkout = readable(row);
        if (checkout) claimed.push(checkout);
        else {
          unreadable.push(row.id);
          await db.query(
            `update checkouts set status = 'requires_attention', reason = 'unreadable_row',
               undo_failures = '["read_checkout"]'::jsonb, locked_until = null, updated_at = now(),
               history = history || ${transition('status', "'requires_attention'", "'its row cannot be read'", HOLDER)}
             where id = :id::uuid and attempts = :attempt::integer`,
            { id: row.id, attempt: Number(row.attempts) },
          );
        }
      }
      return { claimed, unreadable };
    },

    async update(checkout, changes) {
      const { failure } = changes;
      // A recovery point commits durably (synchronous_commit on: set on the runtime user's role
      // by migrate, the server's default elsewhere): one lost in a database crash would roll the
      // checkout back behind what the services already did.
      // coalesce keeps a column as it is when this step does not change it. The settle tries
      // count afresh at each new recovery point (the open step, or the undo, is a new question).
      // A key is kept (`infinity`, from the insert) until its checkout is final, then for its TTL.
      // A checkout that leaves a final state (a late payment out of `expired`) is not final any
      // more: its key is kept again and its stored answer dropped, until it ends again. A waiting
      // checkout holds no lease. `unfinished_since`: when it last became unfinished (created, or
      // moved on from waiting or expired), what recovery's age cap and the backlog age count from.
      const rows = await db.query(
        `update checkouts set
           settle_tries = case when status = :status then settle_tries else 0 end,
           status = :status,
           payment_id = coalesce(:paymentId, payment_id),
           order_id = coalesce(:orderId, order_id),
           failed_step = case when :clearFailure::boolean then null
             else coalesce(:failedStep, failed_step) end,
           error = case when :clearFailure::boolean then null else coalesce(:error, error) end,
           reason = case when :clearFailure::boolean then null else coalesce(:reason, reason) end,
           message = case when :clearFailure::boolean then null
             else coalesce(:message, message) end,
           undo_failures = coalesce(:undoFailures::jsonb, undo_failures),
           compensation_from = coalesce(:compensationFrom, compensation_from),
           card_brand = coalesce(:brand, card_brand),
           card_last4 = coalesce(:last4, card_last4),
           payment_instructions = coalesce(:instructions::jsonb, payment_instructions),
           paid_late = paid_late or :paidLate::boolean,
           applied_events = applied_events
             || case when :eventId::text is null then '[]'::jsonb
                else jsonb_build_array(:eventId::text) end,
           next_check_at = case when :checks::boolean then :nextCheckAt::timestamptz
             else next_check_at end,
           response_status = case when :final::boolean then :responseStatus::integer
             when ${FINAL_NOW} then null else response_status end,
           response_body = case when :final::boolean then :responseBody
             when ${FINAL_NOW} then null else response_body end,
           idempotency_expires_at = case when :final::boolean
             then now() + coalesce(idempotency_ttl_hours, 24) * interval '1 hour'
             when ${FINAL_NOW} then 'infinity'::timestamptz else idempotency_expires_at end,
           unfinished_since = case when status in ('awaiting_payment', 'expired')
             and not :final::boolean and not :waiting::boolean then now()
             else unfinished_since end,
           locked_until = case when :final::boolean or :waiting::boolean then null
             else locked_until end,
           updated_at = now(),
           history = history || ${transition('status', ':status::text', ':cause::text', HOLDER)}
         where id = :id::uuid and attempts = :attempt::integer
         returning id::text`,
        {
          id: checkout.id,
          attempt: checkout.attempt,
          status: changes.status,
          paymentId: changes.paymentId ?? null,
          orderId: changes.orderId ?? null,
          clearFailure: failure === null,
          failedStep: failure?.step ?? null,
          error: failure ? failureCode(failure) : null,
          reason: failure?.reason ?? null,
          message: failure?.message ?? null,
          undoFailures: changes.undoFailures ? JSON.stringify(changes.undoFailures) : null,
          compensationFrom: changes.compensationFrom ?? null,
          brand: changes.card?.brand ?? null,
          last4: changes.card?.last4 ?? null,
          instructions: changes.instructions ? JSON.stringify(changes.instructions) : null,
          paidLate: changes.paidLate === true,
          eventId: changes.eventId ?? null,
          checks: changes.nextCheckAt !== undefined,
          nextCheckAt: changes.nextCheckAt ?? null,
          responseStatus: changes.response?.code ?? null,
          responseBody: changes.response?.body ?? null,
          final: changes.response !== undefined,
          waiting: isWaiting(changes.status),
          cause: changes.cause,
        },
      );
      if (rows.length === 0) throw new LeaseLostError(checkout.id);
    },

    async recordSettleTry(checkout, cause) {
      const [row] = await db.query<{ settle_tries: number }>(
        `update checkouts set settle_tries = settle_tries + 1, updated_at = now(),
           history = history || ${transition('status', 'status', ':cause::text', HOLDER)}
         where id = :id::uuid and attempts = :attempt::integer
         returning settle_tries`,
        { id: checkout.id, attempt: checkout.attempt, cause },
      );
      if (!row) throw new LeaseLostError(checkout.id);
      return Number(row.settle_tries);
    },

    async claimWaiting(limit, leaseMs, worker) {
      const rows = await db.query<CheckoutRow>(
        `update checkouts set ${take('status')}
         where id in (
           select id from checkouts
           where ${WAITING} and next_check_at <= now() and ${LEASE_FREE}
           order by next_check_at
           limit :limit::integer
           for update skip locked)
         returning ${COLUMNS}`,
        { limit, leaseMs, worker, cause: 'looked up by the sweep' },
      );
      return rows.flatMap((row) => readable(row) ?? []);
    },

    async takeWaiting(id, leaseMs, worker, cause) {
      const [row] = await db.query<CheckoutRow>(
        `update checkouts set ${take('status')}
         where id = :id::uuid and status in ('awaiting_payment', 'expired') and ${LEASE_FREE}
         returning ${COLUMNS}`,
        { id, leaseMs, worker, cause },
      );
      return row && toCheckout(row);
    },

    async leaveWaiting(checkout, { nextCheckAt, cause }) {
      const rows = await db.query(
        `update checkouts set locked_until = null, next_check_at = :nextCheckAt::timestamptz,
           updated_at = now(),
           history = history || ${transition('status', 'status', ':cause::text', HOLDER)}
         where id = :id::uuid and attempts = :attempt::integer
         returning id::text`,
        { id: checkout.id, attempt: checkout.attempt, nextCheckAt, cause },
      );
      if (rows.length === 0) throw new LeaseLostError(checkout.id);
    },

    async eventApplied(id, eventId) {
      const rows = await db.query(
        `select 1 as applied from checkouts
         where id = :id::uuid and applied_events @> jsonb_build_array(:eventId::text)`,
        { id, eventId },
      );
      return rows.length > 0;
    },

    async findById(id) {
      const rows = await db.query<CheckoutRow>(
        `select ${COLUMNS} from checkouts where id = :id::uuid`,
        {
          id,
        },
      );
      return rows[0] && toCheckout(rows[0]);
    },

    async history(id) {
      const [row] = await db.query<{ history: string }>(
        'select history::text from checkouts where id = :id::uuid',
        { id },
      );
      return row ? toHistory(row.history) : [];
    },

    async list({ statuses, olderThanMs, limit }) {
      if (statuses.length === 0) return { checkouts: [], unreadable: [] };
      // One `status = …` per status, not `= any(…)`: the planner then reads each from its partial
      // index (checkouts_unfinished, checkouts_attention), never every finished checkout.
      const params: SqlParams = { olderThanMs: olderThanMs ?? null, limit };
      const anyStatus = statuses.map((status, i) => {
        params[`status${i}`] = status;
        return `status = :status${i}`;
      });
      const rows = await db.query<CheckoutRow>(
        `select ${COLUMNS} from checkouts
         where (${anyStatus.join(' or ')})
           and (:olderThanMs::bigint is null
             or created_at <= now() - :olderThanMs::bigint * interval '1 millisecond')
         order by created_at, id
         limit :limit::integer`,
        params,
      );
      const checkouts: Checkout[] = [];
      const unreadable: string[] = [];
      for (const row of rows) {
        const checkout = readable(row);
        if (checkout) checkouts.push(checkout);
        else unreadable.push(row.id);
      }
      return { checkouts, unreadable };
    },

    async backlog() {
      // One arm per partial index (checkouts_unfinished, checkouts_attention, checkouts_waiting),
      // as `list` does: never every finished checkout.
      const [row] = await db.query<{
        unfinished: number;
        oldest: string | null;
        oldest_authorized: string | null;
        waiting: number;
        oldest_waiting: string | null;
        past_expiry: number;
      }>(
        `select count(*) filter (where ${UNFINISHED})::integer as unfinished,
           to_json(min(coalesce(unfinished_since, created_at)) filter (where ${UNFINISHED}))#>>'{}'
             as oldest,
           to_json(min(created_at) filter (where ${AUTHORIZATION_OPEN}))#>>'{}'
             as oldest_authorized,
           count(*) filter (where status = 'awaiting_payment')::integer as waiting,
           to_json(min(created_at) filter (where status = 'awaiting_payment'))#>>'{}'
             as oldest_waiting,
           count(*) filter (where status = 'awaiting_payment'
             and payment_expires_at < now() - ${EXPIRY_MARGIN})::integer as past_expiry
         from checkouts
         where ${UNFINISHED} or status = 'requires_attention' or status = 'awaiting_payment'`,
      );
      const date = (value: string | null | undefined) =>
        value ? new Date(value).toISOString() : null;
      return {
        unfinished: Number(row?.unfinished ?? 0),
        oldestUnfinishedAt: date(row?.oldest),
        oldestAuthorizedAt: date(row?.oldest_authorized),
        waiting: Number(row?.waiting ?? 0),
        oldestWaitingAt: date(row?.oldest_waiting),
        waitingPastExpiry: Number(row?.past_expiry ?? 0),
      };
    },

    async takeForOperator(id, { leaseMs, worker, reopen, settleDelayMs }) {
      const settled = `(status = 'requires_attention' or locked_until is null
        or locked_until <= now() - :settleDelayMs::integer * interval '1 millisecond')`;
      // Decided on the row as read, written only if it is still as read (same holder, same
      // state, no lease): otherwise it changed in between and is read again. A reopened
      // checkout drops the answer stored with its end: it is no longer final, and its next end
      // stores its own; its key is kept again until then.
      for (let round = 0; round < 3; round++) {
        const [row] = await db.query<CandidateRow>(
          `select ${COLUMNS}, history::text, not ${LEASE_FREE} as held, not ${settled} as settling
           from checkouts where id = :id::uuid`,
          { id, settleDelayMs },
        );
        if (!row) return { refused: 'not_found' };
        // An unreadable row cannot be handed to anyone: it throws here, before any write.
        const found = toCheckout(row);
        const plan = planOperatorTake(
          { ...found, held: row.held, settling: row.settling, history: toHistory(row.history) },
          reopen,
        );
        if ('refused' in plan) return plan;
        const [taken] = await db.query<CheckoutRow>(
          `update checkouts set ${take(':status::text')}, status = :status,
             undo_failures = case when :reopens::boolean then null else undo_failures end,
             settle_tries = case when :reopens::boolean then 0 else settle_tries end,
             response_status = case when :reopens::boolean then null else response_status end,
             response_body = case when :reopens::boolean then null else response_body end,
             idempotency_expires_at = case when :reopens::boolean then 'infinity'::timestamptz
               else idempotency_expires_at end
           where id = :id::uuid and attempts = :attempt::integer and status = :seen and ${LEASE_FREE}
             and ${settled}
           returning ${COLUMNS}`,
          {
            id,
            leaseMs,
            worker,
            cause: plan.cause,
            status: plan.status,
            reopens: plan.reopens,
            attempt: found.attempt,
            seen: found.status,
            settleDelayMs,
          },
        );
        if (taken) return { taken: toCheckout(taken) };
      }
      return { refused: 'held' };
    },
  };
}

/**
 * A key as stored: its caller and the key, apart by a control character, which a key (printable
 * text) cannot hold, so two callers' keys never meet.
 */
function storedKey(claim: IdempotencyClaim): string {
  return `${claim.caller}\u001f${claim.key}`;
}

/** The checkout a row holds, or `undefined` when this version cannot read it (an amount). */
function readable(row: CheckoutRow): Checkout | undefined {
  try {
    return toCheckout(row);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error; // an amount, not a bug
    return undefined;
  }
}

/** A stored history, each `at` as an ISO 8601 instant in UTC like every other time read. */
function toHistory(text: string): Transition[] {
  return (JSON.parse(text) as Transition[]).map((entry) => ({
    ...entry,
    at: new Date(entry.at).toISOString(),
  }));
}

interface StoredItem {
  product_id: string;
  quantity: number;
  price: string;
}

function toStoredItem(item: LineItem, currency: string): StoredItem {
  return {
    product_id: item.productId,
    quantity: item.quantity,
    price: formatMinorUnits(item.priceCents, currency),
  };
}

/** An installment plan as stored: amounts as decimals, like `total_amount`. */
interface StoredPlan {
  count: number;
  first: string;
  other: string;
}

function toStoredPlan(plan: InstallmentPlan, currency: string): StoredPlan {
  return {
    count: plan.count,
    first: formatMinorUnits(plan.firstCents, currency),
    other: formatMinorUnits(plan.otherCents, currency),
  };
}

/** The stored plan; a row from before plans were kept was paid in one installment. */
function fromStoredPlan(row: CheckoutRow, totalCents: MinorUnits): InstallmentPlan {
  if (!row.installment_plan) return installmentPlan(totalCents, 1);
  const plan = JSON.parse(row.installment_plan) as StoredPlan;
  return {
    count: plan.count,
    firstCents: parseDecimal(plan.first, row.currency),
    otherCents: parseDecimal(plan.other, row.currency),
  };
}

/** A Pix's or boleto's terms and instructions; `null` for a card. */
function toAsyncPayment(row: CheckoutRow): AsyncPayment | null {
  if (!row.payment_expires_at) return null;
  return {
    expiresAt: new Date(row.payment_expires_at).toISOString(),
    ...(row.payment_due_date && { dueDate: row.payment_due_date }),
    instructions: row.payment_instructions ? JSON.parse(row.payment_instructions) : null,
  };
}

function toCheckout(row: CheckoutRow): Checkout {
  const items = JSON.parse(row.items) as StoredItem[];
  const totalCents = parseDecimal(row.total_amount, row.currency);
  return {
    id: row.id,
    // Absent from a row read without the column (a fixture of an older release's SELECT).
    caller: row.caller ?? null,
    status: row.status,
    customerEmail: row.customer_email,
    currency: row.currency,
    totalCents,
    items: items.map((i) => ({
      productId: i.product_id,
      quantity: i.quantity,
      priceCents: parseDecimal(i.price, row.currency),
    })),
    shippingAddress: JSON.parse(row.shipping_address),
    card:
      row.card_brand && row.card_last4 ? { brand: row.card_brand, last4: row.card_last4 } : null,
    // Absent from a row read without the columns (a fixture of an older release's SELECT).
    flow: row.payment_flow ?? 'immediate',
    method: row.payment_method ?? 'credit_card',
    pricing: row.pricing ?? null,
    installments: fromStoredPlan(row, totalCents),
    paymentId: row.payment_id,
    orderId: row.order_id,
    failure:
      row.failed_step && row.error
        ? {
            step: row.failed_step,
            kind: row.error.endsWith('_unavailable') ? 'unavailable' : 'refused',
            reason: row.reason ?? 'unknown',
            message: row.message ?? '',
          }
        : null,
    undoFailures: row.undo_failures ? (JSON.parse(row.undo_failures) as string[]) : [],
    compensationFrom: row.compensation_from,
    asyncPayment: toAsyncPayment(row),
    paidLate: row.paid_late === true,
    // Absent from a row read without the column (a fixture of an older release's SELECT).
    unfinishedSince: new Date(row.unfinished_since ?? row.created_at).toISOString(),
    attempt: Number(row.attempts),
    settleTries: Number(row.settle_tries),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
