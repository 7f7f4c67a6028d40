import { setTimeout as sleep } from 'node:timers/promises';
import type { AsyncScenarioPlan } from './async-plan.ts';
import { runAsyncScenario } from './async-scenario.ts';
import type { ChaosDatabase } from './chaos-database.ts';
import type { ChildPool, WarmChild } from './child-pool.ts';
import {
  CATALOG_DOWN,
  type Client,
  type KeptFault,
  keptFailingLookups,
  type PaymentFlow,
  scheduledFaults,
  withPlannedFaults,
} from './fault-schedule.ts';
import {
  type CheckoutRowView,
  type CheckoutSpec,
  type ClientAnswer,
  checkInvariants,
  type OracleReport,
  type OutsideUndo,
} from './invariants.ts';
import { toMinor } from './ledger.ts';
import type { OutputCapture } from './output-capture.ts';
import {
  type CheckoutPlan,
  catalogPrices,
  describePlan,
  type RequestTrigger,
  requestBody,
  type ScenarioPlan,
  sentPrices,
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
  /**
   * Sets the app's `PAYMENT_CAPTURE` (its checkout handler and recovery, in this process): the
   * app reads its configuration once, so it is started anew when the setting changes. Called
   * only while nothing of the scenario is in flight.
   */
  setPaymentCapture(flow: PaymentFlow): Promise<void>;
  children: ChildPool;
  output: OutputCapture;
  timeoutMs: Record<Client, number>;
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
  /** Catalog prices changed between the traffic and the lease-expired retry... */
  priceChanges: number;
  /** ...of which on a checkout already recorded (the retry must keep its stored prices)... */
  priceChangesAfterRecording: number;
  /** ...of which unfinished, and resumed by that retry (its answer not replayed nor "in progress"). */
  priceChangeResumes: number;
  /** Same-key requests sent again with the current prices a 409 `price_changed` listed. */
  priceCorrections: number;
  /** Answers 409 `price_changed`, 422 `unknown_product`, 503 `pricing_unavailable`. */
  priceChangedAnswers: number;
  unknownProductAnswers: number;
  pricingUnavailableAnswers: number;
  /** Scenarios whose traffic ran under each PAYMENT_CAPTURE... */
  afterOrderScenarios: number;
  immediateScenarios: number;
  /** ...of which changed it before the lease-expired retries and recovery... */
  captureChanges: number;
  /** ...and whose child process ran under the other setting. */
  childOtherCapture: number;
  /** Scenarios whose requests paid with a token (card_token). */
  tokenScenarios: number;
  /** Pix and boleto scenarios (`async-scenario.ts`), and their checkouts by method. */
  asyncScenarios: number;
  pixCheckouts: number;
  boletoCheckouts: number;
  /** Webhooks POSTed to the app (signed; the forged ones are counted as faults). */
  webhooksSent: number;
  /** Pix and boletos a customer paid, of which late (after the checkout expired). */
  customerPayments: number;
  latePayments: number;
}

/** Every count at zero: a scenario's before it runs, and a run's before its first scenario. */
export function emptyStats(): ScenarioStats {
  return {
    logLines: 0,
    kills: 0,
    crashes: 0,
    sameKeyRetries: 0,
    recoveryRuns: 0,
    undosBeforeRetries: 0,
    undosBetweenRounds: 0,
    priceChanges: 0,
    priceChangesAfterRecording: 0,
    priceChangeResumes: 0,
    priceCorrections: 0,
    priceChangedAnswers: 0,
    unknownProductAnswers: 0,
    pricingUnavailableAnswers: 0,
    afterOrderScenarios: 0,
    immediateScenarios: 0,
    captureChanges: 0,
    childOtherCapture: 0,
    tokenScenarios: 0,
    asyncScenarios: 0,
    pixCheckouts: 0,
    boletoCheckouts: 0,
    webhooksSent: 0,
    customerPayments: 0,
    latePayments: 0,
  };
}

/** The stats counter of each refusal of pricing. */
const REFUSAL_STATS = {
  price_changed: 'priceChangedAnswers',
  unknown_product: 'unknownProductAnswers',
  pricing_unavailable: 'pricingUnavailableAnswers',
} as const satisfies Record<string, keyof ScenarioStats>;

export interface ScenarioResult {
  plan: ScenarioPlan | AsyncScenarioPlan;
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
 * a child process killed on a given request, the database maybe crashed), priced by the
 * simulator's catalog, with the planned same-key retries, under the fault schedule; then an
 * operator may refund or release some stuck checkouts in a console, and the catalog changes
 * some prices; B) the leases expire, and the lease-expired retries race one
 * or two recovery runs, faults still on; C) faults off (but the lookups that keep failing),
 * recovery until every checkout is final (or a bound is hit), an operator maybe undoing more
 * between rounds. Then the oracle judges it by the simulator's ledgers.
 */
export async function runScenario(
  h: Harness,
  plan: ScenarioPlan | AsyncScenarioPlan,
): Promise<ScenarioResult> {
  if ('kind' in plan && plan.kind === 'async') return runAsyncScenario(h, plan);
  return runCardScenario(h, plan as ScenarioPlan);
}

async function runCardScenario(h: Harness, plan: ScenarioPlan): Promise<ScenarioResult> {
  const { simulator } = h;
  h.output.take(); // what was logged before this scenario was checked with the previous one
  const started = simulator.reset(); // the trace's time origin, shared with the simulator's
  const events: { t: number; text: string }[] = [];
  const note = (text: string) => events.push({ t: Math.round(performance.now() - started), text });
  const harnessErrors: string[] = [];
  const answers: ClientAnswer[] = [];
  const outsideUndos: OutsideUndo[] = [];
  const stats = emptyStats();
  const { capture } = plan;
  if (capture.traffic === 'after_order') stats.afterOrderScenarios++;
  else stats.immediateScenarios++;
  if (capture.later !== capture.traffic) stats.captureChanges++;
  if (plan.checkouts.some((c) => c.viaChild) && capture.child !== capture.traffic) {
    stats.childOtherCapture++;
  }
  if (plan.checkouts.some((c) => c.paymentMethod === 'card_token')) stats.tokenScenarios++;
  const indexOf = new Map(plan.checkouts.map((c) => [c.email, c.index]));
  for (const c of plan.checkouts) {
    const unknown = c.items.filter((i) => i.priceMinor === undefined).map((i) => i.productId);
    simulator.catalog.register(c.email, c.currency, catalogPrices(c), unknown);
  }
  // The prices each client sends: those its customer saw, then those a 409 price_changed gave.
  const sent = new Map(plan.checkouts.map((c) => [c.index, sentPrices(c)]));
  const bodies = new Map(plan.checkouts.map((c) => [c.index, JSON.stringify(requestBody(c))]));
  // Whether each checkout with a planned price change was recorded before the catalog changed.
  const recordedBeforeChange = new Map<number, boolean>();
  const pattern = plan.checkouts[0]?.email.replace(/c0@example\.com$/, 'c%@example.com') ?? '';

  // The planned faults of the first requests (A), then of the lease-expired retries (B): the
  // catalog down, and the payments (charge or authorization) of a checkout that its retry must
  // resume after a price change.
  let moment: 'first_request' | 'lease_retry' = 'first_request';
  const planned = (i: number, endpoint: string): KeptFault | null => {
    const c = plan.checkouts[i];
    if (endpoint === 'quote' && c?.catalogOutage === moment) return CATALOG_DOWN;
    const waits = c?.priceChange?.resumedByRetry && moment === 'first_request';
    const pays = endpoint === 'charge' || endpoint === 'authorize';
    return pays && waits ? { kind: '5xx_before', status: 503 } : null;
  };
  simulator.faults = withPlannedFaults(
    scheduledFaults({
      seed: plan.seed,
      rateOf: (i) => (i === undefined ? 0.1 : (plan.checkouts[i]?.faultRate ?? 0)),
      indexOf: (email) => (email ? indexOf.get(email) : undefined),
      timeoutMs: h.timeoutMs,
    }),
    { indexOf: (email) => (email ? indexOf.get(email) : undefined), planned },
  );

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
    const refusal = pricingRefusal(answer);
    if (refusal) stats[REFUSAL_STATS[refusal]]++;
    if (c.priceChange && answer.keyHeld && !answer.afterEnd && resumedBy(answer)) {
      stats.priceChangeResumes++;
    }
    if (refusal === 'price_changed' && !answer.keyHeld) correctPrices(c, answer.body);
  };
  // What a shop does with a 409 price_changed: shows the current prices, and the customer sends
  // the checkout again under the same key (nothing was written under it).
  const correctPrices = (c: CheckoutPlan, body: string) => {
    const listed = (JSON.parse(body) as { items?: Record<string, unknown>[] }).items ?? [];
    const prices = new Map(sent.get(c.index));
    for (const item of listed) {
      const current = toMinor(item.current_price, c.currency);
      if (typeof item.product_id === 'string' && current !== undefined) {
        prices.set(item.product_id, current);
      }
    }
    const corrected = JSON.stringify(requestBody(c, prices));
    if (corrected === bodies.get(c.index)) return;
    sent.set(c.index, prices);
    bodies.set(c.index, corrected);
    stats.priceCorrections++;
    note(`c${c.index}'s client now sends the current prices the 409 listed`);
  };
  const post = async (
    c: CheckoutPlan,
    source: string,
    { afterEnd = false, keyHeld }: { afterEnd?: boolean; keyHeld?: boolean } = {},
  ) => {
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
      record(c, { source, status: res.status, body, replayed, retryAfter, afterEnd, keyHeld });
    } catch (error) {
      record(c, {
        source,
        status: 'error',
        body: message(error),
        replayed: false,
        afterEnd,
        keyHeld,
      });
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
    const child = await h.children.take({ PAYMENT_CAPTURE: capture.child });
    h.children.prewarm();
    victim = child;
    note(`c${c.index} runs in a child process (PAYMENT_CAPTURE ${capture.child})`);
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
      // No answer: its request may still have written the checkout (the oracle counts it).
      const detail = `child ${result.kind}${result.kind === 'died' ? `: ${result.detail}` : ''}`;
      record(c, { source: 'child', status: 'error', body: detail, replayed: false });
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
  // The shop changes a price in the catalog between the traffic and the lease-expired retry.
  const changePrices = (held: ReadonlySet<string>) => {
    for (const c of plan.checkouts) {
      if (!c.priceChange) continue;
      const recorded = held.has(c.email);
      simulator.catalog.setPrice(c.priceChange.productId, c.priceChange.priceMinor);
      recordedBeforeChange.set(c.index, recorded);
      stats.priceChanges++;
      if (recorded) stats.priceChangesAfterRecording++;
      note(
        `CATALOG prices ${c.priceChange.productId} of c${c.index} at ${c.priceChange.priceMinor} (c${c.index} ${recorded ? 'recorded' : 'not recorded'} by now)`,
      );
    }
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
      // The payment is undone as the console allows: a charge or a capture refunded, an
      // authorization still open voided.
      const refunded = c.outsideUndo.refund && simulator.ledger.refundOutside(row.id) > 0;
      const voided = c.outsideUndo.refund && simulator.ledger.voidOutside(row.id) > 0;
      const released = c.outsideUndo.release && simulator.ledger.releaseOutside(row.id) > 0;
      if (!refunded && !voided && !released) continue;
      outsideUndos.push({ checkout: c.index, refunded, voided, released });
      if (at === 'before_retries') stats.undosBeforeRetries++;
      else stats.undosBetweenRounds++;
      const what = [
        refunded ? 'refunds' : '',
        voided ? 'voids' : '',
        released ? 'releases' : '',
      ].filter(Boolean);
      simulator.count('external_undo', ...what.map((w) => `operator ${w}`));
      note(`OPERATOR ${what.join(' and ')} c${c.index} (stuck at ${row.status}) in the console`);
    }
  };

  // The flows each checkout may have been recorded with, once the traffic is over.
  let recordedFlows: Map<number, PaymentFlow[]> | undefined;
  try {
    // A) the traffic, under the traffic's PAYMENT_CAPTURE
    await h.setPaymentCapture(capture.traffic);
    note(`PAYMENT_CAPTURE ${capture.traffic}`);
    await Promise.all(
      plan.checkouts.map(async (c) => {
        await sleep(c.startMs);
        await (c.viaChild ? runChild(c) : runClient(c));
      }),
    );
    await crashing;
    await simulator.idle();
    await undoOutside('before_retries');
    // Every checkout recorded so far (nothing is in flight): its key holds it from now on.
    const held = new Set(
      (
        await h.sql<{ email: string }>(
          `select customer_email as email from checkouts where customer_email like :pattern`,
          { pattern },
        )
      ).map((r) => r.email),
    );
    changePrices(held);
    moment = 'lease_retry';
    // From here on the app runs under the later setting: a checkout recorded by now keeps the
    // flow stored on its row, one the lease-expired retry records gets the new one.
    if (capture.later !== capture.traffic) {
      await h.setPaymentCapture(capture.later);
      note(`PAYMENT_CAPTURE changed to ${capture.later} (${held.size} checkout(s) recorded)`);
    }
    recordedFlows = flowsOf(plan, held);

    // B) leases expired: the same-key retries race the recovery runs, faults still on (but
    // the retries after a price change planned to go first, which resume their checkouts)
    await expireLeases();
    const retried = plan.checkouts.filter((c) => c.key && c.retry === 'after_lease');
    const leaseRetry = (c: CheckoutPlan) => post(c, 'lease_retry', { keyHeld: held.has(c.email) });
    await Promise.all(retried.filter((c) => c.priceChange?.resumedByRetry).map(leaseRetry));
    await Promise.all([
      ...retried.filter((c) => !c.priceChange?.resumedByRetry).map(leaseRetry),
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
        .map((c) => post(c, 'final_replay', { afterEnd: true, keyHeld: true })),
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
    checkouts: plan.checkouts.map((c) => ({
      ...specOf(c, sent.get(c.index) ?? sentPrices(c), recordedBeforeChange.get(c.index)),
      ...(recordedFlows ? { flows: recordedFlows.get(c.index) } : {}),
    })),
    answers,
    rows: rows.map(rowView),
    ledger: simulator.ledger.snapshot(),
    logs,
    cardLeaks: simulator.cardLeaks,
    keyMisuses: simulator.keyMisuses,
    outsideUndos,
    lookupsKeptFailing: keptFailing(simulator.events, indexOf),
  });
  harnessErrors.push(...simulator.errors.splice(0));
  if (simulator.cardlessCharges > 0) {
    note(
      `${simulator.cardlessCharges} charge(s) or authorization(s) without a card were refused (400)`,
    );
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

/**
 * The `PAYMENT_CAPTURE` settings each checkout may have been recorded under: one recorded by the
 * end of the traffic (`held`), by a request of the traffic (the app's setting then, or the child
 * process's for the checkout it ran); any other by its lease-expired retry (the later setting).
 */
function flowsOf(plan: ScenarioPlan, held: ReadonlySet<string>): Map<number, PaymentFlow[]> {
  const { traffic, child, later } = plan.capture;
  return new Map(
    plan.checkouts.map((c) => {
      if (!held.has(c.email)) return [c.index, [later]];
      return [c.index, c.viaChild && child !== traffic ? [traffic, child] : [traffic]];
    }),
  );
}

/** The checkouts whose lookups did fail in the quiescence rounds (`lookups_keep_failing`). */
function keptFailing(events: Simulator['events'], indexOf: Map<string, number>): number[] {
  const failed = events.filter((e) => e.fault.startsWith('kept:') && e.email !== undefined);
  return [...new Set(failed.map((e) => indexOf.get(e.email ?? '') ?? -1))].filter((i) => i >= 0);
}

/**
 * What the oracle is told of a checkout: the cart as its client last sent it, the catalog's
 * prices, and (when the catalog changed one) whether the checkout had been recorded by then.
 */
function specOf(
  c: CheckoutPlan,
  sent: ReadonlyMap<string, number>,
  recordedBefore: boolean | undefined,
): CheckoutSpec {
  const prices = catalogPrices(c);
  const change = c.priceChange;
  return {
    index: c.index,
    email: c.email,
    currency: c.currency,
    items: c.items.map(({ productId, quantity }) => {
      const sentMinor = sent.get(productId);
      return sentMinor === undefined ? { productId, quantity } : { productId, quantity, sentMinor };
    }),
    prices,
    ...(change && recordedBefore !== undefined
      ? {
          priceChange: {
            prices: { ...prices, [change.productId]: change.priceMinor },
            recordedBefore,
          },
        }
      : {}),
    card: {
      number: c.card.number,
      cvv: c.card.cvv,
      ...(c.paymentMethod === 'card_token' ? { token: c.token } : {}),
    },
  };
}

/**
 * Whether a same-key request took its unfinished checkout over and ran it: a final or
 * incomplete answer naming the checkout, not replayed (a finished one) and not "in progress".
 */
function resumedBy(answer: Omit<ClientAnswer, 'checkout'>): boolean {
  if (answer.status === 'error' || answer.replayed) return false;
  let body: { checkout_id?: unknown; error?: unknown } | null;
  try {
    body = JSON.parse(answer.body) as typeof body;
  } catch {
    return false;
  }
  return typeof body?.checkout_id === 'string' && body.error !== 'checkout_in_progress';
}

/** The refusal of pricing an answer is, if it is one (design §2). */
function pricingRefusal(
  answer: Omit<ClientAnswer, 'checkout'>,
): keyof typeof REFUSAL_STATS | undefined {
  if (answer.status === 'error') return undefined;
  const error = parseError(answer.body);
  if (answer.status === 409 && error === 'price_changed') return error;
  if (answer.status === 422 && error === 'unknown_product') return error;
  if (answer.status === 503 && error === 'pricing_unavailable') return error;
  return undefined;
}

function parseError(text: string): unknown {
  try {
    return (JSON.parse(text) as { error?: unknown } | null)?.error;
  } catch {
    return undefined;
  }
}

function rowView(r: Record<string, unknown>): CheckoutRowView {
  const flow = storedFlow(String(r.dump));
  return {
    id: String(r.id),
    status: String(r.status),
    customerEmail: String(r.customer_email),
    paymentId: (r.payment_id as string | null) ?? null,
    orderId: (r.order_id as string | null) ?? null,
    undoFailures: r.undo_failures ? (JSON.parse(String(r.undo_failures)) as string[]) : [],
    ...(flow ? { flow } : {}),
    dump: String(r.dump),
  };
}

/**
 * The payment flow stored on a row, read from its columns (`row_to_json`) whatever the column
 * is called: the one column whose value is a flow's name, preferring one named for the flow or
 * the capture. Undefined when no column (or more than one, disagreeing) says.
 */
export function storedFlow(dump: string): PaymentFlow | undefined {
  let columns: Record<string, unknown>;
  try {
    columns = JSON.parse(dump) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const flows = Object.entries(columns ?? {}).filter(
    (entry): entry is [string, PaymentFlow] =>
      entry[1] === 'after_order' || entry[1] === 'immediate',
  );
  const named = flows.filter(([column]) => /flow|capture/i.test(column));
  const candidates = new Set((named.length > 0 ? named : flows).map(([, flow]) => flow));
  return candidates.size === 1 ? [...candidates][0] : undefined;
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
