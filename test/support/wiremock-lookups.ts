import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { ServiceName } from '#dev/local/wiremock-process.ts';

/**
 * The outcome lookups of the run's WireMocks, asked over HTTP, and a wait for the webhooks that
 * register them (wiremock/README.md, "Outcome lookups"): a call that acts registers what its
 * service now holds for the checkout a few ms after its answer, so a test that asks right after
 * a call waits for that first.
 */

export const LOOKUPS = {
  payment: { path: '/payments', list: 'payments' },
  inventory: { path: '/inventory/deductions', list: 'deductions' },
  order: { path: '/orders', list: 'orders' },
} as const;

export type Entry = Record<string, unknown>;

/** The lookup's list for a checkout, as the service answers it (200, JSON, one list). */
export async function lookup(service: ServiceName, checkoutId: string): Promise<Entry[]> {
  const { path, list } = LOOKUPS[service];
  const res = await fetch(`${inject('wiremock')[service]}${path}?checkout_id=${checkoutId}`);
  if (res.status !== 200) throw new Error(`${service} lookup answered ${res.status}`);
  if (!res.headers.get('content-type')?.includes('application/json'))
    throw new Error(`${service} lookup answered ${res.headers.get('content-type')}`);
  const body = (await res.json()) as Record<string, Entry[]>;
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== list)
    throw new Error(`${service} lookup answered ${JSON.stringify(body)}`);
  return body[list] as Entry[];
}

/** Reads `read()` every 50 ms until `done` holds or `timeoutMs` has passed; returns the last read. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

interface ServeEvent {
  request: { url: string; body: string };
  stubMapping?: { serveEventListeners?: { name: string }[] };
  /** What happened after the answer: the webhook's request, and its answer or its error. */
  subEvents?: { type: string; data?: { status?: number; body?: string; message?: string } }[];
}

/** The serve events of the requests whose body carries `marker` (newest first, as WireMock lists). */
export async function servedFor(service: ServiceName, marker: string): Promise<ServeEvent[]> {
  const res = await fetch(`${inject('wiremock')[service]}/__admin/requests`);
  const { requests } = (await res.json()) as { requests: ServeEvent[] };
  return requests.filter((event) => event.request.body.includes(marker));
}

const hasWebhook = (event: ServeEvent) =>
  (event.stubMapping?.serveEventListeners ?? []).some((l) => l.name === 'webhook');
const webhookAnswered = (event: ServeEvent) =>
  (event.subEvents ?? []).some((s) => s.type === 'WEBHOOK_RESPONSE' || s.type === 'ERROR');
/**
 * A webhook whose registration the admin API did not take: a template that renders no stub. (Two
 * registrations of one checkout at the same instant may both add the stub, and the second is
 * then refused as a duplicate: the stub stands, so that one counts as taken.)
 */
const webhookRefused = (event: ServeEvent) =>
  (event.subEvents ?? []).find(
    (s) =>
      s.type === 'ERROR' ||
      (s.type === 'WEBHOOK_RESPONSE' &&
        s.data?.status !== 200 &&
        !s.data?.body?.includes('Duplicate stub mapping ID')),
  );

/**
 * Waits until every request to `service` whose body carries `marker` (a checkout id) has been
 * logged, at least `atLeast` of them, and the webhook of each that has one has had its answer
 * from the admin API: the lookup then answers everything those calls registered.
 */
export async function untilWebhooksDone(
  service: ServiceName,
  marker: string,
  atLeast = 1,
  timeoutMs = 5_000,
): Promise<void> {
  const events = await pollUntil(
    () => servedFor(service, marker),
    (served) =>
      served.length >= atLeast &&
      served.filter(hasWebhook).every((event) => webhookAnswered(event)),
    timeoutMs,
  );
  const pending = events.filter((event) => hasWebhook(event) && !webhookAnswered(event));
  if (events.length < atLeast || pending.length > 0)
    throw new Error(
      `${service}: ${events.length} request(s) for ${marker} logged, ${pending.length} webhook(s) unanswered after ${timeoutMs} ms`,
    );
  for (const event of events) {
    const refused = webhookRefused(event);
    if (refused)
      throw new Error(
        `${service}: the webhook of ${event.request.url} was not taken: ${JSON.stringify(refused.data)}`,
      );
  }
}

/**
 * What a service that acted before it failed leaves behind, for a test's own fault stub: the
 * webhook of the default success mapping at `mapping` (under `wiremock/`), so the outcome lookup
 * lists the step as done, as the real service's would.
 */
export function actedBeforeFailing(mapping: string): { serveEventListeners: unknown } {
  const file = JSON.parse(readFileSync(`wiremock/${mapping}`, 'utf8')) as {
    serveEventListeners: unknown;
  };
  return { serveEventListeners: file.serveEventListeners };
}
