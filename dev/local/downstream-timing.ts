import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Time spent waiting on downstream services during one request, summed over every attempt:
 * from each outgoing HTTP request's start (Node's own `http.client.request.start` diagnostics
 * channel) to its response (`http.client.response.finish`), or, for one that got none, to its
 * end: a timeout, an abort, a refused or reset connection spent that time downstream too (a
 * checkout that waited 28 s on a silent service shows 28 s, not 0). One still open when the
 * request is answered counts until then. The local gateway sends the sum in a `Server-Timing`
 * header so the benchmark can tell the orchestrator's own overhead from the services' latency.
 * Nothing in `lib/` knows about it: outside `measureDownstream` (on Lambda) nothing is recorded.
 */
interface Timing {
  downstreamMs: number;
  /** Requests started and not yet ended, with when they started. */
  open: Map<ClientRequest, number>;
}

const current = new AsyncLocalStorage<Timing>();
const timingOf = new WeakMap<ClientRequest, Timing>();

/** Counts a request's time once, at whichever comes first: its response, or its end. */
function settle(request: ClientRequest): void {
  const timing = timingOf.get(request);
  const at = timing?.open.get(request);
  if (!timing || at === undefined) return;
  timing.open.delete(request);
  timing.downstreamMs += performance.now() - at;
}

subscribe('http.client.request.start', (message) => {
  const timing = current.getStore();
  if (!timing) return;
  const { request } = message as { request: ClientRequest };
  timingOf.set(request, timing);
  timing.open.set(request, performance.now());
  // 'close' comes after an error, an abort or a destroy as well as after a response.
  request.once('close', () => settle(request));
});
subscribe('http.client.response.finish', (message) => {
  settle((message as { request: ClientRequest }).request);
});

export async function measureDownstream<T>(
  work: () => Promise<T>,
): Promise<{ result: T; downstreamMs: number }> {
  const timing: Timing = { downstreamMs: 0, open: new Map() };
  try {
    const result = await current.run(timing, work);
    return { result, downstreamMs: timing.downstreamMs + stillOpen(timing) };
  } finally {
    timing.open.clear();
  }
}

/** The time so far of the requests not ended yet. */
function stillOpen(timing: Timing): number {
  const now = performance.now();
  let ms = 0;
  for (const at of timing.open.values()) ms += now - at;
  return ms;
}
