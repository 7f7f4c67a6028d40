import { Draw, mixSeed } from './prng.ts';

/** Every endpoint of the simulated services (design §3). */
export type Endpoint =
  | 'charge'
  | 'authorize'
  | 'capture'
  | 'void'
  | 'refund'
  | 'deduct'
  | 'release'
  | 'order'
  | 'find_payments'
  | 'find_deductions'
  | 'find_orders'
  | 'quote'
  /** A Pix issued (`POST /payments/pix`), a boleto issued, an unpaid one cancelled. */
  | 'pix'
  | 'boleto'
  | 'cancel';

export type Service = 'payment' | 'inventory' | 'order';

/**
 * The app's clients, each with its own per-try timeout: one per service, and the catalog's
 * (`CATALOG_TIMEOUT_MS`), which asks the inventory service for quotes.
 */
export type Client = Service | 'catalog';

export const SERVICE_OF: Record<Endpoint, Service> = {
  charge: 'payment',
  authorize: 'payment',
  capture: 'payment',
  void: 'payment',
  refund: 'payment',
  find_payments: 'payment',
  deduct: 'inventory',
  release: 'inventory',
  find_deductions: 'inventory',
  order: 'order',
  find_orders: 'order',
  // The catalog's default address is the inventory service's (design §3).
  quote: 'inventory',
  pix: 'payment',
  boleto: 'payment',
  cancel: 'payment',
};

/** The client that makes each request, whose timeout a delay outlasts. */
export function clientOf(endpoint: Endpoint): Client {
  return endpoint === 'quote' ? 'catalog' : SERVICE_OF[endpoint];
}

export const FORWARD: readonly Endpoint[] = [
  'charge',
  'authorize',
  'deduct',
  'order',
  'capture',
  'pix',
  'boleto',
];
export const UNDO: readonly Endpoint[] = ['refund', 'void', 'release', 'cancel'];

/**
 * How the payment is taken (`PAYMENT_CAPTURE`): `after_order` authorizes, then captures once
 * the order exists (an undo before it voids); `immediate` charges at once (an undo refunds).
 */
export type PaymentFlow = 'after_order' | 'immediate';
export const PAYMENT_FLOWS: readonly PaymentFlow[] = ['after_order', 'immediate'];

/**
 * The step each acting endpoint's `Idempotency-Key` names: `<checkout_id>:<step>` (design §3).
 * A request under any other key is noted by the simulator (`keyMisuses`).
 */
export const KEY_STEP: Partial<Record<Endpoint, string>> = {
  charge: 'charge',
  authorize: 'authorize',
  capture: 'capture',
  void: 'void',
  refund: 'refund',
  deduct: 'deduct',
  release: 'release',
  order: 'order',
  pix: 'pix',
  boleto: 'boleto',
  cancel: 'cancel',
};

/**
 * The steps that also run a second time after a Pix or boleto expired and was paid late (design
 * §4a): the stock deducted again (`deduct_late`), that deduction undone (`release_late`), the
 * late payment refunded (`refund_late`). Their keys may carry the `_late` suffix.
 */
export const LATE_ROUND: readonly Endpoint[] = ['deduct', 'release', 'refund'];
export const LOOKUP: readonly Endpoint[] = ['find_payments', 'find_deductions', 'find_orders'];

export const SERVICES: readonly Service[] = ['payment', 'inventory', 'order'];

export type FaultKind =
  | 'refusal'
  | '5xx_before'
  | '5xx_after'
  | 'delay'
  | 'reset_before'
  | 'reset_after'
  | 'garbled'
  | 'duplicate_answer'
  | 'unreachable'
  | 'misquote'
  | 'authorization_expired';

export type Fault =
  /** The service says no (a decline, out of stock, a rejected address or undo). */
  | { kind: 'refusal'; reason: string }
  /** A 5xx answer; `_before`: nothing was done, `_after`: the service acted. */
  | { kind: '5xx_before' | '5xx_after'; status: 500 | 502 | 503 | 504 }
  /** The service holds the request past the client's timeout, then acts. */
  | { kind: 'delay'; ms: number }
  /** The connection is destroyed before or after acting. */
  | { kind: 'reset_before' | 'reset_after' }
  /** A 2xx with a body that is not the answer, after acting. */
  | { kind: 'garbled'; body: string }
  /**
   * The service acts and answers, then writes the same answer a second time on the kept-alive
   * connection: the copy is what the next request sent on that socket reads (design §8).
   */
  | { kind: 'duplicate_answer' }
  /**
   * The service acts and answers; then `service` refuses every connection for `ms` (it stops
   * listening on both addresses of its name). Requests already in flight are unaffected.
   */
  | { kind: 'unreachable'; service: Service; ms: number }
  /**
   * A catalog quote answered 200 in good JSON that does not fit the cart (design §3): in
   * another currency, an item left out, a price that is zero, negative or finer than the
   * currency's minor unit, or a 404 `unknown_product` naming a product of no cart. The app
   * must answer `pricing_unavailable`, never charge on it.
   */
  | { kind: 'misquote'; how: Misquote }
  /**
   * A capture meets an authorization that expired before it (the issuer let it lapse): the
   * capture, and every capture after it, is refused with 422 `authorization_expired`. The
   * authorization is not captured (its lookup still says `authorized`, as nothing was taken);
   * the order exists, so the checkout must end `requires_attention` (`capture_payment`).
   */
  | { kind: 'authorization_expired' };

export type Misquote =
  | 'other_currency'
  | 'item_left_out'
  | 'zero_price'
  | 'negative_price'
  | 'too_precise'
  | 'unknown_elsewhere';
export const MISQUOTES: readonly Misquote[] = [
  'other_currency',
  'item_left_out',
  'zero_price',
  'negative_price',
  'too_precise',
  'unknown_elsewhere',
];

/**
 * Marks a lookup fault of the `lookups_keep_failing` kind: one that stays on for a checkout
 * into the quiescence rounds, when every other fault is off; or a quote's fault of the
 * `catalog_outage` kind: the catalog down for one planned request of a checkout. Counted under
 * that kind.
 */
export type KeptFault = Fault & { kept?: true; outage?: true; lost?: true };

/** What the simulator knows of a request when it asks for a fault. */
export interface RequestContext {
  endpoint: Endpoint;
  checkoutId: string | undefined;
  /** The customer email of the checkout, once the simulator has seen it. */
  email: string | undefined;
  /** 1 for the first request of this checkout at this endpoint, 2 for the next, ... */
  nth: number;
}

export type FaultDecider = (request: RequestContext) => KeptFault | null;

const REFUSALS: Record<Endpoint, readonly string[]> = {
  charge: ['insufficient_funds', 'card_declined'],
  authorize: ['insufficient_funds', 'card_declined'],
  capture: ['capture_rejected'],
  void: ['void_rejected'],
  deduct: ['out_of_stock'],
  order: ['invalid_address'],
  refund: ['refund_rejected'],
  release: ['release_rejected'],
  find_payments: [],
  find_deductions: [],
  find_orders: [],
  quote: [],
  pix: ['pix_rejected'],
  boleto: ['boleto_rejected'],
  cancel: ['cancel_rejected'],
};

const GARBLED = [
  '{"status":"success","transactionId":',
  '<html><body>OK</body></html>',
  '{}',
  'null',
  '{"success":"yes"}',
];

const FORWARD_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['refusal', 2],
  ['5xx_before', 2],
  ['5xx_after', 2],
  ['delay', 1.5],
  ['reset_before', 1],
  ['reset_after', 1.5],
  ['garbled', 1],
  ['duplicate_answer', 1],
  ['unreachable', 0.8],
];
/** A capture meets a forward step's faults, and an authorization that expired before it. */
const CAPTURE_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ...FORWARD_WEIGHTS,
  ['authorization_expired', 0.8],
];
const UNDO_WEIGHTS = FORWARD_WEIGHTS.map(
  ([kind, w]) => [kind, kind === 'refusal' ? 0.3 : w] as const,
);
const LOOKUP_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['5xx_before', 2],
  ['delay', 1],
  ['reset_before', 1],
  ['garbled', 1],
  ['duplicate_answer', 0.6],
  ['unreachable', 0.4],
];
/**
 * What a catalog quote meets: a read's faults (nothing to act on, so none "after"), and answers
 * that are whole but do not fit the cart. Drawn at half the checkout's rate: a quote that fails
 * twice ends the request (503 `pricing_unavailable`), and most checkouts should get to the saga.
 */
const QUOTE_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['5xx_before', 2],
  ['delay', 1],
  ['reset_before', 1],
  ['garbled', 1],
  ['misquote', 1.5],
  ['duplicate_answer', 0.6],
  ['unreachable', 0.4],
];
const QUOTE_RATE = 0.5;

/** What a lookup that keeps failing meets, round after round (a delay costs a whole timeout). */
const KEPT_LOOKUP_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['5xx_before', 3],
  ['reset_before', 1],
  ['garbled', 1],
  ['delay', 0.3],
];

export interface FaultPlan {
  /** Seed of the scenario: the fault of a request depends on it and on the request only. */
  seed: number;
  /** Fault probability per request, by checkout (the index in the scenario). */
  rateOf(checkoutIndex: number | undefined): number;
  /** Maps a request's email to the checkout's index in the scenario. */
  indexOf(email: string | undefined): number | undefined;
  /** The per-try timeout of each client (a delay fault waits past it). */
  timeoutMs: Record<Client, number>;
}

/**
 * The fault of each request, drawn from the scenario's seed, the checkout's index, the endpoint
 * and how many requests of that checkout the endpoint has seen, so the n-th charge of checkout 2
 * gets the same fault on every replay of the seed, whatever the timing of the others.
 */
export function scheduledFaults(plan: FaultPlan): FaultDecider {
  return ({ endpoint, email, nth }) => {
    const index = plan.indexOf(email);
    const draw = new Draw(mixSeed(plan.seed, index ?? 'unknown', endpoint, nth));
    const rate = plan.rateOf(index) * (endpoint === 'quote' ? QUOTE_RATE : 1);
    if (!draw.chance(rate)) return null;
    const weights =
      endpoint === 'quote'
        ? QUOTE_WEIGHTS
        : LOOKUP.includes(endpoint)
          ? LOOKUP_WEIGHTS
          : UNDO.includes(endpoint)
            ? UNDO_WEIGHTS
            : endpoint === 'capture'
              ? CAPTURE_WEIGHTS
              : FORWARD_WEIGHTS;
    return drawFault(draw, draw.weighted(weights), endpoint, plan.timeoutMs);
  };
}

/** Which checkouts' lookups keep failing, and the quiescence round the harness is in. */
export interface KeptFailingPlan {
  seed: number;
  /** The checkout's index in the scenario, from a request's email. */
  indexOf(email: string | undefined): number | undefined;
  /** Through which quiescence round a checkout's lookups keep failing (0: they do not). */
  roundsOf(checkoutIndex: number): number;
  /** The quiescence round now running (1, 2, ...). */
  round(): number;
  timeoutMs: Record<Client, number>;
}

/**
 * The faults of the quiescence rounds: none, except that the lookups of some checkouts keep
 * failing through a given round (`lookups_keep_failing`). Drawn like `scheduledFaults`, from the
 * seed, the checkout, the endpoint and the request's rank, so a replay fails the same lookups.
 */
export function keptFailingLookups(plan: KeptFailingPlan): FaultDecider {
  return ({ endpoint, email, nth }) => {
    if (!LOOKUP.includes(endpoint)) return null;
    const index = plan.indexOf(email);
    if (index === undefined || plan.round() > plan.roundsOf(index)) return null;
    const draw = new Draw(mixSeed(plan.seed, 'kept', index, endpoint, nth));
    const fault = drawFault(draw, draw.weighted(KEPT_LOOKUP_WEIGHTS), endpoint, plan.timeoutMs);
    return { ...fault, kept: true };
  };
}

function drawFault(
  draw: Draw,
  kind: FaultKind,
  endpoint: Endpoint,
  timeoutMs: Record<Client, number>,
): Fault {
  switch (kind) {
    case 'refusal':
      return { kind, reason: draw.pick(REFUSALS[endpoint]) };
    case '5xx_before':
    case '5xx_after':
      return { kind, status: draw.pick([500, 502, 503, 504] as const) };
    case 'delay':
      return { kind, ms: timeoutMs[clientOf(endpoint)] + draw.int(30, 150) };
    case 'garbled':
      return { kind, body: draw.pick(GARBLED) };
    case 'unreachable':
      // Long enough, often, to outlast a step's tries (connection refused is instant), and
      // sometimes the recovery runs that follow.
      return { kind, service: draw.pick(SERVICES), ms: draw.pick([60, 150, 400, 900]) };
    case 'misquote':
      return { kind, how: draw.pick(MISQUOTES) };
    default:
      return { kind };
  }
}

/**
 * Faults the scenario planned for a checkout's requests at a given moment (the catalog down for
 * a checkout's first request or its retry, a payment that must wait for its retry) before the
 * ones drawn per request: `planned` answers for a checkout and an endpoint, at the moment it
 * is asked; other requests get `faults`' fault.
 */
export function withPlannedFaults(
  faults: FaultDecider,
  plan: {
    indexOf(email: string | undefined): number | undefined;
    planned(checkoutIndex: number, endpoint: Endpoint): KeptFault | null;
  },
): FaultDecider {
  return (request) => {
    const index = plan.indexOf(request.email);
    return (index === undefined ? null : plan.planned(index, request.endpoint)) ?? faults(request);
  };
}

/** The catalog down for a request: every quote a 503 (counted as `catalog_outage`). */
export const CATALOG_DOWN: KeptFault = { kind: '5xx_before', status: 503, outage: true };

/** The kind a fault is counted under in the report. */
export function countedKind(fault: KeptFault): string {
  if (fault.outage) return 'catalog_outage';
  if (fault.lost) return 'creation_answer_lost';
  return fault.kept ? 'lookups_keep_failing' : fault.kind;
}

/** A fault in a few words, for traces. */
export function describeFault(fault: KeptFault | null): string {
  if (!fault) return '';
  const { kept, outage, lost, ...plain } = fault;
  if (kept) return `kept:${describeFault(plain as Fault)}`;
  if (lost) return `creation answer lost:${describeFault(plain as Fault)}`;
  if (outage) return `catalog outage:${describeFault(plain as Fault)}`;
  switch (fault.kind) {
    case 'refusal':
      return `refusal(${fault.reason})`;
    case '5xx_before':
    case '5xx_after':
      return `${fault.kind}(${fault.status})`;
    case 'delay':
      return `delay(${fault.ms}ms)`;
    case 'unreachable':
      return `unreachable(${fault.service} ${fault.ms}ms)`;
    case 'misquote':
      return `misquote(${fault.how})`;
    default:
      return fault.kind;
  }
}
