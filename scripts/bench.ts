/**
 * `npm run bench`: what a checkout costs, on this machine, in under 3 minutes.
 *   - orchestration overhead (end-to-end minus downstream time) at 1 and 20 connections, with
 *     WireMock answering at once and with 20 ms per call,
 *   - throughput at 20 connections for BENCH_SECONDS on PostgreSQL and on embedded PGlite,
 *     with the server's peak RSS and the CPU each process spent per checkout,
 *   - side by side: the same load against a minimal reference checkout (Middy + pg, one insert,
 *     the three downstream calls, no saga) on PostgreSQL, served the same way,
 *   - database statements per completed, refused and failed checkout,
 *   - the warm Lambda handler alone, in-process (warm-handler.ts), on Node 22 (Lambda's),
 *     on the Data API double and on pg: CPU and wall time per invocation, memory; and from it
 *     the Lambda memory sizes with their cost per million checkouts (lambda-cost.ts),
 *   - cold start on this Node and on Node 22: bundle size and import time as a ratio to
 *     `node -e 0` and to a bare Middy + Data API reference.
 * Prints the tables and writes them as JSON and Markdown under bench-results/.
 *
 *   BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), BENCH_SECONDS (15:
 *   it was 20 before the reference, Node 22 and warm-handler runs were added, and 15 keeps the
 *   whole under 3 minutes on a 2-core machine),
 *   BENCH_SCALE (1: request counts are multiplied by it; the test uses a tiny scale)
 */
import os from 'node:os';
import { type RunningServer, startBenchWireMocks, startServer } from './bench/bench-stack.ts';
import { postgresPids } from './bench/cpu-usage.ts';
import { measureOverhead } from './bench/overhead.ts';
import {
  type BenchResults,
  lambdaMemory,
  sideBySide,
  toMarkdown,
  writeResults,
} from './bench/report.ts';
import { countStatements } from './bench/statements.ts';
import { measureThroughput, type ThroughputResult } from './bench/throughput.ts';
import { withWalFlushes } from './bench/wal-flushes.ts';
import { measureWarmHandler, type WarmHandlerResult } from './bench/warm-handler.ts';
import { coldStartNodes, measureColdStarts, type NodeBinary } from './cold-start.ts';

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
  const nodes = coldStartNodes(); // this Node and Node 22 (fetched once into .cache/)
  progress('starting WireMock');
  const wiremocks = await startBenchWireMocks();
  let measured: Omit<BenchResults, 'startedAt' | 'machine' | 'coldStarts'>;
  try {
    const env = {
      PAYMENT_SERVICE_URL: wiremocks.urls.payment,
      INVENTORY_SERVICE_URL: wiremocks.urls.inventory,
      ORDER_SERVICE_URL: wiremocks.urls.order,
    };
    /** 20 connections for `seconds` against a server on PostgreSQL, CPU and WAL flushes counted. */
    const onPostgresUnderLoad = (server: RunningServer) =>
      withWalFlushes(options.databaseUrl, () =>
        measureThroughput(server.url, {
          connections: 20,
          seconds: options.seconds,
          database: 'PostgreSQL',
          peakRssMiB: server.peakRssMiB,
          processes: {
            server: [server.pid],
            WireMock: wiremocks.pids,
            PostgreSQL: postgresPids, // listed again after: backends forked meanwhile count
          },
        }),
      );
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
      throughput.push(await onPostgresUnderLoad(onPostgres));
    } finally {
      await onPostgres.stop();
    }

    progress('starting the reference checkout on PostgreSQL');
    const reference = await startServer(
      { ...env, DATABASE_URL: options.databaseUrl },
      'scripts/bench/reference-server.ts',
    );
    let referenceThroughput: ThroughputResult;
    try {
      // Warmed up at 20 connections, as ours is by the overhead runs: its pool is full.
      await measureOverhead(reference.url, { connections: 20, requests: n(200), delayMs: 0 });
      progress(`reference checkout on PostgreSQL: 20 connections for ${options.seconds} s`);
      referenceThroughput = await onPostgresUnderLoad(reference);
    } finally {
      await reference.stop();
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

    // The Lambda handler alone, in-process, one invocation at a time, on the Node Lambda runs
    // (`npx tsx scripts/bench/warm-handler.ts` measures this Node too), on each driver. Enough
    // invocations for the JIT to settle: with fewer, its compiler threads' CPU is counted too.
    const lambda =
      nodes.find((node) => node.version.startsWith('v22')) ?? (nodes.at(-1) as NodeBinary);
    progress(`warm handler in-process on Node ${lambda.version}`);
    const warmHandler: WarmHandlerResult[] = await measureWarmHandler({
      node: lambda.path,
      urls: wiremocks.urls,
      databaseUrl: options.databaseUrl,
      invocations: n(800),
      warmup: n(200),
    });

    measured = {
      overhead,
      throughput,
      statements,
      sideBySide: sideBySide(throughput[0] as ThroughputResult, referenceThroughput),
      warmHandler,
      lambdaMemory: lambdaMemory(warmHandler),
    };
  } finally {
    await wiremocks.stop();
  }

  // Last, with WireMock stopped: the import times are the ones most sensitive to other work.
  progress(`cold starts on Node ${nodes.map((node) => node.version).join(' and ')}`);
  const coldStarts = await measureColdStarts(options.coldStartRuns, nodes);
  return {
    startedAt,
    machine: { cpus: os.cpus().length, node: process.version },
    ...measured,
    coldStarts,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const results = await runBench({
    databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    seconds: Number(process.env.BENCH_SECONDS ?? 15),
    scale: Number(process.env.BENCH_SCALE ?? 1),
    coldStartRuns: 5,
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
