import { setTimeout as sleep } from 'node:timers/promises';
import type { ChaosDatabase } from './chaos-database.ts';
import type { ChildPool, WarmChild } from './child-pool.ts';
import { keptFailingLookups, type Service, scheduledFaults } from './fault-schedule.ts';
import {
  type CheckoutRowView,
  type CheckoutSpec,
  type ClientAnswer,
  checkInvariants,
  type OracleReport,
  type OutsideUndo,
} from './invariants.ts';
import type { OutputCapture } from './output-capture.ts';
import {
  type CheckoutPlan,
  describePlan,
  type RequestTrigger,
  requestBody,
  type ScenarioPlan,
} from './scenario-plan.ts';
import type { Simulator } from './simulator.ts';

/** What a scenario runs against: one simulator, one database and one app for the whole run. */
export interface Harness {
  simulator: Simulator;
  gatewayUrl: string;
  database: ChaosDatabase;
  /** A query on the app's database, retried while the database is down. */
  sql<T extends Record<string, unknown>>(
    text: string,
    params?: Record<string, string | number>,
  ): Promise<T[]>;
  /** One run of the recovery function; resolves with a line for the trace. */
  recover(): Promise<string>;
  children: ChildPool;
  output: OutputCapture;
  timeoutMs: Record<Service, number>;
  /** Recovery rounds allowed to bring the scenario's checkouts to a final state. */
  maxRounds: number;
}

export interface ScenarioStats {
  /** Log lines searched for card data (this process's and the child processes'). */
  logLines: number;
  kills: number;
  crashes: number;
  sameKeyRetries: number;
  recoveryRuns: number;
  /** Stuck checkouts an operator undid in a console before the lease-expired retries. */
  undosBeforeRetries: number;
  /** ...and between quiescence rounds. */
  undosBetweenRounds: number;
}

export interface ScenarioResult {
  plan: ScenarioPlan;
  report: OracleReport;
  /** Problems of the harness itself (not of the code under test). */
  harnessErrors: string[];
  trace: string[];
  stats: ScenarioStats;
  durationMs: number;
}

const FINAL_STATUSES = ['completed', 'failed', 'requires_attention'];
const FINAL = `(${FINAL_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/**
 * Runs one scenario: A) its checkouts, concurrently, through the real handlers (one maybe in
 * a child process killed on a given request, the database maybe crashed), with the planned
 * same-key retries, under the fault schedule; then an operator may refund or release some
 * stuck checkouts in a console; B) the leases expire, and the lease-expired retries race one
 * or two recovery runs, faults still on; C) faults off (but the lookups that keep failing),
 * recovery until every checkout is final (or a bound is hit), an operator maybe undoing more
 * between rounds. Then the oracle judges it by the simulator's ledgers.
 */
export async function runScenario(h: Harness, plan: ScenarioPlan): Promise<ScenarioResult> {
  const { simulator } = h;
  h.output.take(); // what was logged before this scenario was checked with the previous one
  const started = simulator.reset(); // the trace's time origin, shared with the simulator's
  const events: { t: number; text: string }[] = [];
  const note = (text: string) => events.push({ t: Math.round(performance.now() - started), text });
  const harnessErrors: string[] = [];
  const answers: ClientAnswer[] = [];
  const outsideUndos: OutsideUndo[] = [];
  const stats: ScenarioStats = {
    logLines: 0,
    kills: 0,
    crashes: 0,
    sameKeyRetries: 0,
    recoveryRuns: 0,
    undosBeforeRetries: 0,
    undosBetweenRounds: 0,
  };
  const indexOf = new Map(plan.checkouts.map((c) => [c.email, c.index]));
  const bodies = new Map(plan.checkouts.map((c) => [c.index, JSON.stringify(requestBody(c))]));
  const pattern = plan.checkouts[0]?.email.replace(/c0@example\.com$/, 'c%@example.com') ?? '';

  simulator.faults = scheduledFaults({
    seed: plan.seed,
    rateOf: (i) => (i === undefined ? 0.1 : (plan.checkouts[i]?.faultRate ?? 0)),
    indexOf: (email) => (email ? indexOf.get(email) : undefined),
    timeoutMs: h.timeoutMs,
  });

  let victim: WarmChild | undefined;
  let killed = false;
  let crashing: Promise<void> | undefined;
  const crash = () => {
    const { crash: stop, start } = h.database;
    if (crashing || !stop || !start || !plan.crash) return;
    const downMs = plan.crash.downMs;
    stats.crashes++;
    note('DB CRASH (pg_ctl stop -m immediate)');
    crashing = (async () => {
      try {
        await stop();
        await sleep(downMs);
        await start();
        note('db restarted');
      } catch (error) {
        harnessErrors.push(`db crash/restart: ${message(error)}`);
      }
    })();
  };
  // Resolved when the simulator first sees a request of a checkout (its row exists by then).
  const seen = new Map<number, { promise: Promise<void>; resolve: () => void }>();
  const firstRequest = (index: number) => {
    let entry = seen.get(index);
    if (!entry) {
      let resolve = () => {};
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      entry = { promise, resolve };
      seen.set(index, entry);
    }
    return entry;
  };
  simulator.hook = (request, moment) => {
    const index = request.email ? indexOf.get(request.email) : undefined;
    if (index !== undefined) firstRequest(index).resolve();
    const hit = (t: RequestTrigger) =>
      t.checkout === index &&
      t.endpoint === request.endpoint &&
      t.nth === request.nth &&
      t.moment === moment;
    if (plan.kill && !killed && victim && hit(plan.kill)) {
      killed = true;
      if (victim.kill()) {
        stats.kills++;
        note(`SIGKILL the child of c${index} (${request.endpoint} #${request.nth} ${moment})`);
      }
    }
    if (plan.crash && 'endpoint' in plan.crash.on && hit(plan.crash.on)) crash();
  };

  const record = (c: CheckoutPlan, answer: Omit<ClientAnswer, 'checkout'>) => {
    answers.push({ checkout: c.index, ...answer });
    note(`c${c.index} ${answer.source} → ${answer.status} ${summary(answer.body)}`);
    const on = plan.crash?.on;
    if (answer.status === 200 && on && 'after200' in on && on.checkout === c.index) crash();
  };
  const post = async (c: CheckoutPlan, source: string, afterEnd = false) => {
    if (source !== 'first') stats.sameKeyRetries++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (c.key) headers['idempotency-key'] = c.key;
    try {
      const res = await fetch(`${h.gatewayUrl}/checkout/process`, {
        method: 'POST',
        headers,
        body: bodies.get(c.index),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.text();
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      const retryAfter = res.headers.get('retry-after');
      record(c, { source, status: res.status, body, replayed, retryAfter, afterEnd });
    } catch (error) {
      record(c, { source, status: 'error', body: message(error), replayed: false, afterEnd });
    }
  };
  const runClient = async (c: CheckoutPlan) => {
    if (c.retry === 'concurrent') {
      await Promise.all([post(c, 'first'), sleep(5).then(() => post(c, 'concurrent'))]);
      return;
    }
    await post(c, 'first');
    if (c.retry === 'after_answer') await post(c, 'retry');
  };
  const runChild = async (c: CheckoutPlan) => {
    const child = await h.children.take();
    h.children.prewarm();
    victim = child;
    note(`c${c.index} runs in a child process`);
    const running = child.run({ body: bodies.get(c.index) ?? '', key: c.key }, 20_000);
    // The concurrent same-key request goes out once the child holds the checkout.
    const extra =
      c.retry === 'concurrent'
        ? Promise.race([firstRequest(c.index).promise, running]).then(() => post(c, 'concurrent'))
        : null;
    const result = await running;
    await extra;
    if (result.kind === 'answered') {
      record(c, {
        source: 'child',
        status: result.statusCode,
        body: result.body,
        replayed: result.replayed,
        retryAfter: result.retryAfter,
      });
    } else {
      note(`c${c.index} child ${result.kind}${result.kind === 'died' ? `: ${result.detail}` : ''}`);
    }
    if (c.retry === 'after_answer') await post(c, 'retry');
  };
  const recover = async (label: string) => {
    stats.recoveryRuns++;
    note(`${label} starts`);
    note(`${label}: ${await h.recover()}`);
  };
  // Called only when no worker holds a checkout of the scenario and the simulator is idle, so
  // "the lease expired long ago" (past recovery's settle delay) is true to what the services did.
  const expireLeases = async () => {
    const rows = await h.sql(
      `update checkouts set locked_until = now() - interval '1 hour'
       where customer_email like :pattern and status not in ${FINAL} returning id::text`,
      { pattern },
    );
    if (rows.length > 0) note(`leases of ${rows.length} unfinished checkout(s) expired`);
    return rows.length;
  };
  // An operator refunds and releases, in the services' consoles, what the checkouts planned
  // for this moment still hold, when they are stuck (not final). Called only while nothing of
  // the scenario is in flight, as a person acts between retries.
  const undoOutside = async (at: 'before_retries' | number) => {
    const due = plan.checkouts.filter((c) => c.outsideUndo?.at === at);
    if (due.length === 0) return;
    const rows = await h.sql<{ email: string; id: string; status: string }>(
      `select customer_email as email, id::text as id, status from checkouts
       where customer_email like :pattern`,
      { pattern },
    );
    for (const c of due) {
      const row = rows.find((r) => r.email === c.email);
      if (!row || !c.outsideUndo || FINAL_STATUSES.includes(row.status)) continue;
      const refunded = c.outsideUndo.refund && simulator.ledger.refundOutside(row.id) > 0;
      const released = c.outsideUndo.release && simulator.ledger.releaseOutside(row.id) > 0;
      if (!refunded && !released) continue;
      outsideUndos.push({ checkout: c.index, refunded, released });
      if (at === 'before_retries') stats.undosBeforeRetries++;
      else stats.undosBetweenRounds++;
      const what = [refunded ? 'refunds' : '', released ? 'releases' : ''].filter(Boolean);
      simulator.count('external_undo', ...what.map((w) => `operator ${w}`));
      note(`OPERATOR ${what.join(' and ')} c${c.index} (stuck at ${row.status}) in the console`);
    }
  };

  try {
    // A) the traffic
    await Promise.all(
      plan.checkouts.map(async (c) => {
        await sleep(c.startMs);
        await (c.viaChild ? runChild(c) : runClient(c));
      }),
    );
    await crashing;
    await simulator.idle();
    await undoOutside('before_retries');

    // B) leases expired: the same-key retries race the recovery runs, faults still on
    await expireLeases();
    await Promise.all([
      ...plan.checkouts
        .filter((c) => c.key && c.retry === 'after_lease')
        .map((c) => post(c, 'lease_retry')),
      ...Array.from({ length: plan.recoveryRuns }, (_, i) => recover(`recovery run ${i + 1}`)),
    ]);
    await crashing;
    await simulator.idle();

    // C) faults off, but for the lookups that keep failing: recovery until all are final
    let round = 0;
    simulator.faults = keptFailingLookups({
      seed: plan.seed,
      indexOf: (email) => (email ? indexOf.get(email) : undefined),
      roundsOf: (i) => plan.checkouts[i]?.lookupsFailRounds ?? 0,
      round: () => round,
      timeoutMs: h.timeoutMs,
    });
    simulator.hook = null;
    note('faults off');
    for (round = 1; round <= h.maxRounds; round++) {
      if ((await expireLeases()) === 0) break;
      await recover(`quiescence round ${round}`);
      await simulator.idle();
      await undoOutside(round);
    }
    simulator.faults = null;

    // D) every client with a key asks once more about its finished checkout: it must get the
    // final answer, replayed (a requires_attention answer too, which no client may have seen)
    const ended = await h.sql<{ email: string }>(
      `select customer_email as email from checkouts
       where customer_email like :pattern and status in ${FINAL}`,
      { pattern },
    );
    const finished = new Set(ended.map((r) => r.email));
    await Promise.all(
      plan.checkouts
        .filter((c) => c.key && finished.has(c.email))
        .map((c) => post(c, 'final_replay', true)),
    );
  } catch (error) {
    harnessErrors.push(`scenario: ${message(error)}`);
  } finally {
    simulator.faults = null;
    simulator.hook = null;
    await crashing;
  }

  const rows = await h.sql<Record<string, unknown>>(
    `select id::text as id, status, customer_email, payment_id, order_id,
       undo_failures::text as undo_failures, row_to_json(c)::text as dump
     from checkouts c where customer_email like :pattern`,
    { pattern },
  );
  // Left unfinished (a violation): parked, so later scenarios' recovery runs do not take it.
  await h.sql(
    `update checkouts set locked_until = now() + interval '100 years'
     where customer_email like :pattern and status not in ${FINAL}`,
    { pattern },
  );
  const logs = h.output.take();
  stats.logLines = logs.split('\n').filter((line) => line.trim()).length;
  const report = checkInvariants({
    checkouts: plan.checkouts.map(specOf),
    answers,
    rows: rows.map(rowView),
    ledger: simulator.ledger.snapshot(),
    logs,
    cardLeaks: simulator.cardLeaks,
    outsideUndos,
    lookupsKeptFailing: keptFailing(simulator.events, indexOf),
  });
  harnessErrors.push(...simulator.errors.splice(0));
  if (simulator.cardlessCharges > 0) {
    note(`${simulator.cardlessCharges} charge(s) without a card were refused (400)`);
  }
  const trace = [
    ...describePlan(plan),
    ...[...events, ...simulator.events.map((e) => ({ t: e.t, text: simLine(e, indexOf) }))]
      .sort((a, b) => a.t - b.t)
      .map((e) => `+${String(e.t).padStart(5)} ms  ${e.text}`),
    ...rows.map(
      (r) =>
        `row ${r.id}: ${r.status}${r.undo_failures ? ` undo_failures ${r.undo_failures}` : ''}`,
    ),
  ];
  return { plan, report, harnessErrors, trace, stats, durationMs: performance.now() - started };
}

/** The checkouts whose lookups did fail in the quiescence rounds (`lookups_keep_failing`). */
function keptFailing(events: Simulator['events'], indexOf: Map<string, number>): number[] {
  const failed = events.filter((e) => e.fault.startsWith('kept:') && e.email !== undefined);
  return [...new Set(failed.map((e) => indexOf.get(e.email ?? '') ?? -1))].filter((i) => i >= 0);
}

function specOf(c: CheckoutPlan): CheckoutSpec {
  return {
    index: c.index,
    email: c.email,
    currency: c.currency,
    totalMinor: c.totalMinor,
    items: c.items.map(({ productId, quantity }) => ({ productId, quantity })),
    card: { number: c.card.number, cvv: c.card.cvv },
  };
}

function rowView(r: Record<string, unknown>): CheckoutRowView {
  return {
    id: String(r.id),
    status: String(r.status),
    customerEmail: String(r.customer_email),
    paymentId: (r.payment_id as string | null) ?? null,
    orderId: (r.order_id as string | null) ?? null,
    undoFailures: r.undo_failures ? (JSON.parse(String(r.undo_failures)) as string[]) : [],
    dump: String(r.dump),
  };
}

function simLine(e: Simulator['events'][number], indexOf: Map<string, number>): string {
  const who =
    e.email !== undefined && indexOf.has(e.email)
      ? `c${indexOf.get(e.email)}`
      : (e.checkoutId ?? '?');
  const late = e.ms >= 50 ? ` (after ${e.ms} ms)` : '';
  return `   sim ${who} ${e.endpoint} #${e.nth}${e.fault ? ` [${e.fault}]` : ''} → ${e.answer}${late}`;
}

/** The gist of an answer body: its status, error and reason. */
function summary(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return [body.status, body.error, body.reason]
      .filter((v) => v !== undefined && v !== null)
      .join(' ');
  } catch {
    return text.slice(0, 80);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
