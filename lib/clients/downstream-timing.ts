import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Time spent waiting on downstream services during one request, summed over every attempt.
 * The local gateway reports it in a `Server-Timing` header so the benchmark can tell the
 * orchestrator's own overhead from the services' latency. Outside `measureDownstream` (on
 * Lambda) recording is a no-op.
 */
const current = new AsyncLocalStorage<{ downstreamMs: number }>();

export async function measureDownstream<T>(
  work: () => Promise<T>,
): Promise<{ result: T; downstreamMs: number }> {
  const timing = { downstreamMs: 0 };
  const result = await current.run(timing, work);
  return { result, downstreamMs: timing.downstreamMs };
}

export function recordDownstream(ms: number): void {
  const timing = current.getStore();
  if (timing) timing.downstreamMs += ms;
}
