import { fromMinor } from './ledger.ts';
import { Draw, mixSeed } from './prng.ts';
import type { RequestTrigger } from './scenario-plan.ts';
import type { Forgery } from './webhooks.ts';

/**
 * A Pix or boleto scenario of the chaos run (design §4a): a few BRL checkouts paid by Pix or
 * boleto, each with a customer who pays (in time, late within the late window, late and told
 * late of a payment made in time, late past the window) or never, sometimes another amount,
 * and the faults of the payment service's webhooks. Drawn from the seed alone, like the card
 * scenarios (`scenario-plan.ts`).
 */

/** When the customer pays, if ever. */
export type Payer =
  /** Before the expiry: the checkout must complete. */
  | 'in_time'
  /** After the checkout expired, within PAYMENT_LATE_WINDOW_DAYS: deducted again, completed. */
  | 'late_window'
  /** Paid at the bank before the expiry (`paid_at` ≤ expires_at), cleared after it. */
  | 'late_told'
  /** Past the late window: refunded (Pix) or left to a person (boleto). */
  | 'late_past'
  | 'never';

/**
 * What happens to the payment service's webhooks for a checkout: delivered twice; out of order
 * (an older event after a newer one); lost (never delivered: the sweep must find the payment);
 * late (delivered only once the checkout's expiry passed: paid in time, told after it);
 * forged (a copy with a bad signature or a stale time goes first: 401, nothing changes);
 * racing a same-key retry; racing the expiry check (held until the expiry passed, then sent
 * while a recovery run's sweep finds the checkout due: it cancels, or finds it paid).
 */
export type WebhookFault =
  | 'duplicate'
  | 'out_of_order'
  | 'lost'
  | 'late'
  | 'forged'
  | 'races_retry'
  | 'races_sweep';
export const WEBHOOK_FAULTS: readonly WebhookFault[] = [
  'duplicate',
  'out_of_order',
  'lost',
  'late',
  'forged',
  'races_retry',
  'races_sweep',
];

/** The report's name of each webhook fault. */
export const WEBHOOK_FAULT_KIND: Record<WebhookFault, string> = {
  duplicate: 'webhook_duplicated',
  out_of_order: 'webhook_out_of_order',
  lost: 'webhook_lost',
  late: 'webhook_late',
  forged: 'webhook_forged',
  races_retry: 'webhook_races_retry',
  races_sweep: 'webhook_races_sweep',
};

export interface AsyncCheckoutPlan {
  index: number;
  email: string;
  /** Always keyed: a customer who lost the QR code asks again under the same key. */
  key: string;
  method: 'pix' | 'boleto';
  items: { productId: string; quantity: number; priceMinor: number }[];
  totalMinor: number;
  /** The payer's CPF, formatted (`529.982.247-25`): it must never reach a log line. */
  cpf: string;
  name: string;
  payer: Payer;
  /** Pays another amount than asked (rare): a person must look. */
  otherAmount: boolean;
  webhookFaults: WebhookFault[];
  forgery: Forgery;
  /** The first creation acts, then its connection resets (`creation_answer_lost`). */
  creationLost: boolean;
  /** The stock is gone when a late payment comes (the late deduction is refused). */
  lateStockGone: boolean;
  /**
   * How long after the app's expiry the service expires the charge itself: 0 (the service
   * first: the app's cancel finds it expired) or an hour (the app's expiry check cancels it).
   */
  serviceLagMs: number;
  /** `expires_in_minutes` (Pix) or `due_in_days` (boleto) sent, if any (else the defaults). */
  term: number | undefined;
  /** How far past its expiry time is moved, in seconds (always past the 120 s grace). */
  pastExpirySeconds: number;
  retry: 'none' | 'concurrent' | 'after_answer' | 'after_lease';
  faultRate: number;
  startMs: number;
  viaChild: boolean;
}

export interface AsyncScenarioPlan {
  kind: 'async';
  seed: number;
  checkouts: AsyncCheckoutPlan[];
  /** Unused by the flow (a Pix or boleto is neither): the child process's setting. */
  capture: { traffic: 'after_order'; child: 'after_order'; later: 'after_order' };
  kill: RequestTrigger | undefined;
  crash: { on: RequestTrigger; downMs: number } | undefined;
  recoveryRuns: 1 | 2;
}

/** Roughly a third of the scenarios pay by Pix or boleto. */
export const ASYNC_SHARE = 1 / 3;

/** Whether the scenario of `seed` is a Pix or boleto one (a stream of its own). */
export function isAsyncSeed(seed: number): boolean {
  return new Draw(mixSeed('scenario-async', seed)).chance(ASYNC_SHARE);
}

/** A valid CPF of its own: nine digits and the two check digits. */
export function newCpf(draw: Draw): string {
  let base = draw.digits(9);
  while (/^(\d)\1*$/.test(base)) base = draw.digits(9);
  const check = (digits: string) => {
    const sum = [...digits].reduce((s, d, i) => s + Number(d) * (digits.length + 1 - i), 0);
    const rest = (sum * 10) % 11;
    return rest === 10 ? 0 : rest;
  };
  const d1 = check(base);
  const d2 = check(base + d1);
  const all = `${base}${d1}${d2}`;
  return `${all.slice(0, 3)}.${all.slice(3, 6)}.${all.slice(6, 9)}-${all.slice(9)}`;
}

export function planAsyncScenario(
  seed: number,
  options: { runId: string; crashes: boolean; kills: boolean },
): AsyncScenarioPlan {
  const draw = new Draw(mixSeed('async-scenario', seed));
  const baseRate = draw.weighted([
    [0, 2],
    [0.1, 3],
    [0.25, 2],
  ] as const);
  const count = draw.int(1, 3);
  const checkouts: AsyncCheckoutPlan[] = [];
  for (let index = 0; index < count; index++) {
    const items = Array.from({ length: draw.int(1, 2) }, (_, k) => ({
      productId: `p${seed}-${index}-${k}`,
      quantity: draw.int(1, 3),
      priceMinor: draw.int(100, 50_000),
    }));
    const method = draw.chance(0.55) ? 'pix' : 'boleto';
    const payer = draw.weighted<Payer>([
      ['in_time', 5],
      ['late_window', 1.5],
      ['late_told', 1],
      ['late_past', 1],
      ['never', 2.5],
    ] as const);
    const faults = WEBHOOK_FAULTS.filter(() => draw.chance(0.2));
    // A payment past the late window is only looked at by its webhook (the sweep has stopped).
    const webhookFaults = payer === 'late_past' ? faults.filter((f) => f !== 'lost') : faults;
    checkouts.push({
      index,
      email: `chaos+${options.runId}s${seed}c${index}@example.com`,
      key: `chaos-${options.runId}-${seed}-${index}`,
      method,
      items,
      totalMinor: items.reduce((sum, i) => sum + i.quantity * i.priceMinor, 0),
      cpf: newCpf(draw),
      name: `Cliente ${draw.digits(4)} da Silva`,
      payer,
      otherAmount: payer !== 'never' && draw.chance(0.05),
      webhookFaults,
      forgery: draw.pick(['bad_secret', 'stale', 'unsigned'] as const),
      creationLost: draw.chance(0.15),
      lateStockGone: payer !== 'in_time' && payer !== 'never' && draw.chance(0.25),
      serviceLagMs: draw.chance(0.5) ? 0 : 3_600_000,
      pastExpirySeconds: draw.int(130, 900),
      term: draw.chance(0.5) ? undefined : method === 'pix' ? draw.int(5, 1440) : draw.int(1, 30),
      retry: draw.weighted([
        ['none', 3],
        ['concurrent', 1],
        ['after_answer', 1.5],
        ['after_lease', 2],
      ] as const),
      faultRate: baseRate * draw.pick([0.5, 1, 1.5]),
      startMs: draw.int(0, 30),
      viaChild: false,
    });
  }
  let kill: RequestTrigger | undefined;
  if (options.kills && draw.chance(0.15)) {
    const victim = draw.pick(checkouts);
    victim.viaChild = true;
    victim.startMs = 0;
    kill = {
      checkout: victim.index,
      endpoint: draw.pick(['deduct', victim.method, 'release'] as const),
      nth: 1,
      moment: draw.pick(['received', 'answered'] as const),
    };
  }
  let crash: AsyncScenarioPlan['crash'];
  if (options.crashes && draw.chance(0.3)) {
    const victim = draw.pick(checkouts);
    crash = {
      on: {
        checkout: victim.index,
        endpoint: draw.pick([victim.method, 'find_payments', 'cancel', 'order', 'deduct'] as const),
        nth: 1,
        moment: draw.pick(['received', 'answered'] as const),
      },
      downMs: draw.int(0, 300),
    };
  }
  return {
    kind: 'async',
    seed,
    checkouts,
    capture: { traffic: 'after_order', child: 'after_order', later: 'after_order' },
    kill,
    crash,
    recoveryRuns: draw.chance(0.5) ? 2 : 1,
  };
}

/** The `POST /checkout/process` body of a Pix or boleto checkout (prices as the catalog's). */
export function asyncRequestBody(c: AsyncCheckoutPlan) {
  return {
    payment_method:
      c.method === 'pix'
        ? { type: 'pix', ...(c.term === undefined ? {} : { expires_in_minutes: c.term }) }
        : { type: 'boleto', ...(c.term === undefined ? {} : { due_in_days: c.term }) },
    customer_email: c.email,
    customer_document: c.cpf,
    ...(c.method === 'boleto' ? { customer_name: c.name } : {}),
    shipping_address: {
      street: 'Rua do Caos',
      number: String(c.index + 1),
      ...(c.method === 'boleto' ? { neighborhood: 'Centro' } : {}),
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: c.items.map((i) => ({
      product_id: i.productId,
      quantity: i.quantity,
      price: fromMinor(i.priceMinor, 'BRL'),
    })),
    currency: 'BRL',
  };
}

/** The plan in a few lines, for a trace. */
export function describeAsyncPlan(plan: AsyncScenarioPlan): string[] {
  const lines = plan.checkouts.map(
    (c) =>
      `c${c.index}: ${c.method}${c.term === undefined ? '' : ` (${c.method === 'pix' ? 'expires in' : 'due in'} ${c.term} ${c.method === 'pix' ? 'min' : 'days'})`} BRL ${c.totalMinor} minor, key ${c.key}, payer ${c.payer}` +
      `${c.otherAmount ? ' (another amount)' : ''}, webhooks [${c.webhookFaults.join(', ')}]` +
      `${c.webhookFaults.includes('forged') ? ` forged ${c.forgery}` : ''}` +
      `${c.creationLost ? ', creation answer lost' : ''}${c.lateStockGone ? ', stock gone when paid late' : ''}` +
      `, service expires ${c.serviceLagMs ? 'an hour after' : 'with'} the app, time moved ${c.pastExpirySeconds} s past expiry` +
      `, retry ${c.retry}, fault rate ${c.faultRate.toFixed(2)}${c.viaChild ? ', in a child process' : ''}`,
  );
  const trigger = (t: RequestTrigger) => `c${t.checkout} ${t.endpoint} #${t.nth} ${t.moment}`;
  if (plan.kill) lines.push(`kill: SIGKILL the child at ${trigger(plan.kill)}`);
  if (plan.crash)
    lines.push(`db crash: at ${trigger(plan.crash.on)}, down ${plan.crash.downMs} ms`);
  lines.push(`recovery runs racing after the traffic: ${plan.recoveryRuns}`);
  return lines;
}
