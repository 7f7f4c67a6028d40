import autocannon from 'autocannon';
import { seedRequest } from '../seed-request.ts';
import { cpuDuring, type ProcessGroup } from './cpu-usage.ts';

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
  /** PostgreSQL's WAL flushes per completed checkout, server-wide (wal-flushes.ts). */
  walFlushesPerCheckout?: number;
  /** CPU milliseconds per completed checkout, by process group. */
  cpuMsPerCheckout: Record<string, number>;
}

/** Seed checkouts as fast as `connections` keep-alive connections allow, for `seconds`. */
export async function measureThroughput(
  url: string,
  options: {
    connections: number;
    seconds: number;
    database: string;
    peakRssMiB: () => number;
    /** Processes to account CPU to, by name (server, WireMock, PostgreSQL). */
    processes: Record<string, ProcessGroup>;
  },
): Promise<ThroughputResult> {
  const { result, cpuSeconds } = await cpuDuring(options.processes, () =>
    autocannon({
      url: `${url}/checkout/process`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(seedRequest()),
      connections: options.connections,
      duration: options.seconds,
      timeout: 30,
    }),
  );
  const completed = result['2xx'];
  const cpuMsPerCheckout = Object.fromEntries(
    Object.entries(cpuSeconds).map(([name, s]) => [name, completed ? (s * 1000) / completed : 0]),
  );
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
    cpuMsPerCheckout,
  };
}
