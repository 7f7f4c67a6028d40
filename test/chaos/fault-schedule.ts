import { Draw, mixSeed } from './prng.ts';

/** Every endpoint of the simulated services (design §3). */
export type Endpoint =
  | 'charge'
  | 'refund'
  | 'deduct'
  | 'release'
  | 'order'
  | 'find_payments'
  | 'find_deductions'
  | 'find_orders';

export type Service = 'payment' | 'inventory' | 'order';

export const SERVICE_OF: Record<Endpoint, Service> = {
  charge: 'payment',
  refund: 'payment',
  find_payments: 'payment',
  deduct: 'inventory',
  release: 'inventory',
  find_deductions: 'inventory',
  order: 'order',
  find_orders: 'order',
};

export const FORWARD: readonly Endpoint[] = ['charge', 'deduct', 'order'];
export const UNDO: readonly Endpoint[] = ['refund', 'release'];
export const LOOKUP: readonly Endpoint[] = ['find_payments', 'find_deductions', 'find_orders'];

export type FaultKind =
  | 'refusal'
  | '5xx_before'
  | '5xx_after'
  | 'delay'
  | 'reset_before'
  | 'reset_after'
  | 'garbled';

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
  | { kind: 'garbled'; body: string };

/** What the simulator knows of a request when it asks for a fault. */
export interface RequestContext {
  endpoint: Endpoint;
  checkoutId: string | undefined;
  /** The customer email of the checkout, once the simulator has seen it. */
  email: string | undefined;
  /** 1 for the first request of this checkout at this endpoint, 2 for the next, ... */
  nth: number;
}

export type FaultDecider = (request: RequestContext) => Fault | null;

const REFUSALS: Record<Endpoint, readonly string[]> = {
  charge: ['insufficient_funds', 'card_declined'],
  deduct: ['out_of_stock'],
  order: ['invalid_address'],
  refund: ['refund_rejected'],
  release: ['release_rejected'],
  find_payments: [],
  find_deductions: [],
  find_orders: [],
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
];
const UNDO_WEIGHTS = FORWARD_WEIGHTS.map(
  ([kind, w]) => [kind, kind === 'refusal' ? 0.3 : w] as const,
);
const LOOKUP_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['5xx_before', 2],
  ['delay', 1],
  ['reset_before', 1],
  ['garbled', 1],
];

export interface FaultPlan {
  /** Seed of the scenario: the fault of a request depends on it and on the request only. */
  seed: number;
  /** Fault probability per request, by checkout (the index in the scenario). */
  rateOf(checkoutIndex: number | undefined): number;
  /** Maps a request's email to the checkout's index in the scenario. */
  indexOf(email: string | undefined): number | undefined;
  /** The client's per-try timeout of each service (a delay fault waits past it). */
  timeoutMs: Record<Service, number>;
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
    if (!draw.chance(plan.rateOf(index))) return null;
    const weights = LOOKUP.includes(endpoint)
      ? LOOKUP_WEIGHTS
      : UNDO.includes(endpoint)
        ? UNDO_WEIGHTS
        : FORWARD_WEIGHTS;
    const kind = draw.weighted(weights);
    switch (kind) {
      case 'refusal':
        return { kind, reason: draw.pick(REFUSALS[endpoint]) };
      case '5xx_before':
      case '5xx_after':
        return { kind, status: draw.pick([500, 502, 503, 504] as const) };
      case 'delay':
        return { kind, ms: plan.timeoutMs[SERVICE_OF[endpoint]] + draw.int(30, 150) };
      case 'garbled':
        return { kind, body: draw.pick(GARBLED) };
      default:
        return { kind };
    }
  };
}

/** A fault in a few words, for traces. */
export function describeFault(fault: Fault | null): string {
  if (!fault) return '';
  switch (fault.kind) {
    case 'refusal':
      return `refusal(${fault.reason})`;
    case '5xx_before':
    case '5xx_after':
      return `${fault.kind}(${fault.status})`;
    case 'delay':
      return `delay(${fault.ms}ms)`;
    default:
      return fault.kind;
  }
}
