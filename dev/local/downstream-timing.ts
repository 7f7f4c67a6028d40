import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Time spent waiting on downstream services during one request, summed over every attempt:
 * from each outgoing HTTP request's start to its response, as Node's own `http.client`
 * diagnostics channels report them. The local gateway sends it in a `Server-Timing` header so
 * the benchmark can tell the orchestrator's own overhead from the services' latency. Nothing in
 * `lib/` knows about it: outside `measureDownstream` (on Lambda) nothing is recorded. An attempt
 * that ends without a response (a timeout, a reset) is not counted; the benchmark measures
 * successful checkouts.
 */
const current = new AsyncLocalStorage<{ downstreamMs: number }>();
const started = new WeakMap<ClientRequest, { at: number; timing: { downstreamMs: number } }>();

subscribe('http.client.request.start', (message) => {
  const timing = current.getStore();
  if (timing)
    started.set((message as { request: ClientRequest }).request, { at: performance.now(), timing });
});
subscribe('http.client.response.finish', (message) => {
  const request = (message as { request: ClientRequest }).request;
  const start = started.get(request);
  if (!start) return;
  started.delete(request);
  start.timing.downstreamMs += performance.now() - start.at;
});

export async function measureDownstream<T>(
  work: () => Promise<T>,
): Promise<{ result: T; downstreamMs: number }> {
  const timing = { downstreamMs: 0 };
  const result = await current.run(timing, work);
  return { result, downstreamMs: timing.downstreamMs };
}
