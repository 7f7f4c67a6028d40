import { seedRequest } from '../seed-request.ts';
import { type Percentiles, parseServerTiming, percentiles } from './stats.ts';

export interface OverheadResult {
  connections: number;
  delayMs: number;
  requests: number;
  completed: number;
  endToEnd: Percentiles;
  downstream: Percentiles;
  /** End-to-end latency minus the time spent in the downstream calls, per request. */
  overhead: Percentiles;
}

/**
 * Sends `requests` seed checkouts over `connections` concurrent keep-alive connections and
 * measures, per request, the client's end-to-end latency and the downstream time the server
 * reports in `Server-Timing`. The difference is what the orchestrator itself adds.
 */
export async function measureOverhead(
  url: string,
  options: { connections: number; requests: number; delayMs: number },
): Promise<OverheadResult> {
  const body = JSON.stringify(seedRequest());
  const endToEnd: number[] = [];
  const downstream: number[] = [];
  const overhead: number[] = [];
  let next = 0;
  let completed = 0;
  await Promise.all(
    Array.from({ length: options.connections }, async () => {
      while (next < options.requests) {
        next++;
        const started = performance.now();
        const res = await fetch(`${url}/checkout/process`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await res.arrayBuffer();
        const elapsed = performance.now() - started;
        if (res.status !== 200) continue;
        completed++;
        const spent = parseServerTiming(res.headers.get('server-timing')).downstream ?? 0;
        endToEnd.push(elapsed);
        downstream.push(spent);
        overhead.push(elapsed - spent);
      }
    }),
  );
  return {
    connections: options.connections,
    delayMs: options.delayMs,
    requests: options.requests,
    completed,
    endToEnd: percentiles(endToEnd),
    downstream: percentiles(downstream),
    overhead: percentiles(overhead),
  };
}
