import autocannon from 'autocannon';
import { SEED_BODY } from './checkout-body.ts';

export interface ThroughputResult {
  database: string;
  connections: number;
  seconds: number;
  completedPerSecond: number;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  peakRssMiB: number;
}

/** Seed checkouts as fast as `connections` keep-alive connections allow, for `seconds`. */
export async function measureThroughput(
  url: string,
  options: { connections: number; seconds: number; database: string; peakRssMiB: () => number },
): Promise<ThroughputResult> {
  const result = await autocannon({
    url: `${url}/checkout/process`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SEED_BODY),
    connections: options.connections,
    duration: options.seconds,
    timeout: 30,
  });
  const completed = result['2xx'];
  return {
    database: options.database,
    connections: options.connections,
    seconds: options.seconds,
    completed,
    completedPerSecond: completed / options.seconds,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    peakRssMiB: options.peakRssMiB(),
  };
}
