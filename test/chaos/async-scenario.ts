import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AsyncCheckoutPlan,
  type AsyncScenarioPlan,
  asyncRequestBody,
  describeAsyncPlan,
  WEBHOOK_FAULT_KIND,
  type WebhookFault,
} from './async-plan.ts';
import type { WarmChild } from './child-pool.ts';
import { type KeptFault, scheduledFaults, withPlannedFaults } from './fault-schedule.ts';
import {
  type AsyncCheckoutSpec,
  type ClientAnswer,
  checkAsyncInvariants,
  type ForgedWebhook,
  type WebhookDelivery,
} from './invariants.ts';
import type { LedgerSnapshot } from './ledger.ts';
import type { Harness, ScenarioResult } from './scenario.ts';
import { emptyStats } from './scenario.ts';
import type { PaymentEventOut } from './simulator.ts';
import { deliverWebhook } from './webhooks.ts';

/** Every status a Pix or boleto checkout may end in. */
const FINAL_ASYNC = `('completed', 'failed', 'requires_attention', 'expired')`;
const DAY_S = 86_400;
/** PAYMENT_LATE_WINDOW_DAYS of the app (its default), and a day more: past the late window. */
const PAST_WINDOW_S = 8 * DAY_S;
/** How often an event the app answered with a 503 (or no answer) is sent again, at most. */
const REDELIVERIES = 12;

/**
 * Runs one Pix or boleto scenario (design §4a) through the real handlers, against the
 * simulator's payment service, with its webhooks:
 *
 * A) the traffic: each checkout's request (maybe in a child process killed on a request, the
 *    database maybe crashed), its planned same-key retries, faults from the seed; a creation
 *    whose answer is lost (`creation_answer_lost`) leaves a checkout at `inventory_deducted`;
 * B) leases expired: the lease-expired same-key retries race one or two recovery runs;
 * C) the customers who pay in time pay; the service's webhooks are delivered with the
 *    checkout's webhook faults (faults on requests still on);
 * D) faults off: recovery rounds (each a sweep with the waiting checkouts' next check due: an
 *    hour passes) until every checkout is final or waiting;
 * E) time passes past each waiting checkout's expiry and its 120 s grace, and the service's own
 *    expiry with it: rounds until none waits;
 * F) the late customers pay (past the late window for some: time moved 8 days); rounds again
 *    until every checkout is final and every webhook answered; a last same-key request each.
 *
 * Time: a scenario cannot wait 30 minutes (or a boleto's days), so the harness moves a
 * checkout's deadline in the database (`payment_expires_at`, and `next_check_at` to now) and the
 * simulator's expiry of its charge (`Simulator.moveExpiry`) to the same instant, the way it
 * expires leases by hand. Nothing else in the app reads the clock for these deadlines.
 */
export async function runAsyncScenario(
  h: Harness,
  plan: AsyncScenarioPlan,
): Promise<ScenarioResult> {
  const { simulator } = h;
  h.output.take();
  const started = simulator.reset();
  const events: { t: number; text: string }[] = [];
  const note = (text: string) => events.push({ t: Math.round(performance.now() - started), text });
  const harnessErrors: string[] = [];
  const answers: ClientAnswer[] = [];
  const deliveries: WebhookDelivery[] = [];
  const forged: ForgedWebhook[] = [];
  const stats = emptyStats();
  stats.asyncScenarios++;
  for (const c of plan.checkouts) {
    if (c.method === 'pix') stats.pixCheckouts++;
    else stats.boletoCheckouts++;
  }
  const byIndex = new Map(plan.checkouts.map((c) => [c.index, c]));
  const indexOf = new Map(plan.checkouts.map((c) => [c.email, c.index]));
  const index = (email: string | undefined) => (email ? indexOf.get(email) : undefined);
  for (const c of plan.checkouts) {
    const prices = Object.fromEntries(c.items.map((i) => [i.productId, i.priceMinor]));
    simulator.catalog.register(c.email, 'BRL', prices, []);
  }
  const pattern = plan.checkouts[0]?.email.replace(/c0@example\.com$/, 'c%@example.com') ?? '';
  const bodies = new Map(plan.checkouts.map((c) => [c.index, JSON.stringify(asyncRequestBody(c))]));
  // The customer had the instructions (a 202 with the QR code or the slip), and when.
  const instructed = new Map<number, number>();
  const count = (kind: string, target = 'webhooks') => simulator.count(kind, target);

  // The planned faults: the first creation's answer lost (both of its tries: HTTP_MAX_RETRIES
  // is 1, so the client gets no answer from it); the late deduction refused.
  const lostTries = new Map<number, number>();
  let latePhase = false;
  const planned = (i: number, endpoint: string): KeptFault | null => {
    const c = byIndex.get(i);
    if (!c) return null;
    const tries = lostTries.get(i) ?? 0;
    if (c.creationLost && tries < 2 && (endpoint === 'pix' || endpoint === 'boleto')) {
      lostTries.set(i, tries + 1);
      return { kind: 'reset_after', lost: true };
    }
    if (c.lateStockGone && latePhase && endpoint === 'deduct') {
      return { kind: 'refusal', reason: 'out_of_stock' };
    }
    return null;
  };
  const requestFaults = withPlannedFaults(
    scheduledFaults({
      seed: plan.seed,
      rateOf: (i) => (i === undefined ? 0.1 : (byIndex.get(i)?.faultRate ?? 0)),
      indexOf: index,
      timeoutMs: h.timeoutMs,
    }),
    { indexOf: index, planned },
  );
  const onlyPlanned = withPlannedFaults(() => null, { indexOf: index, planned });
  simulator.faults = requestFaults;

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
  simulator.hook = (request, moment) => {
    const i = index(request.email);
    const hit = (t: { checkout: number; endpoint: string; nth: number; moment: string }) =>
      t.checkout === i &&
      t.endpoint === request.endpoint &&
      t.nth === request.nth &&
      t.moment === moment;
    if (plan.kill && !killed && victim && hit(plan.kill)) {
      killed = true;
      if (victim.kill()) {
        stats.kills++;
        note(`SIGKILL the child of c${i} (${request.endpoint} #${request.nth} ${moment})`);
      }
    }
    if (plan.crash && hit(plan.crash.on)) crash();
  };

  const record = (c: AsyncCheckoutPlan, answer: Omit<ClientAnswer, 'checkout'>) => {
    answers.push({ checkout: c.index, ...answer });
    note(`c${c.index} ${answer.source} → ${answer.status} ${summary(answer.body)}`);
    if (answer.status === 202 && instructionsOf(answer.body) && !instructed.has(c.index)) {
      instructed.set(c.index, Date.now());
    }
  };
  const post = async (c: AsyncCheckoutPlan, source: string, afterEnd = false) => {
    if (source !== 'first') stats.sameKeyRetries++;
    try {
      const res = await fetch(`${h.gatewayUrl}/checkout/process`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': c.key },
        body: bodies.get(c.index),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.text();
      const replayed = res.headers.get('idempotent-replayed') === 'true';
      record(c, {
        source,
        status: res.status,
        body,
        replayed,
        retryAfter: res.headers.get('retry-after'),
        afterEnd,
      });
    } catch (error) {
      record(c, { source, status: 'error', body: message(error), replayed: false, afterEnd });
    }
  };
  const runClient = async (c: AsyncCheckoutPlan) => {
    if (c.viaChild) {
      const child = await h.children.take({ PAYMENT_CAPTURE: plan.capture.child });
      h.children.prewarm();
      victim = child;
      note(`c${c.index} runs in a child process`);
      const result = await child.run({ body: bodies.get(c.index) ?? '', key: c.key }, 20_000);
      if (result.kind === 'answered') {
        record(c, {
          source: 'child',
          status: result.statusCode,
          body: result.body,
          replayed: result.replayed,
        });
      } else {
        const detail = `child ${result.kind}${result.kind === 'died' ? `: ${result.detail}` : ''}`;
        record(c, { source: 'child', status: 'error', body: detail, replayed: false });
      }
    } else if (c.retry === 'concurrent') {
      await Promise.all([post(c, 'first'), sleep(5).then(() => post(c, 'concurrent'))]);
      return;
    } else {
      await post(c, 'first');
    }
    if (c.retry === 'after_answer') await post(c, 'retry');
  };
  const recover = async (label: string) => {
    stats.recoveryRuns++;
    note(`${label} starts`);
    note(`${label}: ${await h.recover()}`);
  };
  type Row = { id: string; email: string; status: string; payment_id: string | null };
  const rowsNow = () =>
    h.sql<Row>(
      `select id::text as id, customer_email as email, status, payment_id from checkouts
       where customer_email like :pattern`,
      { pattern },
    );
  // Every lease still held expires (called only while nothing of the scenario is in flight):
  // an unfinished checkout's, and a waiting or expired one's that a worker took (a webhook, a
  // same-key retry, the sweep) and never gave back, its process killed or its database crashed
  // under it. A waiting checkout holds none otherwise.
  const expireLeases = async () => {
    const rows = await h.sql(
      `update checkouts set locked_until = now() - interval '1 hour'
       where customer_email like :pattern and (locked_until > now()
         or (status not in ${FINAL_ASYNC} and status <> 'awaiting_payment')) returning id::text`,
      { pattern },
    );
    if (rows.length > 0) note(`leases of ${rows.length} unfinished checkout(s) expired`);
    return rows.length;
  };
  // An hour passes for every waiting (or expired, still looked at) checkout: its next check due.
  // Before the expiry, the checkouts whose webhook is held for it (late, or racing the expiry
  // check) are not looked at early: their payment is told at the expiry, as planned.
  let holdingForExpiry = true;
  const heldEmails = plan.checkouts
    .filter((c) => c.webhookFaults.includes('late') || c.webhookFaults.includes('races_sweep'))
    .map((c) => c.email);
  const checksDue = async (id?: string) => {
    const skip = holdingForExpiry ? heldEmails : [];
    const params: Record<string, string> = { pattern };
    skip.forEach((email, i) => {
      params[`skip${i}`] = email;
    });
    if (id) params.id = id;
    await h.sql(
      `update checkouts set next_check_at = now() where customer_email like :pattern
         and next_check_at is not null ${id ? 'and id = :id::uuid' : ''}
         ${skip.length ? `and customer_email not in (${skip.map((_, i) => `:skip${i}`).join(', ')})` : ''}`,
      params,
    );
  };
  // Time passes past a checkout's expiry (and the service's own expiry of its charge with it).
  const moveExpiry = async (c: AsyncCheckoutPlan, row: Row, seconds: number) => {
    const moved = await h.sql<{ at: string }>(
      `update checkouts set payment_expires_at = now() - make_interval(secs => :seconds),
         next_check_at = now() where id = :id::uuid
       returning (extract(epoch from payment_expires_at) * 1000)::text as at`,
      { id: row.id, seconds },
    );
    const at = Number(moved[0]?.at);
    if (row.payment_id && Number.isFinite(at))
      simulator.moveExpiry(row.payment_id, at, c.serviceLagMs);
    note(
      `TIME c${c.index}: expired ${seconds} s ago (the service's own expiry ${c.serviceLagMs ? 'an hour later' : 'the same'})`,
    );
  };

  // The webhooks: each checkout's events, delivered with its faults.
  const delivered = new Map<number, number>(); // checkout → newest seq delivered
  const redeliver: PaymentEventOut[] = [];
  const heldBack = new Map<number, PaymentEventOut[]>(); // out of order: held for a newer one
  const lateHeld: PaymentEventOut[] = [];
  let pastExpiry = false;
  const forgedDone = new Set<number>();
  const checkoutOf = async (id: string) => (await rowsNow()).find((r) => r.id === id);
  const ledgerOf = (id: string) => {
    const l = simulator.ledger;
    return JSON.stringify([
      l.asyncCharges.filter((c) => c.checkoutId === id),
      l.deductions.filter((d) => d.checkoutId === id),
      l.orders.filter((o) => o.checkoutId === id),
      l.refunds.filter((r) => r.checkoutId === id),
      l.cancels.filter((r) => r.checkoutId === id),
    ]);
  };
  const dumpOf = async (id: string) =>
    (
      await h.sql<{ dump: string }>(
        `select row_to_json(c)::text as dump from checkouts c where id = :id::uuid`,
        { id },
      )
    )[0]?.dump ?? '';
  const send = async (c: AsyncCheckoutPlan | undefined, event: PaymentEventOut, label: string) => {
    stats.webhooksSent++;
    const answer = await deliverWebhook(h.gatewayUrl, event);
    deliveries.push({
      checkout: c?.index,
      eventId: event.event_id,
      type: event.type,
      status: answer.status,
      body: answer.body,
    });
    note(
      `WEBHOOK ${label} ${event.type} of c${c?.index ?? '?'} (${event.event_id}) → ${answer.status} ${summary(answer.body)}`,
    );
    if (c) {
      const newest = delivered.get(c.index) ?? 0;
      if (event.seq < newest) count(WEBHOOK_FAULT_KIND.out_of_order);
      delivered.set(c.index, Math.max(newest, event.seq));
    }
    if (answer.status !== 200 && answer.status !== 401) redeliver.push(event);
  };
  // A forged copy goes first: 401, and neither the row nor the ledgers change.
  const forge = async (c: AsyncCheckoutPlan, event: PaymentEventOut) => {
    forgedDone.add(c.index);
    const before = [await dumpOf(event.checkout_id), ledgerOf(event.checkout_id)];
    const claim: PaymentEventOut = {
      ...event,
      event_id: `${event.event_id}_forged`,
      type: 'payment.paid',
    };
    const answer = await deliverWebhook(h.gatewayUrl, claim, c.forgery);
    await simulator.idle(event.checkout_id);
    const after = [await dumpOf(event.checkout_id), ledgerOf(event.checkout_id)];
    count(WEBHOOK_FAULT_KIND.forged);
    forged.push({
      checkout: c.index,
      forgery: c.forgery,
      status: answer.status,
      rowChanged: before[0] !== after[0],
      ledgerChanged: before[1] !== after[1],
    });
    note(`FORGED (${c.forgery}) ${claim.type} of c${c.index} → ${answer.status}`);
  };
  /** Delivers the events queued so far, with each checkout's webhook faults. */
  const deliverQueued = async (final = false) => {
    simulator.expireDue();
    const queued = simulator.outbox.splice(0);
    const byCheckout = new Map<number | undefined, PaymentEventOut[]>();
    for (const event of queued) {
      const id = event.checkout_id;
      const owner = plan.checkouts.find((c) =>
        simulator.ledger.asyncCharges.some(
          (a) => a.checkoutId === id && a.customerEmail === c.email,
        ),
      );
      const list = byCheckout.get(owner?.index) ?? [];
      list.push(event);
      byCheckout.set(owner?.index, list);
    }
    await Promise.all(
      [...byCheckout].map(async ([i, list]) => {
        const c = i === undefined ? undefined : byIndex.get(i);
        if (!c) {
          for (const event of list) await send(undefined, event, 'stray');
          return;
        }
        const has = (f: WebhookFault) => c.webhookFaults.includes(f);
        let todo = list;
        if (has('lost')) {
          const lost = todo.filter((e) => e.type === 'payment.paid');
          for (const e of lost) {
            count(WEBHOOK_FAULT_KIND.lost);
            note(`WEBHOOK LOST ${e.type} of c${c.index} (${e.event_id})`);
          }
          todo = todo.filter((e) => e.type !== 'payment.paid');
        }
        if ((has('late') || has('races_sweep')) && !pastExpiry) {
          lateHeld.push(...todo);
          return;
        }
        if (has('out_of_order')) {
          // Held until a newer one comes: then the newer goes first, the older after it.
          const held = [...(heldBack.get(c.index) ?? []), ...todo];
          if (held.length < 2 && !final) {
            heldBack.set(c.index, held);
            return;
          }
          heldBack.delete(c.index);
          todo = held.sort((a, b) => b.seq - a.seq);
        }
        for (const event of todo) {
          if (has('forged') && !forgedDone.has(c.index)) await forge(c, event);
          const row = await checkoutOf(event.checkout_id);
          const racing: Promise<unknown>[] = [];
          if (has('races_retry') && row) {
            count(WEBHOOK_FAULT_KIND.races_retry);
            racing.push(post(c, 'retry racing a webhook'));
          }
          if (has('duplicate')) {
            count(WEBHOOK_FAULT_KIND.duplicate);
            racing.push(sleep(event.seq % 3).then(() => send(c, event, 'duplicate')));
          }
          await Promise.all([send(c, event, 'delivered'), ...racing]);
        }
      }),
    );
  };
  // Once time passed the expiry: the held webhooks go out, those racing the expiry check at
  // the same time as a recovery run whose sweep finds the checkout due (and cancels, or not).
  const deliverLate = async () => {
    const held = lateHeld.splice(0);
    const ownerOf = (event: PaymentEventOut) =>
      plan.checkouts.find((p) =>
        simulator.ledger.asyncCharges.some(
          (a) => a.checkoutId === event.checkout_id && a.customerEmail === p.email,
        ),
      );
    const racing = held.filter((e) => ownerOf(e)?.webhookFaults.includes('races_sweep'));
    for (const _event of racing) count(WEBHOOK_FAULT_KIND.races_sweep);
    await Promise.all([
      ...(racing.length > 0 ? [recover('expiry check racing a webhook')] : []),
      ...racing.map((event) => send(ownerOf(event), event, 'racing the expiry check')),
      (async () => {
        for (const event of held.filter((e) => !racing.includes(e))) {
          count(WEBHOOK_FAULT_KIND.late);
          await send(ownerOf(event), event, 'late');
        }
      })(),
    ]);
  };
  const deliverAgain = async () => {
    const again = redeliver.splice(0);
    for (const event of again) {
      const c = plan.checkouts.find((p) =>
        simulator.ledger.asyncCharges.some(
          (a) => a.checkoutId === event.checkout_id && a.customerEmail === p.email,
        ),
      );
      const tries = (redelivered.get(event.event_id) ?? 0) + 1;
      redelivered.set(event.event_id, tries);
      if (tries > REDELIVERIES) {
        note(`WEBHOOK ${event.event_id} given up after ${REDELIVERIES} redeliveries`);
        continue;
      }
      await send(c, event, 'redelivered');
    }
  };
  const redelivered = new Map<string, number>();
  const quiesce = async (label: string, done: (rows: Row[]) => boolean, minRounds = 1) => {
    for (let round = 1; round <= h.maxRounds + 2; round++) {
      await expireLeases();
      await checksDue();
      await recover(`${label} round ${round}`);
      await simulator.idle();
      await deliverQueued();
      await deliverAgain();
      await simulator.idle();
      if (round >= minRounds && done(await rowsNow()) && redeliver.length === 0) return;
    }
    note(`${label}: not settled after ${h.maxRounds + 2} rounds`);
  };
  const isFinal = (s: string) =>
    ['completed', 'failed', 'requires_attention', 'expired'].includes(s);
  const pay = (c: AsyncCheckoutPlan, row: Row, late: boolean, paidAt?: number) => {
    if (!row.payment_id) return;
    const charge = simulator.ledger.asyncCharges.find((a) => a.transactionId === row.payment_id);
    const amountMinor = c.otherAmount && charge ? charge.amount + 1 : undefined;
    const result = simulator.pay(row.payment_id, {
      late,
      ...(amountMinor === undefined ? {} : { amountMinor }),
      ...(paidAt === undefined ? {} : { paidAt }),
    });
    if (result.paid) stats.customerPayments++;
    if (result.paid && late) stats.latePayments++;
    note(
      `CUSTOMER c${c.index} pays${late ? ' late' : ''}${amountMinor ? ' another amount' : ''}: ${result.paid ? 'paid' : `refused (the charge is ${result.before})`}`,
    );
  };

  try {
    // A) the traffic
    await Promise.all(
      plan.checkouts.map(async (c) => {
        await sleep(c.startMs);
        await runClient(c);
      }),
    );
    await crashing;
    await simulator.idle();
    // B) leases expired: the lease-expired retries race the recovery runs, faults still on
    await expireLeases();
    await Promise.all([
      ...plan.checkouts.filter((c) => c.retry === 'after_lease').map((c) => post(c, 'lease_retry')),
      ...Array.from({ length: plan.recoveryRuns }, (_, i) => recover(`recovery run ${i + 1}`)),
    ]);
    await crashing;
    await simulator.idle();
    // C) the customers who pay in time pay; the webhooks go out with their faults
    let rows = await rowsNow();
    for (const c of plan.checkouts) {
      const row = rows.find((r) => r.email === c.email);
      if (c.payer === 'in_time' && row && instructed.has(c.index)) pay(c, row, false);
    }
    await deliverQueued();
    await crashing;
    await simulator.idle();
    simulator.faults = onlyPlanned;
    simulator.hook = null;
    note('faults off');
    // D) rounds until every checkout is final or waiting
    await quiesce('quiescence', (rs) =>
      rs.every((r) => isFinal(r.status) || r.status === 'awaiting_payment'),
    );
    // E) time passes past every waiting checkout's expiry
    rows = await rowsNow();
    for (const c of plan.checkouts) {
      const row = rows.find((r) => r.email === c.email);
      if (row?.status === 'awaiting_payment') await moveExpiry(c, row, c.pastExpirySeconds);
    }
    pastExpiry = true;
    holdingForExpiry = false;
    // The held webhooks, and the clients retrying under their key once the expiry passed.
    await Promise.all([
      deliverLate(),
      ...plan.checkouts
        .filter((c) => c.retry === 'after_lease' && rows.some((r) => r.email === c.email))
        .map((c) => post(c, 'retry after the expiry')),
    ]);
    await quiesce('expiry', (rs) => rs.every((r) => isFinal(r.status)));
    // F) the late customers pay
    latePhase = true;
    rows = await rowsNow();
    for (const c of plan.checkouts) {
      const row = rows.find((r) => r.email === c.email);
      if (!row || !instructed.has(c.index) || c.payer === 'in_time' || c.payer === 'never')
        continue;
      // Past the late window: a late payment, or one made in time but told only then (never
      // with its webhook lost: past the window only the webhook tells of it).
      const pastWindow =
        c.payer === 'late_past' ||
        (c.payer === 'late_told' &&
          c.pastExpirySeconds % 2 === 0 &&
          !c.webhookFaults.includes('lost'));
      if (pastWindow) await moveExpiry(c, row, PAST_WINDOW_S);
      const charge = simulator.ledger.asyncCharges.find((a) => a.transactionId === row.payment_id);
      const paidAt = c.payer === 'late_told' && charge ? charge.appExpiresAt - 60_000 : undefined;
      pay(c, row, true, paidAt);
    }
    // Their webhooks meet the request faults again (a late deduction or refund unanswered).
    simulator.faults = requestFaults;
    await deliverQueued();
    await simulator.idle();
    simulator.faults = onlyPlanned;
    await quiesce('late payments', (rs) => rs.every((r) => isFinal(r.status)), 2);
    await deliverQueued(true);
    await deliverAgain();
    await simulator.idle();
    simulator.faults = null;
    // G) every client asks once more under its key: the final answer
    rows = await rowsNow();
    await Promise.all(
      plan.checkouts
        .filter((c) => rows.some((r) => r.email === c.email && isFinal(r.status)))
        .map((c) => post(c, 'final_replay', true)),
    );
    await simulator.idle();
  } catch (error) {
    harnessErrors.push(`scenario: ${message(error)}`);
  } finally {
    simulator.faults = null;
    simulator.hook = null;
    await crashing;
  }

  simulator.expireDue();
  const rows = await h.sql<Record<string, unknown>>(
    `select id::text as id, status, customer_email, payment_id, order_id,
       undo_failures::text as undo_failures, row_to_json(c)::text as dump
     from checkouts c where customer_email like :pattern`,
    { pattern },
  );
  // Parked: later scenarios' recovery runs and sweeps leave this one's checkouts alone.
  await h.sql(
    `update checkouts set locked_until = now() + interval '100 years', next_check_at = null
     where customer_email like :pattern and (status not in ${FINAL_ASYNC} or next_check_at is not null)`,
    { pattern },
  );
  const logs = h.output.take();
  stats.logLines = logs.split('\n').filter((line) => line.trim()).length;
  const ledger: LedgerSnapshot = simulator.ledger.snapshot();
  const specs: AsyncCheckoutSpec[] = plan.checkouts.map((c) => ({
    index: c.index,
    email: c.email,
    method: c.method,
    cpf: c.cpf,
    totalMinor: c.totalMinor,
    items: c.items.map(({ productId, quantity }) => ({ productId, quantity })),
    instructed: instructed.has(c.index),
  }));
  const report = checkAsyncInvariants({
    checkouts: specs,
    answers,
    rows: rows.map((r) => ({
      id: String(r.id),
      status: String(r.status),
      customerEmail: String(r.customer_email),
      paymentId: (r.payment_id as string | null) ?? null,
      orderId: (r.order_id as string | null) ?? null,
      undoFailures: r.undo_failures ? (JSON.parse(String(r.undo_failures)) as string[]) : [],
      dump: String(r.dump),
    })),
    ledger,
    logs,
    forged,
    deliveries,
    cardLeaks: simulator.cardLeaks,
    keyMisuses: simulator.keyMisuses,
  });
  harnessErrors.push(...simulator.errors.splice(0));
  const trace = [
    ...describeAsyncPlan(plan),
    ...[
      ...events,
      ...simulator.events.map((e) => ({
        t: e.t,
        text: `   sim ${e.email !== undefined && indexOf.has(e.email) ? `c${indexOf.get(e.email)}` : (e.checkoutId ?? '?')} ${e.endpoint} #${e.nth}${e.fault ? ` [${e.fault}]` : ''} → ${e.answer}${e.ms >= 50 ? ` (after ${e.ms} ms)` : ''}`,
      })),
    ]
      .sort((a, b) => a.t - b.t)
      .map((e) => `+${String(e.t).padStart(5)} ms  ${e.text}`),
    ...rows.map(
      (r) =>
        `row ${String(r.id)}: ${String(r.status)}${r.undo_failures ? ` undo_failures ${String(r.undo_failures)}` : ''}`,
    ),
    ...(ledger.asyncCharges ?? []).map(
      (a) =>
        `charge ${a.transactionId} of ${a.checkoutId}: ${a.method} ${a.status}, amount ${a.amount}, paid ${a.paidAmount}, refunded ${a.refunded}`,
    ),
  ];
  return { plan, report, harnessErrors, trace, stats, durationMs: performance.now() - started };
}

/** The QR code or barcode a 202 hands out, if it does. */
export function instructionsOf(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { payment?: { qr_code?: unknown; barcode?: unknown } | null };
    const code = body.payment?.qr_code ?? body.payment?.barcode;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function summary(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    return [body.status, body.error, body.reason, body.outcome]
      .filter((v) => v !== undefined && v !== null)
      .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))
      .join(' ');
  } catch {
    return text.slice(0, 80);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
