import { createHash } from 'node:crypto';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Catalog, misquote } from './catalog.ts';
import {
  countedKind,
  describeFault,
  type Endpoint,
  type FaultDecider,
  FORWARD,
  KEY_STEP,
  type KeptFault,
  LATE_ROUND,
  type RequestContext,
  SERVICE_OF,
  SERVICES,
  type Service,
  UNDO,
} from './fault-schedule.ts';
import { Ledger } from './ledger.ts';
import { canonicalJson, invalidBody, type JsonObject } from './request-checks.ts';
import { ServiceHost } from './service-host.ts';
import {
  type Answer,
  act,
  type EmitEvent,
  echoOf,
  expire,
  expireDue,
  json,
  lookup,
  type PaymentEventType,
  type Route,
  refuse,
  routeOf,
  withEcho,
} from './services.ts';

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

/**
 * A webhook event the payment service queued (design §4a): what it would POST, signed, to the
 * app's `/webhooks/payments`. The harness delivers them (`webhooks.ts`), with its faults.
 */
export interface PaymentEventOut {
  event_id: string;
  type: PaymentEventType;
  transactionId: string;
  checkout_id: string;
  occurred_at: string;
  /** Its rank among the events of the run: an older event has a smaller one. */
  seq: number;
}

/** `received`: before the service acts; `answered`: after the answer was sent (or reset). */
export type HookMoment = 'received' | 'answered';
export type RequestHook = (request: RequestContext, moment: HookMoment) => void;

/** An answer written a second time, waiting for the next request on its socket. */
interface PendingCopy {
  raw: Buffer;
  /** Which request it answered, for the trace. */
  of: string;
}

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
 * loopback HTTP service each, listening on both addresses of a two-address name
 * (`two-address-host.ts`); the inventory service also quotes prices from the scenario's
 * catalog (`POST /catalog/quote`). It keeps ledgers (charges, refunds, deductions, orders) and
 * behaves like a strict provider per `Idempotency-Key`: the same key and body get the stored
 * answer, a different body gets 400 `idempotency_error` and a request while the first is still
 * being processed gets 409 `idempotency_key_in_use`. Every answer echoes what design §3 says it
 * echoes. Payments are one-shot charges (`POST /payments/process`, refunded) or authorizations
 * (`POST /payments/authorize`), captured or voided (`POST /payments/{id}/capture`, `/void`),
 * a captured one refunded. It checks that a charge or an authorization carries a card (or a
 * token) and forgets it (only a hash of the body is kept), that no other request carries one,
 * and that each key is `<checkout_id>:<step>`; and injects the faults `faults` decides.
 */
export class Simulator {
  readonly ledger = new Ledger();
  /** The prices the inventory service quotes (`POST /catalog/quote`), registered per scenario. */
  readonly catalog = new Catalog();
  /** Decides the fault of each request; null: no faults. */
  faults: FaultDecider | null = null;
  /** Called when a request arrives and once it is answered (kills and crashes hook in here). */
  hook: RequestHook | null = null;
  /** Every request since the last reset. */
  events: SimEvent[] = [];
  /** Faults injected since start, by kind (a duplicate answer when its copy lands). */
  readonly faultCounts = new Map<string, number>();
  /** Faults injected since start, by what they hit: forward steps, undo steps, lookups. */
  readonly faultTargets = new Map<string, number>();
  /** Requests received since start, by endpoint. */
  readonly requestCounts = new Map<string, number>();
  /**
   * Requests that carried card data (a card field or a payment method) anywhere but a charge
   * (`POST /payments/process`) or an authorization (`POST /payments/authorize`).
   */
  cardLeaks: string[] = [];
  /** Acting requests whose `Idempotency-Key` is not `<checkout_id>:<step>` (`KEY_STEP`). */
  keyMisuses: string[] = [];
  /**
   * Charges or authorizations that came without a card or token (refused with 400): a replay
   * recovery should not send.
   */
  cardlessCharges = 0;
  /** Exceptions of the simulator itself (a harness bug, never expected). */
  errors: string[] = [];
  /** The webhook events queued since the last reset, oldest first (the harness takes them). */
  outbox: PaymentEventOut[] = [];
  private eventSeq = 0;
  /** Queues the webhook of a Pix or boleto that changed. */
  readonly emit: EmitEvent = (type, charge) => {
    this.eventSeq++;
    this.outbox.push({
      event_id: `evt_${this.eventSeq}_${charge.transactionId.slice(4, 12)}`,
      type,
      transactionId: charge.transactionId,
      checkout_id: charge.checkoutId,
      occurred_at: new Date().toISOString(),
      seq: this.eventSeq,
    });
  };

  private readonly keys = new Map<string, KeyEntry>();
  private readonly counters = new Map<string, number>();
  private readonly emails = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  /** Answers written once more, by the kept-alive socket the next request will arrive on. */
  private copies = new WeakMap<Socket, PendingCopy>();
  private startedAt = performance.now();

  /** Each service at `http://127.0.0.1:<port>` (its other address is ::1, same port). */
  readonly urls: Record<Service, string>;

  constructor(
    private readonly hosts: Record<Service, ServiceHost>,
    private readonly latencyMs: number,
  ) {
    this.urls = {} as Record<Service, string>;
    for (const service of SERVICES) this.urls[service] = this.urlOf(service, '127.0.0.1');
  }

  /** The service's base URL through `host` (a name of both its addresses, or one of them). */
  urlOf(service: Service, host: string): string {
    return `http://${host}:${this.hosts[service].port}`;
  }

  /** Whether the service is refusing connections (an `unreachable` window). */
  isDown(service: Service): boolean {
    return this.hosts[service].down;
  }

  /**
   * Forgets ledgers, catalog, keys and events (between scenarios, once idle); returns the new
   * time origin.
   */
  reset(): number {
    this.ledger.clear();
    this.catalog.clear();
    this.keys.clear();
    this.counters.clear();
    this.emails.clear();
    this.copies = new WeakMap(); // a copy never lands in the next scenario
    this.events = [];
    this.cardLeaks = [];
    this.keyMisuses = [];
    this.cardlessCharges = 0;
    this.outbox = [];
    this.startedAt = performance.now();
    return this.startedAt;
  }

  /** Counts a fault the harness made itself (not on a request): once by kind, once per target. */
  count(kind: string, ...targets: string[]) {
    bump(this.faultCounts, kind);
    for (const target of targets) bump(this.faultTargets, target);
  }

  /** Requests being processed (of one checkout, or all). */
  busy(checkoutId?: string): number {
    if (checkoutId !== undefined) return this.inFlight.get(checkoutId) ?? 0;
    let total = 0;
    for (const n of this.inFlight.values()) total += n;
    return total;
  }

  /**
   * Waits until no request (of one checkout, or at all) is being processed and, for the whole
   * simulator, every service listens again (no `unreachable` window is open).
   */
  async idle(checkoutId?: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const down = () => checkoutId === undefined && SERVICES.some((s) => this.hosts[s].down);
    while (this.busy(checkoutId) > 0 || down()) {
      if (Date.now() > deadline) throw new Error('simulator still busy after 15 s');
      await sleep(3);
    }
  }

  async close() {
    await Promise.all(SERVICES.map((s) => this.hosts[s].close()));
  }

  /** The service's own expiry of pending Pix and boletos, as of now (their events queued). */
  expireDue() {
    expireDue(this.ledger, Date.now(), this.emit);
  }

  /**
   * The customer pays a Pix or boleto (design §4a): a pending one is paid; an `expired` one
   * only when `late` (a bank's late clearing of a payment it took); a cancelled, paid or
   * refunded one is refused by the customer's bank, nothing moves. `amountMinor`: another
   * amount than asked (rare); `paidAt`: when the service says it was paid (default now).
   * Returns the charge's status before the payment, and whether it was taken.
   */
  pay(
    transactionId: string,
    options: { late?: boolean; amountMinor?: number; paidAt?: number } = {},
  ): { before: string; paid: boolean } {
    this.expireDue();
    const charge = this.ledger.asyncCharges.find((c) => c.transactionId === transactionId);
    if (!charge) return { before: 'absent', paid: false };
    const before = charge.status;
    const payable = before === 'pending' || (before === 'expired' && options.late === true);
    if (!payable) return { before, paid: false };
    charge.status = 'paid';
    charge.paidAmount = options.amountMinor ?? charge.amount;
    charge.paidAt = new Date(options.paidAt ?? Date.now()).toISOString();
    this.emit('payment.paid', charge);
    return { before, paid: true };
  }

  /**
   * Time passes for a Pix or boleto (the harness moves the row's `payment_expires_at` to the
   * same instant): the app's expiry becomes `appExpiresAt`, and the service's own expiry that
   * plus `lagMs` (0: the service expires it first; more than the app's 120 s grace: the app's
   * expiry check cancels it while still pending).
   */
  moveExpiry(transactionId: string, appExpiresAt: number, lagMs: number) {
    const charge = this.ledger.asyncCharges.find((c) => c.transactionId === transactionId);
    if (!charge) return;
    charge.appExpiresAt = appExpiresAt;
    charge.serviceExpiresAt = appExpiresAt + lagMs;
    this.expireDue();
  }

  /** Handles one HTTP request to `service`. */
  async handle(service: Service, req: http.IncomingMessage, res: http.ServerResponse) {
    // A copy of the previous answer on this socket goes out first: it is what the client reads
    // as the answer to this request (HTTP/1.1 has no request ids).
    const stale = this.copies.get(req.socket);
    if (stale) {
      this.copies.delete(req.socket);
      req.socket.write(stale.raw);
    }
    const url = new URL(req.url ?? '/', 'http://simulator');
    const raw = await readBody(req);
    const route = routeOf(service, req.method ?? 'GET', url.pathname);
    if (!route) {
      send(res, json(404, { error: 'not_found' }), false);
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
    // A quote names no checkout (it comes before one is recorded): its products tell whose it is.
    const email =
      route.endpoint === 'quote'
        ? this.catalog.ownerOf(body)
        : checkoutId
          ? this.emails.get(checkoutId)
          : undefined;
    bump(this.requestCounts, route.endpoint);
    // Counted per checkout, so the n-th quote of a cart draws the same fault on every replay.
    const counter = `${route.endpoint === 'quote' ? email : checkoutId}|${route.endpoint}`;
    const nth = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, nth);
    const request: RequestContext = { endpoint: route.endpoint, checkoutId, email, nth };
    if (stale) {
      bump(this.faultCounts, 'duplicate_answer');
      bump(this.faultTargets, targetOf(route.endpoint));
    }
    const arrived = performance.now();
    const flightKey = checkoutId ?? '';
    this.inFlight.set(flightKey, (this.inFlight.get(flightKey) ?? 0) + 1);
    let drawn: KeptFault | null = null;
    let answer: Answer | 'reset' = json(500, { error: 'internal_error' });
    const notes: string[] = stale ? [`read a stale copy of ${stale.of}`] : [];
    try {
      this.hook?.(request, 'received');
      const carriesCard = route.endpoint === 'charge' || route.endpoint === 'authorize';
      if (!carriesCard && /card_number|card_cvv|card_expiry|payment_method/.test(raw)) {
        this.cardLeaks.push(`${route.endpoint} of ${checkoutId} carried card data`);
      }
      const step = KEY_STEP[route.endpoint];
      const key = header(req, 'idempotency-key');
      const late = LATE_ROUND.includes(route.endpoint) && key === `${checkoutId}:${step}_late`;
      if (step && key !== undefined && checkoutId && key !== `${checkoutId}:${step}` && !late) {
        this.keyMisuses.push(
          `${route.endpoint} of ${checkoutId} under Idempotency-Key ${key}, not ${checkoutId}:${step}`,
        );
      }
      drawn = this.faults?.(request) ?? null;
      if (service === 'payment') this.expireDue();
      const result =
        route.endpoint === 'quote'
          ? await this.quote(body, drawn)
          : route.method === 'POST'
            ? await this.post(route, body, header(req, 'idempotency-key'), drawn)
            : await this.lookup(route.endpoint, checkoutId, drawn);
      answer = result.answer;
      if (drawn && result.faulted) {
        bump(this.faultCounts, countedKind(drawn));
        bump(this.faultTargets, targetOf(route.endpoint));
      }
      // A duplicate answer and a service going down act once the (real) answer is out, below.
      const later = drawn?.kind === 'duplicate_answer' || drawn?.kind === 'unreachable';
      if (drawn && (result.faulted || later)) notes.push(describeFault(drawn));
    } catch (error) {
      this.errors.push(`${route.endpoint}: ${error instanceof Error ? error.stack : error}`);
    } finally {
      if (answer === 'reset') req.socket.destroy();
      else {
        // A service that is down, or going down now, closes the connection of each request it
        // still answers (a client would otherwise send its next request on a closing socket).
        const closing =
          this.hosts[service].down || (drawn?.kind === 'unreachable' && drawn.service === service);
        const written = send(res, answer, closing, header(req, 'idempotency-key'));
        if (drawn?.kind === 'duplicate_answer' && written.length > 0) {
          this.copies.set(req.socket, {
            raw: written,
            of: `the answer to ${route.endpoint} #${nth} of ${checkoutId ?? '?'}`,
          });
        }
        if (drawn?.kind === 'unreachable') {
          const host = this.hosts[drawn.service];
          if (host.goDown(drawn.ms, (error) => this.errors.push(error))) {
            bump(this.faultCounts, 'unreachable');
            bump(this.faultTargets, `${drawn.service} service`);
          }
        }
      }
      this.events.push({
        t: Math.round(arrived - this.startedAt),
        ms: Math.round(performance.now() - arrived),
        ...request,
        fault: notes.join(', '),
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
    fault: KeptFault | null,
  ): Promise<{ answer: Answer | 'reset'; faulted: boolean }> {
    const plain = (answer: Answer) => ({ answer, faulted: false });
    if (!key) return plain(json(400, { error: 'idempotency_key_required' }));
    if (!body) return plain(json(400, { error: 'invalid_json' }));
    const echo = echoOf(route, body);
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
        return plain(withEcho(json(400, { status: 'failed', error: invalid }), echo));
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
        const expired =
          fault?.kind === 'authorization_expired' && route.endpoint === 'capture'
            ? expire(this.ledger, route, body)
            : undefined;
        if (fault?.kind === 'refusal') {
          answer = withEcho(refuse(this.ledger, route.endpoint, body, fault.reason), echo);
          faulted = true;
        } else if (expired) {
          answer = withEcho(expired, echo);
          faulted = true;
        } else {
          answer = withEcho(act(this.ledger, route, body, this.emit), echo);
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

  /**
   * A catalog quote, answered from the catalog: a read, so it takes a lookup's faults (a 5xx,
   * a delay, a reset, a garbled body), and the catalog's own: a whole answer that does not fit
   * the cart (`misquote`).
   */
  private async quote(
    body: JsonObject | undefined,
    fault: KeptFault | null,
  ): Promise<{ answer: Answer | 'reset'; faulted: boolean }> {
    if (fault?.kind === '5xx_before' || fault?.kind === '5xx_after') {
      return { answer: fiveXx(fault.status), faulted: true };
    }
    if (fault?.kind === 'reset_before' || fault?.kind === 'reset_after') {
      return { answer: 'reset', faulted: true };
    }
    if (fault?.kind === 'delay') await sleep(fault.ms);
    else if (this.latencyMs > 0) await sleep(Math.random() * this.latencyMs);
    const answer = this.catalog.quote(body);
    if (fault?.kind === 'garbled' && answer.status === 200) {
      return { answer: { status: 200, body: fault.body }, faulted: true };
    }
    if (fault?.kind === 'misquote' && answer.status === 200) {
      return { answer: misquote(answer, fault.how), faulted: true };
    }
    return { answer, faulted: fault?.kind === 'delay' };
  }

  /** An outcome lookup, answered from the ledgers. */
  private async lookup(
    endpoint: Endpoint,
    checkoutId: string | undefined,
    fault: KeptFault | null,
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

/** Starts the three services, each on a free port of both loopback addresses. */
export async function startSimulator(options: { latencyMs?: number } = {}): Promise<Simulator> {
  let simulator: Simulator | undefined;
  const hosts = {} as Record<Service, ServiceHost>;
  try {
    for (const service of SERVICES) {
      hosts[service] = await ServiceHost.start((req, res) => {
        void simulator?.handle(service, req, res);
      });
    }
  } catch (error) {
    await Promise.all(Object.values(hosts).map((h) => h.close()));
    throw error;
  }
  simulator = new Simulator(hosts, options.latencyMs ?? 2);
  return simulator;
}

function bump(counts: Map<string, number>, key: string) {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function targetOf(endpoint: Endpoint): string {
  if (FORWARD.includes(endpoint)) return 'forward steps';
  if (UNDO.includes(endpoint)) return 'undo steps';
  if (endpoint === 'quote') return 'quotes';
  return 'lookups';
}

function fiveXx(status: number): Answer {
  return { status, body: FIVE_XX_BODIES[status] ?? '' };
}

/**
 * Sends the answer (with `Connection: close` when `closing`, and the request's
 * `Idempotency-Key` echoed, as some providers do) and returns the bytes it put on the socket,
 * status line and headers included: what a duplicate answer writes again. Empty when Node
 * queued them instead (a pipelined request waiting for an earlier answer).
 */
function send(res: http.ServerResponse, answer: Answer, closing: boolean, key?: string): Buffer {
  if (res.writableEnded || res.destroyed) return Buffer.alloc(0);
  const type = answer.body.startsWith('<') ? 'text/html' : 'application/json';
  const headers: Record<string, string> = {
    'content-type': type,
    'content-length': String(Buffer.byteLength(answer.body)),
    ...(key === undefined ? {} : { 'idempotency-key': key }),
  };
  if (closing) headers.connection = 'close';
  const socket = res.socket;
  if (!socket) {
    res.writeHead(answer.status, headers).end(answer.body);
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  const write = socket.write;
  socket.write = ((data: string | Uint8Array, ...rest: unknown[]) => {
    const encoding = typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : 'utf8';
    chunks.push(typeof data === 'string' ? Buffer.from(data, encoding) : Buffer.from(data));
    return (write as (...args: unknown[]) => boolean).call(socket, data, ...rest);
  }) as typeof socket.write;
  try {
    res.writeHead(answer.status, headers).end(answer.body);
  } finally {
    socket.write = write;
  }
  return Buffer.concat(chunks);
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
