import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import fetch, { type Response } from 'node-fetch';
import * as z from 'zod/mini';
import type { SagaStep } from '../checkout/checkout.ts';
import type { SagaLogger } from '../checkout/ports.ts';
import {
  ServiceOutcomeUnknownError,
  ServiceRefusedError,
  ServiceUnavailableError,
} from '../checkout/service-errors.ts';
import { recordDownstream } from './downstream-timing.ts';
import { backoffDelay, type RetryPolicy } from './retry-policy.ts';

/** Kept-alive sockets shared by every client of the process (one TLS handshake per host). */
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });

/** Errors raised before the request could reach the service: it cannot have acted. */
const NOT_DELIVERED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

const refusalBody = z.looseObject({
  error: z.optional(z.string()),
  message: z.optional(z.string()),
});

export interface ServiceHttpClientOptions {
  service: SagaStep;
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  logger?: SagaLogger;
}

/** How one attempt went, when it did not succeed or get refused. */
type TransientOutcome = { maybeActed: boolean; reason: string };

/**
 * The one HTTP helper under the three service clients: JSON POST with a per-attempt timeout,
 * an `Idempotency-Key`, and retries with capped, jittered backoff for transient failures only
 * (408, 429, 5xx, network errors, timeouts, malformed success bodies). A 4xx is a refusal and
 * is never retried. After the last attempt it reports whether the service may have acted.
 */
export class ServiceHttpClient {
  constructor(private readonly options: ServiceHttpClientOptions) {}

  /**
   * POSTs `body` and returns the parsed success body. `signal` is the caller's deadline: once it
   * fires no further attempt starts and the call ends as an unknown outcome (`deadline`), since
   * an attempt in flight may have been acted on.
   */
  async post<T>(
    path: string,
    body: unknown,
    idempotencyKey: string,
    responseSchema: z.ZodMiniType<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { service, retry } = this.options;
    let maybeActed = false;
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
      const started = performance.now();
      const outcome = await this.attempt(
        path,
        body,
        idempotencyKey,
        responseSchema,
        signal,
      ).finally(() => recordDownstream(performance.now() - started));
      if ('value' in outcome) return outcome.value;
      maybeActed ||= outcome.maybeActed;
      lastReason = outcome.reason;
      this.options.logger?.warn('downstream call failed', {
        downstream: service,
        path,
        attempt: attempt + 1,
        reason: outcome.reason,
      });
    }
    const message = `The ${service} service did not answer successfully`;
    if (maybeActed) throw new ServiceOutcomeUnknownError(service, lastReason, message);
    throw new ServiceUnavailableError(service, lastReason, `The ${service} service is unavailable`);
  }

  private async attempt<T>(
    path: string,
    body: unknown,
    idempotencyKey: string,
    responseSchema: z.ZodMiniType<T>,
    deadline?: AbortSignal,
  ): Promise<{ value: T } | TransientOutcome> {
    const { baseUrl, timeoutMs, service } = this.options;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify(body),
        agent: (url) => (url.protocol === 'https:' ? httpsAgent : httpAgent),
        // Small JSON answers: gzip would cost both sides more CPU than it saves on the wire.
        compress: false,
        signal: deadline
          ? AbortSignal.any([AbortSignal.timeout(timeoutMs), deadline])
          : AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      return networkOutcome(error);
    }
    try {
      text = await response.text();
    } catch (error) {
      // The status line arrived but the body broke off: a 2xx may already have acted.
      return { maybeActed: response.ok, reason: networkOutcome(error).reason };
    }
    const { status } = response;
    if (response.ok) {
      const parsed = responseSchema.safeParse(parseJson(text));
      if (parsed.success) return { value: parsed.data };
      return { maybeActed: true, reason: 'malformed_response' };
    }
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      const refusal = refusalBody.safeParse(parseJson(text));
      const reason = refusal.success && refusal.data.error ? refusal.data.error : `http_${status}`;
      const message =
        refusal.success && refusal.data.message
          ? refusal.data.message
          : `The ${service} service refused the request`;
      throw new ServiceRefusedError(service, token(reason), message.slice(0, 200));
    }
    return { maybeActed: false, reason: `http_${status}` };
  }
}

function networkOutcome(error: unknown): TransientOutcome {
  const { name, code } = error as { name?: string; code?: string };
  if (name === 'AbortError' || name === 'TimeoutError')
    return { maybeActed: true, reason: 'timeout' };
  if (code && NOT_DELIVERED.has(code)) return { maybeActed: false, reason: code.toLowerCase() };
  return { maybeActed: true, reason: code ? code.toLowerCase() : 'network_error' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
