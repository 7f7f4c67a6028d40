import { isLuhnValid } from '#lib/checkout/card.ts';
import type { Endpoint, PaymentFlow } from './fault-schedule.ts';
import { fromMinor, type ItemQuantity } from './ledger.ts';
import { Draw, mixSeed } from './prng.ts';
import type { HookMoment } from './simulator.ts';

/**
 * What the client does with the same Idempotency-Key: nothing more, a second request while the
 * first runs, one right after the answer, or one once the lease has expired (it resumes).
 */
export type RetryPlan = 'none' | 'concurrent' | 'after_answer' | 'after_lease';

/**
 * What the client says of prices (design §2, `PRICING=catalog`): `seen`, the price the customer
 * saw for most items (the catalog's); `omitted`, no price at all; `stale`, one item at a price
 * the catalog no longer holds (409 `price_changed`, after which the client sends the current
 * prices under the same key); `unknown`, one more product the catalog does not know (422
 * `unknown_product`).
 */
export type PricingPlan = 'seen' | 'omitted' | 'stale' | 'unknown';

/** An item of the cart: the catalog's unit price (none: it does not know the product), and the price sent. */
export interface CartLine extends ItemQuantity {
  priceMinor: number | undefined;
  /** The price the customer saw, sent with the item; absent: not sent. */
  sentMinor?: number;
}

export interface CheckoutPlan {
  index: number;
  email: string;
  key: string | undefined;
  currency: string;
  items: CartLine[];
  /** The catalog's total for the cart when the scenario starts (its known products). */
  totalMinor: number;
  pricing: PricingPlan;
  /**
   * The catalog's new unit price for a product of the cart, set once the traffic is over and
   * before the lease-expired retry: a checkout recorded by then keeps its stored prices.
   * `resumedByRetry`: the first requests' charges get a 503 (the payment service does nothing),
   * so the checkout is left unfinished, and that retry goes before the recovery runs: it
   * resumes the checkout and charges it after the change, at the stored prices.
   */
  priceChange: { productId: string; priceMinor: number; resumedByRetry: boolean } | undefined;
  /**
   * The catalog is down (every quote a 503) for this checkout's first request(s), or for its
   * lease-expired retry: a retry after an outage, or a retry during one (design §2: the key's
   * holder answers first).
   */
  catalogOutage: 'first_request' | 'lease_retry' | undefined;
  card: { number: string; expiry: string; cvv: string };
  /**
   * How the request pays: the raw card, or a token of the payment service's SDK (`token`),
   * which only an authorization takes (a scenario uses tokens only when every setting of
   * `PAYMENT_CAPTURE` it runs under is `after_order`).
   */
  paymentMethod: 'credit_card' | 'card_token';
  token: string;
  /** Delay before the first request, so the checkouts interleave differently. */
  startMs: number;
  retry: RetryPlan;
  /** Runs in a child process (the one the scenario may kill). */
  viaChild: boolean;
  /** This checkout's fault probability per request. */
  faultRate: number;
  /**
   * `external_undo`: if the checkout is stuck (not final) at that moment, an operator refunds
   * its charge and/or releases its stock in a console (the runbook for a stuck checkout):
   * between the traffic and the lease-expired retries, or after a quiescence round.
   */
  outsideUndo: OutsideUndoPlan | undefined;
  /**
   * `lookups_keep_failing`: its lookups keep failing through this quiescence round (0: they
   * do not), sometimes past RECOVERY_MAX_ATTEMPTS, so recovery gives up and asks for attention.
   */
  lookupsFailRounds: number;
}

export interface OutsideUndoPlan {
  /** `before_retries`, or after quiescence round n. */
  at: 'before_retries' | number;
  refund: boolean;
  release: boolean;
}

/** A request of one checkout, seen by the simulator, that sets something off. */
export interface RequestTrigger {
  checkout: number;
  endpoint: Endpoint;
  nth: number;
  moment: HookMoment;
}

/**
 * The `PAYMENT_CAPTURE` setting of each process of a scenario. A checkout follows the flow stored
 * on its row when it was recorded, never the setting of the process that resumes it: a scenario
 * that changes the setting between the traffic and the lease-expired retries (or runs the child
 * process under the other one) checks that changing it with checkouts open loses nothing.
 */
export interface CapturePlan {
  /** The app's setting during the traffic: the first requests and their same-key retries. */
  traffic: PaymentFlow;
  /** The child process's setting (the checkout that may be killed): sometimes the other one. */
  child: PaymentFlow;
  /**
   * The app's setting from the lease-expired retries on: those retries (which may record a
   * checkout the traffic did not), the recovery runs, the quiescence rounds, the last replays.
   */
  later: PaymentFlow;
}

export interface ScenarioPlan {
  seed: number;
  checkouts: CheckoutPlan[];
  capture: CapturePlan;
  /** SIGKILL of the child process when the simulator sees this request. */
  kill: RequestTrigger | undefined;
  /** `pg_ctl stop -m immediate` on this request, or right after this checkout's 200. */
  crash: { on: RequestTrigger | { checkout: number; after200: true }; downMs: number } | undefined;
  /** How many recovery runs race (with the lease-expired retries) once the traffic is over. */
  recoveryRuns: 1 | 2;
}

const CURRENCIES = [
  ['BRL', 4],
  ['USD', 2],
  ['EUR', 1],
  ['JPY', 1],
  ['KWD', 1],
] as const;

/**
 * Draws a scenario from its seed (and the run's id, which only tags emails and keys).
 * `maxAttempts` is the app's RECOVERY_MAX_ATTEMPTS, which lookups that keep failing sometimes
 * outlast.
 */
export function planScenario(
  seed: number,
  options: { runId: string; crashes: boolean; kills: boolean; maxAttempts: number },
): ScenarioPlan {
  const draw = new Draw(mixSeed('scenario', seed));
  const baseRate = draw.weighted([
    [0, 1],
    [0.1, 2],
    [0.25, 3],
    [0.45, 2],
  ] as const);
  const count = draw.int(2, 5);
  const checkouts: CheckoutPlan[] = [];
  for (let index = 0; index < count; index++) {
    const currency = draw.weighted(CURRENCIES);
    const items = Array.from({ length: draw.int(1, 3) }, (_, k) => ({
      productId: `p${seed}-${index}-${k}`,
      quantity: draw.int(1, 3),
      priceMinor: draw.int(100, 50_000),
    }));
    const keyed = draw.chance(0.85);
    checkouts.push({
      index,
      email: `chaos+${options.runId}s${seed}c${index}@example.com`,
      key: keyed ? `chaos-${options.runId}-${seed}-${index}` : undefined,
      currency,
      items,
      totalMinor: items.reduce((sum, i) => sum + i.quantity * i.priceMinor, 0),
      card: newCard(draw),
      paymentMethod: 'credit_card',
      token: '',
      startMs: draw.int(0, 40),
      retry: keyed
        ? draw.weighted([
            ['none', 3],
            ['concurrent', 1],
            ['after_answer', 1],
            ['after_lease', 3],
          ] as const)
        : 'none',
      viaChild: false,
      faultRate: Math.min(0.7, baseRate * draw.pick([0.5, 1, 1, 1.5])),
      outsideUndo: undefined,
      lookupsFailRounds: 0,
      pricing: 'seen',
      priceChange: undefined,
      catalogOutage: undefined,
    });
  }
  planPricing(seed, checkouts);
  // From a stream of their own, so these draws leave the rest of a seed's scenario as it was.
  const operator = new Draw(mixSeed('scenario-operator', seed));
  for (const c of checkouts) {
    if (operator.chance(0.3)) {
      const what = operator.weighted([
        ['refund', 3],
        ['both', 2],
        ['release', 1],
      ] as const);
      c.outsideUndo = {
        at: operator.weighted<OutsideUndoPlan['at']>([
          ['before_retries', 3],
          [1, 1],
          [2, 1],
          [3, 0.5],
        ] as const),
        refund: what !== 'release',
        release: what !== 'refund',
      };
    }
    const n = options.maxAttempts;
    if (operator.chance(0.2)) {
      c.lookupsFailRounds = operator.pick([1, 2, n - 1, n + 1, n + 3].filter((r) => r >= 1));
    }
    // A checkout still stuck after a quiescence round is one whose lookups keep failing (faults
    // are off): the one an operator gets paged for and undoes in the console meanwhile.
    const round = c.outsideUndo?.at;
    if (typeof round === 'number' && c.lookupsFailRounds < round) {
      c.lookupsFailRounds = operator.pick([round, round + 1, n + 1]);
    }
  }
  let kill: RequestTrigger | undefined;
  if (options.kills && draw.chance(0.2)) {
    const victim = draw.pick(checkouts);
    victim.viaChild = true;
    victim.startMs = 0;
    kill = {
      checkout: victim.index,
      endpoint: draw.weighted([
        ['charge', 3],
        ['deduct', 3],
        ['order', 2],
        ['refund', 0.5],
      ] as const),
      nth: draw.weighted([
        [1, 4],
        [2, 1],
      ] as const),
      moment: draw.pick(['received', 'answered'] as const),
    };
  }
  let crash: ScenarioPlan['crash'];
  if (options.crashes && draw.chance(0.4)) {
    const checkout = draw.int(0, count - 1);
    crash = {
      on: draw.chance(0.4)
        ? { checkout, after200: true }
        : {
            checkout,
            endpoint: draw.pick(['charge', 'deduct', 'order', 'refund', 'find_payments'] as const),
            nth: 1,
            moment: draw.pick(['received', 'answered'] as const),
          },
      downMs: draw.int(0, 300),
    };
  }
  const plan: Omit<ScenarioPlan, 'capture'> = {
    seed,
    checkouts,
    kill,
    crash,
    recoveryRuns: draw.chance(0.6) ? 2 : 1,
  };
  const capture = planPayment(seed, plan); // moves the kill and crash triggers to its flows
  return { ...plan, capture };
}

/** The flows' share: `after_order` (the default) in most scenarios, `immediate` in the rest. */
const AFTER_ORDER_SHARE = 0.7;

/**
 * The `PAYMENT_CAPTURE` settings of a scenario and how its requests pay, drawn from a stream of
 * their own (the rest of a seed's scenario stays as it was): the traffic's setting (70 %
 * `after_order`), the other one from the lease-expired retries on in a quarter of the scenarios,
 * and for the child process in 30 % of those with one. Tokens (40 % of the scenarios that run
 * under `after_order` alone) stand for the card. The kill and crash triggers drawn on the one-shot
 * flow's steps are moved to the same steps of the flow they meet (`charge` → `authorize`,
 * `refund` → `void`, and some `order`s → `capture`).
 */
function planPayment(seed: number, plan: Omit<ScenarioPlan, 'capture'>): CapturePlan {
  const pay = new Draw(mixSeed('scenario-payment', seed));
  const traffic: PaymentFlow = pay.chance(AFTER_ORDER_SHARE) ? 'after_order' : 'immediate';
  const other: PaymentFlow = traffic === 'after_order' ? 'immediate' : 'after_order';
  const later = pay.chance(0.25) ? other : traffic;
  const childOther = pay.chance(0.3);
  const child = plan.kill && childOther ? other : traffic;
  const tokens = traffic === 'after_order' && later === 'after_order' && child === 'after_order';
  const method = tokens && pay.chance(0.4) ? 'card_token' : 'credit_card';
  for (const c of plan.checkouts) {
    c.paymentMethod = method;
    c.token = `tok_${pay.digits(8)}${c.index}`;
  }
  const toCapture = pay.chance(0.4);
  const moved = (t: RequestTrigger, flow: PaymentFlow): RequestTrigger => {
    if (flow !== 'after_order') return t;
    const endpoint = {
      charge: 'authorize',
      refund: 'void',
      order: toCapture ? 'capture' : 'order',
    }[t.endpoint as string] as Endpoint | undefined;
    return endpoint ? { ...t, endpoint } : t;
  };
  const flowOf = (checkout: number) => (plan.checkouts[checkout]?.viaChild ? child : traffic);
  if (plan.kill) plan.kill = moved(plan.kill, child);
  const on = plan.crash?.on;
  if (plan.crash && on && 'endpoint' in on) {
    plan.crash.on = moved(on, flowOf(on.checkout));
  }
  return { traffic, child, later };
}

/**
 * What each client says of prices, drawn from a stream of its own (the rest of a seed's
 * scenario stays as it was): prices seen or omitted, a stale price, a product the catalog does
 * not know; and for some checkouts retried after the lease, a price the catalog changes before
 * that retry, and a catalog outage at their first request or at that retry.
 */
function planPricing(seed: number, checkouts: CheckoutPlan[]) {
  const pricing = new Draw(mixSeed('scenario-pricing', seed));
  for (const c of checkouts) {
    c.pricing = pricing.weighted([
      ['seen', 5],
      ['omitted', 3],
      ['stale', 1.2],
      ['unknown', 0.8],
    ] as const);
    const seen = c.pricing !== 'omitted';
    for (const item of c.items) {
      if (seen && item.priceMinor !== undefined && pricing.chance(0.9)) {
        item.sentMinor = item.priceMinor;
      }
    }
    const victim = pricing.pick(c.items);
    if (c.pricing === 'stale' && victim.priceMinor !== undefined) {
      victim.sentMinor = otherPrice(pricing, victim.priceMinor, 0.7);
    }
    if (c.pricing === 'unknown') {
      c.items.splice(pricing.int(0, c.items.length), 0, {
        productId: `p${seed}-${c.index}-unknown`,
        quantity: pricing.int(1, 3),
        priceMinor: undefined,
        ...(seen && pricing.chance(0.5) ? { sentMinor: pricing.int(100, 50_000) } : {}),
      });
    }
    if (c.key === undefined || c.retry !== 'after_lease') continue;
    if ((c.pricing === 'seen' || c.pricing === 'omitted') && pricing.chance(0.4)) {
      const item = pricing.pick(c.items);
      if (item.priceMinor !== undefined) {
        c.priceChange = {
          productId: item.productId,
          priceMinor: otherPrice(pricing, item.priceMinor, 0.5),
          resumedByRetry: pricing.chance(0.5),
        };
      }
    }
    c.catalogOutage = pricing.weighted([
      [undefined, 6],
      ['first_request', 2],
      ['lease_retry', 2],
    ] as const);
  }
}

/** A valid price other than `minor`: cheaper with probability `cheaper`, else dearer. */
function otherPrice(draw: Draw, minor: number, cheaper: number): number {
  if (minor > 1 && draw.chance(cheaper)) return minor - draw.int(1, minor - 1);
  return minor + draw.int(1, 5_000);
}

/** The prices a planned checkout's client sends first: the price it saw of each item, if any. */
export function sentPrices(c: CheckoutPlan): Map<string, number> {
  return new Map(
    c.items.flatMap((i) => (i.sentMinor === undefined ? [] : [[i.productId, i.sentMinor]])),
  );
}

/** The catalog's unit prices of a planned checkout's products, as the scenario starts. */
export function catalogPrices(c: CheckoutPlan): Record<string, number> {
  return Object.fromEntries(
    c.items.flatMap((i) => (i.priceMinor === undefined ? [] : [[i.productId, i.priceMinor]])),
  );
}

/**
 * The `POST /checkout/process` body of a planned checkout, with the prices its client sends
 * (by default, the ones it saw first).
 */
export function requestBody(c: CheckoutPlan, sent: ReadonlyMap<string, number> = sentPrices(c)) {
  return {
    payment_method:
      c.paymentMethod === 'card_token'
        ? { type: 'card_token', token: c.token }
        : {
            type: 'credit_card',
            card_number: c.card.number,
            card_expiry: c.card.expiry,
            card_cvv: c.card.cvv,
          },
    customer_email: c.email,
    shipping_address: {
      street: 'Rua do Caos',
      number: String(c.index + 1),
      city: 'São Paulo',
      state: 'SP',
      zip_code: '01234-567',
    },
    items: c.items.map((i) => {
      const price = sent.get(i.productId);
      return {
        product_id: i.productId,
        quantity: i.quantity,
        ...(price === undefined ? {} : { price: fromMinor(price, c.currency) }),
      };
    }),
    currency: c.currency,
  };
}

/** The plan in a few lines, for a trace. */
export function describePlan(plan: ScenarioPlan): string[] {
  const trigger = (t: RequestTrigger) => `c${t.checkout} ${t.endpoint} #${t.nth} ${t.moment}`;
  const lines = plan.checkouts.map(
    (c) =>
      `c${c.index}: ${c.currency} ${c.totalMinor} minor, ${c.items.length} item(s), key ${c.key ?? 'none'}, ` +
      `retry ${c.retry}, fault rate ${c.faultRate.toFixed(2)}, start +${c.startMs} ms${c.viaChild ? ', in a child process' : ''}` +
      (c.outsideUndo
        ? `, if stuck ${[c.outsideUndo.refund ? 'refunded' : '', c.outsideUndo.release ? 'released' : ''].filter(Boolean).join(' and ')} by an operator ${c.outsideUndo.at === 'before_retries' ? 'before the retries' : `after quiescence round ${c.outsideUndo.at}`}`
        : '') +
      (c.lookupsFailRounds > 0
        ? `, lookups keep failing through quiescence round ${c.lookupsFailRounds}`
        : '') +
      `; ${describePricing(c)}`,
  );
  if (plan.kill) lines.push(`kill: SIGKILL the child at ${trigger(plan.kill)}`);
  if (plan.crash) {
    const on = plan.crash.on;
    lines.push(
      `db crash: ${'after200' in on ? `right after c${on.checkout}'s 200` : `at ${trigger(on)}`}, down ${plan.crash.downMs} ms`,
    );
  }
  lines.push(`recovery runs racing after the traffic: ${plan.recoveryRuns}`);
  lines.push(describeCapture(plan));
  return lines;
}

/** The scenario's `PAYMENT_CAPTURE` settings and payment method, in a line. */
export function describeCapture(plan: ScenarioPlan): string {
  const { traffic, child, later } = plan.capture;
  const victim = plan.checkouts.some((c) => c.viaChild);
  const method = plan.checkouts[0]?.paymentMethod ?? 'credit_card';
  return (
    `PAYMENT_CAPTURE ${traffic} for the traffic` +
    (victim ? `, ${child} in the child process` : '') +
    (later === traffic
      ? ', unchanged after it'
      : `, then ${later} from the lease-expired retries on (recovery included)`) +
    `; payment by ${method}`
  );
}

/** What a checkout's client sends of prices and what the catalog does, in a few words. */
function describePricing(c: CheckoutPlan): string {
  const items = c.items.map((i) => {
    const sent = i.sentMinor === undefined ? 'not sent' : `sent ${i.sentMinor}`;
    const catalog =
      i.priceMinor === undefined ? 'unknown to the catalog' : `catalog ${i.priceMinor}`;
    return `${i.productId} ×${i.quantity} ${catalog}, ${sent}`;
  });
  const change = c.priceChange
    ? `; the catalog prices ${c.priceChange.productId} at ${c.priceChange.priceMinor} before the lease retry${c.priceChange.resumedByRetry ? ', its first charges failing so that the retry (before recovery) resumes it' : ''}`
    : '';
  const outage = c.catalogOutage
    ? `; the catalog is down for its ${c.catalogOutage.replace('_', ' ')}`
    : '';
  return `prices ${c.pricing}: ${items.join('; ')}${change}${outage}`;
}

/** A Luhn-valid 16-digit card of its own, and a 4-digit CVV that is not its last four digits. */
function newCard(draw: Draw): CheckoutPlan['card'] {
  const body = `4${draw.digits(14)}`;
  const check = [...'0123456789'].find((d) => isLuhnValid(body + d)) ?? '0';
  const number = body + check;
  let cvv = draw.digits(4);
  while (cvv === number.slice(-4) || cvv.startsWith('0')) cvv = draw.digits(4);
  const year = draw.int(30, 35);
  return { number, expiry: `${String(draw.int(1, 12)).padStart(2, '0')}/${year}`, cvv };
}
