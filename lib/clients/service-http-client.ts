import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod/mini';
import type { SagaLogger } from '#lib/checkout/ports.ts';
import {
  type ServiceName,
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
  ServiceUnavailableError,
} from '#lib/checkout/service-errors.ts';
import { type MinorUnits, toMinorUnits } from '#lib/money.ts';
import { traceHeader } from '#lib/observability/index.ts';
import {
  AnswerBrokenOff,
  exchange,
  type HttpAnswer,
  NeverConnected,
  RequestNotSent,
} from './http-exchange.ts';
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

/** 4xx answers that say "not now" rather than "no": retried, never read as a refusal. */
const RETRYABLE_4XX = new Set([408, 425, 429]);

/**
 * A strict provider's answers about the key itself, not the request: a concurrent request
 * holds it (409), or it was first used with another body (400). Neither says what became of
 * the original request, so neither is a refusal.
 */
const IDEMPOTENCY_CONFLICTS = new Set(['idempotency_key_in_use', 'idempotency_error']);

const errorBody = z.looseObject({
  error: z.optional(z.string()),
  message: z.optional(z.string()),
});

export interface ServiceHttpClientOptions {
  service: ServiceName;
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  logger?: SagaLogger;
  /** Headers every request carries (e.g. the payment service's API key, read from a secret). */
  headers?: () => Promise<Record<string, string>>;
  /** Called on a 401/403: the credentials in `headers` were refused (read them afresh). */
  onCredentialsRejected?: () => void;
}

/** Whether a value an answer repeats is the one its request sent. */
export type EchoCheck = (echoed: unknown) => boolean;

/**
 * What an answer must repeat of its request to be taken as that request's answer (design §3,
 * "Answers must belong to their request"). HTTP/1.1 has no request ids: a service that writes
 * one answer twice on a kept-alive connection hands the copy to the next request on that socket,
 * the next customer's. An answer (a success or a refusal) that repeats a field differently, or
 * leaves out a `required` one, is not known to be ours: an unknown outcome, retried.
 */
export interface Echo {
  /** Fields the answer must repeat: a service that echoes them on every answer (payment). */
  required?: Record<string, EchoCheck>;
  /** Fields checked only where the answer has them: a service that may not echo. */
  whereGiven?: Record<string, EchoCheck>;
  /** A list in the answer (a lookup's `payments`) whose entries are checked like the answer. */
  entries?: string;
}

/** The same text as was sent. */
export const sameText =
  (sent: string): EchoCheck =>
  (echoed) =>
    echoed === sent;

/**
 * The same amount as was sent, compared in minor units of `currency` (a JSON number with the
 * currency's decimals, as sent), never as floats: 349.7 is 34970 BRL, 349.70000000000005 is none.
 */
export const sameAmount =
  (sent: MinorUnits, currency: string): EchoCheck =>
  (echoed) =>
    typeof echoed === 'number' && toMinorUnits(echoed, currency) === sent;

/**
 * The checkout id, checked where the answer gives it, and in each entry of its `entries` list
 * (a lookup's): inventory and order answers, and every lookup, may leave it out.
 */
export const checkoutEcho = (checkoutId: string, entries?: string): Echo => ({
  whereGiven: { checkout_id: sameText(checkoutId) },
  entries,
});

interface ServiceRequest {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  idempotencyKey?: string;
  echo?: Echo;
  /** Sent on a connection of its own (`exchange`'s `fresh`). */
  fresh?: boolean;
}

/**
 * Which connection a request goes on. `kept`: a kept-alive one, for the forward steps, whose
 * answers carry echoes enough to tell them from another request's. `fresh`: one of its own, for
 * the rare requests whose answers say too little to be told apart (an empty lookup, an undo's
 * bare success): a copy of another request's answer could otherwise pass for theirs.
 */
export type Connection = 'kept' | 'fresh';

/**
 * How one attempt went, when it neither succeeded nor was refused. `delivered` is false only
 * when the request provably never reached the service.
 */
type TransientOutcome = { delivered: boolean; reason: string };

/**
 * The one HTTP helper under the three service clients: JSON requests with a per-attempt timeout,
 * an `Idempotency-Key` on writes, and retries with capped, jittered backoff for transient
 * failures. A 4xx is a refusal and is never retried, unless its body ended only with the
 * connection (unframed: it may be cut short). A success or a refusal counts only when it repeats
 * what its request sent (`Echo`). After the last attempt it tells "unavailable" (no attempt
 * reached the service, so nothing happened) from "outcome unknown" (an attempt reached it and
 * got a 5xx, a timeout, a reset, a garbled answer or another request's: the service may have
 * acted).
 */
export class ServiceHttpClient {
  constructor(private readonly options: ServiceHttpClientOptions) {}

  /**
   * POSTs `body` under `idempotencyKey` and returns the parsed success body. A success or a
   * refusal is taken only when it repeats what `echo` names.
   */
  post<T>(
    path: string,
    body: unknown,
    idempotencyKey: string,
    responseSchema: z.ZodMiniType<T>,
    signal?: AbortSignal,
    echo?: Echo,
    connection: Connection = 'kept',
  ): Promise<T> {
    const fresh = connection === 'fresh';
    return this.send(
      { method: 'POST', path, body, idempotencyKey, echo, fresh },
      responseSchema,
      signal,
    );
  }

  /**
   * POSTs `body` as a question that changes nothing (a catalog quote): no `Idempotency-Key`,
   * since repeating it is safe, and the parsed success body is returned. On a connection of its
   * own, like a lookup: a quote's answer repeats nothing of its question but the products, so a
   * copy of an earlier quote for the same cart (its older prices) could pass for this one's.
   */
  ask<T>(
    path: string,
    body: unknown,
    responseSchema: z.ZodMiniType<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.send({ method: 'POST', path, body, fresh: true }, responseSchema, signal);
  }

  /**
   * GETs `path` (a read: safe to repeat) and returns the parsed success body, checked by `echo`.
   * Always on a connection of its own: a lookup's answer decides what recovery undoes, and an
   * empty one carries nothing to tell it from a copy of another checkout's.
   */
  get<T>(
    path: string,
    responseSchema: z.ZodMiniType<T>,
    signal?: AbortSignal,
    echo?: Echo,
  ): Promise<T> {
    return this.send({ method: 'GET', path, echo, fresh: true }, responseSchema, signal);
  }

  /**
   * `signal` is the caller's deadline: once it fires no further attempt starts and the call
   * ends as an unknown outcome (`deadline`), since an attempt in flight may have been acted on.
   */
  private async send<T>(
    request: ServiceRequest,
    responseSchema: z.ZodMiniType<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { service, retry } = this.options;
    let delivered = false;
    let lastReason = 'unknown';
    for (let attempt = 0; attempt <= retry.maxRetries; attempt++) {
      if (attempt > 0)
        await sleep(backoffDelay(retry, attempt - 1), undefined, { signal }).catch(() => {});
      if (signal?.aborted) {
        throw new ServiceOutcomeUnknownError(
          service,
          'deadline',
          `The ${service} service did not answer in time`,
        );
      }
      const outcome = await this.attempt(request, responseSchema, signal).catch(
        (error: unknown) => {
          // A "no" after an earlier try reached the service may be a gateway's or a proxy's,
          // not the service's answer to the request it already has: that try may have acted.
          // A question that changes nothing (no key: a quote) has no earlier act to hide.
          const acts = request.idempotencyKey !== undefined;
          if (acts && delivered && error instanceof ServiceRefusedError) {
            throw new ServiceOutcomeUnknownError(service, error.reason, error.message);
          }
          throw error;
        },
      );
      if ('value' in outcome) return outcome.value;
      delivered ||= outcome.delivered;
      lastReason = outcome.reason;
      this.options.logger?.warn('downstream call failed', {
        downstream: service,
        path: request.path,
        attempt: attempt + 1,
        reason: outcome.reason,
      });
    }
    if (delivered) {
      throw new ServiceOutcomeUnknownError(
        service,
        lastReason,
        `The ${service} service did not answer successfully`,
      );
    }
    throw new ServiceUnavailableError(service, lastReason, `The ${service} service is unavailable`);
  }

  private async attempt<T>(
    { method, path, body, idempotencyKey, echo, fresh }: ServiceRequest,
    responseSchema: z.ZodMiniType<T>,
    deadline?: AbortSignal,
  ): Promise<{ value: T } | TransientOutcome> {
    const { baseUrl, timeoutMs, service } = this.options;
    // One controller per attempt, fired by a timer this function owns and clears. Not
    // `AbortSignal.any([AbortSignal.timeout(ms), deadline])`: on Node 20 the inner timeout
    // signal can be garbage-collected before it fires, and the timeout silently never happens.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    const onDeadline = () => abort.abort();
    deadline?.addEventListener('abort', onDeadline, { once: true });
    let answer: HttpAnswer;
    try {
      let extra: Record<string, string> = {};
      try {
        if (this.options.headers) extra = await untilAborted(this.options.headers(), abort.signal);
      } catch {
        // Our own credentials could not be read in time (Secrets Manager): the request never left.
        return { delivered: false, reason: 'credentials_unavailable' };
      }
      answer = await exchange(`${baseUrl}${path}`, {
        method,
        headers: {
          ...extra,
          ...traceHeader(),
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
          // What the service holds now, never a cache's earlier answer.
          ...(method === 'GET' ? { 'cache-control': 'no-cache' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
        fresh,
      });
    } catch (error) {
      if (error instanceof RequestNotSent) return { delivered: false, reason: 'request_not_sent' };
      if (error instanceof NeverConnected) {
        const reason = failureReason(error.cause);
        return { delivered: false, reason: reason === 'timeout' ? 'connect_timeout' : reason };
      }
      // The socket was connected, so the request may have reached the service; or the status
      // line arrived and the body broke off (AnswerBrokenOff): it was delivered.
      return {
        delivered: true,
        reason: failureReason(error instanceof AnswerBrokenOff ? error.cause : error),
      };
    } finally {
      clearTimeout(timer);
      deadline?.removeEventListener('abort', onDeadline);
    }
    const { status, text, framed } = answer;
    const json = parseJson(text);
    // Another request's answer says nothing of this one: it may have been acted on all the same.
    // The key tells apart two answers of one checkout (a deduct's and a release's) where the
    // service echoes it; the body's fields tell apart two checkouts.
    const strayField =
      answer.idempotencyKey !== undefined && answer.idempotencyKey !== idempotencyKey
        ? 'idempotency_key'
        : echo && misEchoed(echo, json);
    const stray = strayField && { delivered: true, reason: `echo_mismatch_${strayField}` };
    if (status >= 200 && status < 300) {
      if (stray) return stray;
      const parsed = responseSchema.safeParse(json);
      if (parsed.success) return { value: parsed.data };
      return { delivered: true, reason: 'malformed_response' };
    }
    if (status === 401 || status === 403) {
      // The service turned down our own credentials (a rotated API key), not the request: it
      // did not act, and the customer's card was not declined.
      this.options.onCredentialsRejected?.();
      return { delivered: false, reason: `credentials_rejected_${status}` };
    }
    if (status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
      // A "no" is final only when we have all of it: an unframed body may have been cut short,
      // and what is missing may be what makes it no refusal (an idempotency conflict's code).
      if (!framed) return { delivered: true, reason: `http_${status}_unframed` };
      const answer = errorBody.safeParse(json);
      const code = answer.success ? answer.data.error : undefined;
      if (code && IDEMPOTENCY_CONFLICTS.has(code)) return { delivered: true, reason: code };
      // A stale "no" on a request that succeeded would keep the customer's money.
      if (stray) return stray;
      const message = answer.success ? answer.data.message : undefined;
      // The refusal's status and body go along as its cause: what the service said, for the
      // client that reads more of it (the catalog's unknown product, a 404 or 422 only).
      throw new ServiceRefusedError(
        service,
        token(code ?? `http_${status}`),
        safeMessage(message ?? `The ${service} service refused the request`),
        { cause: { status, body: answer.success ? answer.data : undefined } },
      );
    }
    // A 5xx (a gateway's 502/504 included) may come after the service acted. A 3xx is not
    // followed (a redirected payment is not one we chose to send), and says nothing either.
    return { delivered: true, reason: `http_${status}` };
  }
}

/** `work`, or a rejection once `signal` aborts (the attempt's timeout or the deadline). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A network error as a reason token: `timeout`, Node's code (`econnrefused`), or `network_error`. */
function failureReason(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (name === 'AbortError' || name === 'TimeoutError') return 'timeout';
  return typeof code === 'string' ? token(code) : 'network_error';
}

/**
 * The first field `echo` names that the answer (or one of its entries) repeats differently, or
 * leaves out where it is required; `undefined` when the answer is this request's.
 */
function misEchoed(echo: Echo, answer: unknown): string | undefined {
  const list = echo.entries === undefined ? undefined : fieldsOf(answer)[echo.entries];
  for (const object of [answer, ...(Array.isArray(list) ? list : [])]) {
    const fields = fieldsOf(object);
    for (const [name, same] of Object.entries(echo.required ?? {}))
      if (!(Object.hasOwn(fields, name) && same(fields[name]))) return name;
    for (const [name, same] of Object.entries(echo.whereGiven ?? {}))
      if (Object.hasOwn(fields, name) && !same(fields[name])) return name;
  }
  return undefined;
}

const fieldsOf = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Digit runs that could be a card number or a CPF/CNPJ (11–19 digits, with the spaces, dots,
 * dashes or slashes they are written with), and an alphanumeric CNPJ as it is written.
 */
const CARD_LIKE = /\d(?:[ ./-]?\d){10,18}/g;
const CNPJ_LIKE = /\b[0-9A-Z]{2}\.?[0-9A-Z]{3}\.?[0-9A-Z]{3}\/?[0-9A-Z]{4}-?\d{2}\b/gi;

/**
 * A service's message as we store, log and answer it: card-like and document-like runs masked
 * (a provider may echo the card or the payer's CPF/CNPJ), at most 200 characters.
 */
function safeMessage(message: string): string {
  return message.replace(CARD_LIKE, '[redacted]').replace(CNPJ_LIKE, '[redacted]').slice(0, 200);
}

/** A service's reason, reduced to a safe token for our own API and logs. */
function token(reason: string): string {
  return (
    reason
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .slice(0, 64) || 'refused'
  );
}
