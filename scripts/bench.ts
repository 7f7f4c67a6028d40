/**
 * `npm run bench`: what a checkout costs, on this machine, in under 3 minutes.
 *   - orchestration overhead (end-to-end minus downstream time) at 1 and 20 connections, with
 *     WireMock answering at once and with 20 ms per call,
 *   - throughput at 20 connections for BENCH_SECONDS (20) on PostgreSQL and on embedded PGlite,
 *     with the server's peak RSS,
 *   - database statements per completed, refused and failed checkout,
 *   - cold start: bundle size and import time as a ratio to `node -e 0`.
 * Prints the tables and writes them as JSON and Markdown under bench-results/.
 *
 *   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_SECONDS (20),
 *   BENCH_SCALE (1: request counts are multiplied by it; the test uses a tiny scale)
 */
import os from 'node:os';
import { startBenchWireMocks, startServer } from './bench/bench-stack.ts';
import { postgresPids } from './bench/cpu-usage.ts';
import { measureOverhead } from './bench/overhead.ts';
import { type BenchResults, toMarkdown, writeResults } from './bench/report.ts';
import { countStatements } from './bench/statements.ts';
import { measureThroughput } from './bench/throughput.ts';
import { measureColdStarts } from './cold-start.ts';

export interface BenchOptions {
  databaseUrl: string;
  seconds: number;
  scale: number;
  coldStartRuns: number;
  progress: (message: string) => void;
}

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const { progress } = options;
  const n = (count: number) => Math.max(2, Math.round(count * options.scale));
  const startedAt = new Date().toISOString();
  progress('starting WireMock');
  const wiremocks = await startBenchWireMocks();
  try {
    const env = {
      PAYMENT_SERVICE_URL: wiremocks.urls.payment,
      INVENTORY_SERVICE_URL: wiremocks.urls.inventory,
      ORDER_SERVICE_URL: wiremocks.urls.order,
    };
    progress('counting database statements');
    const statements = await countStatements(wiremocks.urls);

    progress('starting the server on PostgreSQL');
    const onPostgres = await startServer({ ...env, DATABASE_URL: options.databaseUrl });
    const overhead = [];
    const throughput = [];
    try {
      progress('warming up');
      await measureOverhead(onPostgres.url, { connections: 4, requests: n(100), delayMs: 0 });
      for (const delayMs of [0, 20]) {
        await wiremocks.setDelay(delayMs);
        for (const connections of [1, 20]) {
          progress(`overhead: ${connections} connection(s), downstream delay ${delayMs} ms`);
          const requests = n(connections === 1 ? (delayMs ? 50 : 100) : delayMs ? 300 : 400);
          overhead.push(await measureOverhead(onPostgres.url, { connections, requests, delayMs }));
        }
      }
      await wiremocks.setDelay(0);
      progress(`throughput on PostgreSQL: 20 connections for ${options.seconds} s`);
      throughput.push(
        await measureThroughput(onPostgres.url, {
          connections: 20,
          seconds: options.seconds,
          database: 'PostgreSQL',
          peakRssMiB: onPostgres.peakRssMiB,
          processes: {
            server: [onPostgres.pid],
            WireMock: wiremocks.pids,
            PostgreSQL: postgresPids(),
          },
        }),
      );
    } finally {
      await onPostgres.stop();
    }

    progress('starting the server on embedded PGlite');
    const onPglite = await startServer({ ...env, PGLITE_DATA_DIR: 'memory://' });
    try {
      await measureOverhead(onPglite.url, { connections: 4, requests: n(50), delayMs: 0 });
      progress(`throughput on PGlite: 20 connections for ${options.seconds} s`);
      throughput.push(
        await measureThroughput(onPglite.url, {
          connections: 20,
          seconds: options.seconds,
          database: 'PGlite (embedded)',
          peakRssMiB: onPglite.peakRssMiB,
          processes: { 'server (with PGlite)': [onPglite.pid], WireMock: wiremocks.pids },
        }),
      );
    } finally {
      await onPglite.stop();
    }

    progress('cold starts');
    const coldStarts = await measureColdStarts(options.coldStartRuns);
    return {
      startedAt,
      machine: { cpus: os.cpus().length, node: process.version },
      overhead,
      throughput,
      statements,
      coldStarts,
    };
  } finally {
    await wiremocks.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const results = await runBench({
    databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    seconds: Number(process.env.BENCH_SECONDS ?? 20),
    scale: Number(process.env.BENCH_SCALE ?? 1),
    coldStartRuns: 11,
    progress: (message) => {
      const elapsed = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
      process.stdout.write(`\r\x1b[K[${elapsed} s] ${message} …`);
    },
  });
  process.stdout.write('\r\x1b[K');
  console.log(toMarkdown(results));
  console.log(`written: ${writeResults(results).join(', ')}`);
  console.log(`took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
