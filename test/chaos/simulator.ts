import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeFault,
  type Endpoint,
  type Fault,
  type FaultDecider,
  FORWARD,
  type RequestContext,
  SERVICE_OF,
  type Service,
  UNDO,
} from './fault-schedule.ts';
import { Ledger } from './ledger.ts';
import { canonicalJson, invalidBody, type JsonObject } from './request-checks.ts';
import { type Answer, act, json, lookup, type Route, refuse, routeOf } from './services.ts';

/** One request as the simulator saw and answered it (no body: card data is never kept). */
export interface SimEvent {
  /** When the request arrived, in milliseconds since the last `reset()`. */
  t: number;
  /** How long it took to answer (or reset). */
  ms: number;
  endpoint: Endpoint;
  checkoutId: string | undefined;
  email: string | undefined;
  nth: number;
  fault: string;
  /** The HTTP status sent, or `reset` when the connection was destroyed. */
  answer: number | 'reset';
}

/** `received`: before the service acts; `answered`: after the answer was sent (or reset). */
export type HookMoment = 'received' | 'answered';
export type RequestHook = (request: RequestContext, moment: HookMoment) => void;

interface KeyEntry {
  /** SHA-256 of the canonical request (path and body): what a same-key retry is compared with. */
  hash: string;
  answer: Answer | undefined;
}

const FIVE_XX_BODIES: Record<number, string> = {
  500: '{"error":"internal_error"}',
  502: '<html><body><h1>502 Bad Gateway</h1></body></html>',
  503: '{"error":"service_unavailable"}',
  504: '<html><body><h1>504 Gateway Time-out</h1></body></html>',
};

/**
 * A strict, stateful stand-in for the payment, inventory and order services (design §3), one
 * loopback HTTP server each. It keeps ledgers (charges, refunds, deductions, orders) and
 * behaves like a strict provider per `Idempotency-Key`: the same key and body get the stored
 * answer, a different body gets 400 `idempotency_error` and a request while the first is still
 * being processed gets 409 `idempotency_key_in_use`. It checks that a charge carries a card and
 * forgets it (only a hash of the body is kept), and injects the faults `faults` decides.
 */
export class Simulator {
  readonly ledger = new Ledger();
  /** Decides the fault of each request; null: no faults. */
  faults: FaultDecider | null = null;
  /** Called when a request arrives and once it is answered (kills and crashes hook in here). */
  hook: RequestHook | null = null;
  /** Every request since the last reset. */
  events: SimEvent[] = [];
  /** Faults injected since start, by kind. */
  readonly faultCounts = new Map<string, number>();
  /** Faults injected since start, by what they hit: forward steps, undo steps, lookups. */
  readonly faultTargets = new Map<string, number>();
  /** Requests received since start, by endpoint. */
  readonly requestCounts = new Map<string, number>();
  /** Requests that carried card data to a service other than the payment charge. */
  cardLeaks: string[] = [];
  /** Charges that came without a card (refused with 400): a replay recovery should not send. */
  cardlessCharges = 0;
  /** Exceptions of the simulator itself (a harness bug, never expected). */
  errors: string[] = [];

  private readonly keys = new Map<string, KeyEntry>();
  private readonly counters = new Map<string, number>();
  private readonly emails = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  private startedAt = performance.now();

  constructor(
    readonly urls: Record<Service, string>,
    private readonly servers: http.Server[],
    private readonly latencyMs: number,
  ) {}

  /** Forgets ledgers, keys and events (between scenarios, once idle); returns the new time origin. */
  reset(): number {
    this.ledger.clear();
    this.keys.clear();
    this.counters.clear();
    this.emails.clear();
    this.events = [];
    this.cardLeaks = [];
    this.cardlessCharges = 0;
    this.startedAt = performance.now();
    return this.startedAt;
  }

  /** Requests being processed (of one checkout, or all). */
  busy(checkoutId?: string): number {
    if (checkoutId !== undefined) return this.inFlight.get(checkoutId) ?? 0;
    let total = 0;
    for (const n of this.inFlight.values()) total += n;
    return total;
  }

  /** Waits until no request (of one checkout, or at all) is being processed. */
  async idle(checkoutId?: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.busy(checkoutId) > 0) {
      if (Date.now() > deadline) throw new Error('simulator still busy after 15 s');
      await sleep(3);
    }
  }

  async close() {
    for (const server of this.servers) server.closeAllConnections();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  /** Handles one HTTP request to `service`. */
  async handle(service: Service, req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    const route = routeOf(service, req.method ?? 'GET', url.pathname);
    if (!route) {
      send(res, json(404, { error: 'not_found' }));
      return;
    }
    const body = route.method === 'POST' ? parseObject(raw) : undefined;
    const checkoutId =
      route.method === 'POST'
        ? typeof body?.checkout_id === 'string'
          ? body.checkout_id
          : undefined
        : (url.searchParams.get('checkout_id') ?? undefined);
    if (checkoutId && typeof body?.customer_email === 'string') {
      this.emails.set(checkoutId, body.customer_email);
    }
    bump(this.requestCounts, route.endpoint);
    const counter = `${checkoutId}|${route.endpoint}`;
    const nth = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, nth);
    const request: RequestContext = {
      endpoint: route.endpoint,
      checkoutId,
      email: checkoutId ? this.emails.get(checkoutId) : undefined,
      nth,
    };
    const arrived = performance.now();
    const flightKey = checkoutId ?? '';
    this.inFlight.set(flightKey, (this.inFlight.get(flightKey) ?? 0) + 1);
    let fault: Fault | null = null;
    let answer: Answer | 'reset' = json(500, { error: 'internal_error' });
    try {
      this.hook?.(request, 'received');
      if (route.endpoint !== 'charge' && /card_number|card_cvv|payment_method/.test(raw)) {
        this.cardLeaks.push(`${route.endpoint} of ${checkoutId} carried card data`);
      }
      fault = this.faults?.(request) ?? null;
      const result =
        route.method === 'POST'
          ? await this.post(route, body, header(req, 'idempotency-key'), fault)
          : await this.lookup(route.endpoint, checkoutId, fault);
      answer = result.answer;
      if (!result.faulted) fault = null;
      if (fault) {
        bump(this.faultCounts, fault.kind);
        bump(this.faultTargets, targetOf(route.endpoint));
      }
    } catch (error) {
      this.errors.push(`${route.endpoint}: ${error instanceof Error ? error.stack : error}`);
    } finally {
      if (answer === 'reset') req.socket.destroy();
      else send(res, answer);
      this.events.push({
        t: Math.round(arrived - this.startedAt),
        ms: Math.round(performance.now() - arrived),
        ...request,
        fault: describeFault(fault),
        answer: answer === 'reset' ? 'reset' : answer.status,
      });
      this.inFlight.set(flightKey, (this.inFlight.get(flightKey) ?? 1) - 1);
      try {
        this.hook?.(request, 'answered');
      } catch (error) {
        this.errors.push(`hook: ${error instanceof Error ? error.stack : error}`);
      }
    }
  }

  /** A request that acts, under its `Idempotency-Key`. */
  private async post(
    route: Route,
    body: JsonObject | undefined,
    key: string | undefined,
    fault: Fault | null,
  ): Promise<{ answer: Answer | 'reset'; faulted: boolean }> {
    const plain = (answer: Answer) => ({ answer, faulted: false });
    if (!key) return plain(json(400, { error: 'idempotency_key_required' }));
    if (!body) return plain(json(400, { error: 'invalid_json' }));
    // Keys live per service, as they would at three providers.
    const storeKey = `${SERVICE_OF[route.endpoint]}|${key}`;
    // The request is its endpoint, its path (a refund's transaction) and its body.
    const request = `${route.endpoint} ${route.transactionId ?? ''} ${canonicalJson(body)}`;
    const hash = createHash('sha256').update(request).digest('hex');
    const entry = this.keys.get(storeKey);
    if (entry && !entry.answer) return plain(json(409, { error: 'idempotency_key_in_use' }));
    if (entry && entry.hash !== hash) {
      return plain(
        json(400, {
          error: 'idempotency_error',
          message: 'Keys for idempotent requests can only be used with the same parameters',
        }),
      );
    }
    if (fault?.kind === '5xx_before') return { answer: fiveXx(fault.status), faulted: true };
    if (fault?.kind === 'reset_before') return { answer: 'reset', faulted: true };
    let answer: Answer;
    let faulted = false;
    if (entry?.answer) {
      answer = entry.answer; // the stored answer of the same request
    } else {
      const invalid = invalidBody(route.endpoint, body);
      if (invalid) {
        if (invalid === 'payment_method_required') this.cardlessCharges++;
        return plain(json(400, { status: 'failed', error: invalid }));
      }
      const claimed: KeyEntry = { hash, answer: undefined };
      this.keys.set(storeKey, claimed);
      try {
        if (fault?.kind === 'delay') {
          await sleep(fault.ms);
          faulted = true;
        } else if (this.latencyMs > 0) {
          await sleep(Math.random() * this.latencyMs);
        }
        if (fault?.kind === 'refusal') {
          answer = refuse(this.ledger, route.endpoint, body, fault.reason);
          faulted = true;
        } else {
          answer = act(this.ledger, route, body);
        }
        claimed.answer = answer;
      } catch (error) {
        this.keys.delete(storeKey);
        throw error;
      }
    }
    if (fault?.kind === '5xx_after') return { answer: fiveXx(fault.status), faulted: true };
    if (fault?.kind === 'reset_after') return { answer: 'reset', faulted: true };
    if (fault?.kind === 'garbled' && answer.status < 300) {
      return { answer: { status: 200, body: fault.body }, faulted: true };
    }
    return { answer, faulted };
  }

  /** An outcome lookup, answered from the ledgers. */
  private async lookup(
    endpoint: Endpoint,
    checkoutId: string | undefined,
    fault: Fault | null,
  ): Promise<{ answer: Answer | 'reset'; faulted: boolean }> {
    if (!checkoutId)
      return { answer: json(400, { error: 'checkout_id_required' }), faulted: false };
    if (fault?.kind === '5xx_before' || fault?.kind === '5xx_after') {
      return { answer: fiveXx(fault.status), faulted: true };
    }
    if (fault?.kind === 'reset_before' || fault?.kind === 'reset_after') {
      return { answer: 'reset', faulted: true };
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    const answer = lookup(this.ledger, endpoint, checkoutId);
    if (fault?.kind === 'garbled') {
      return { answer: { status: 200, body: fault.body }, faulted: true };
    }
    return { answer, faulted: fault?.kind === 'delay' };
  }
}

/** Starts the three services on free loopback ports. */
export async function startSimulator(options: { latencyMs?: number } = {}): Promise<Simulator> {
  const services: Service[] = ['payment', 'inventory', 'order'];
  const servers: http.Server[] = [];
  const urls = {} as Record<Service, string>;
  let simulator: Simulator | undefined;
  for (const service of services) {
    const server = http.createServer((req, res) => {
      void simulator?.handle(service, req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    urls[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    servers.push(server);
  }
  simulator = new Simulator(urls, servers, options.latencyMs ?? 2);
  return simulator;
}

function bump(counts: Map<string, number>, key: string) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function targetOf(endpoint: Endpoint): string {
  if (FORWARD.includes(endpoint)) return 'forward steps';
  if (UNDO.includes(endpoint)) return 'undo steps';
  return 'lookups';
}

function fiveXx(status: number): Answer {
  return { status, body: FIVE_XX_BODIES[status] ?? '' };
}

function send(res: http.ServerResponse, answer: Answer) {
  if (res.writableEnded || res.destroyed) return;
  const type = answer.body.startsWith('<') ? 'text/html' : 'application/json';
  res.writeHead(answer.status, { 'content-type': type }).end(answer.body);
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(raw: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}
