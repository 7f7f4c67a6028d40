import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../infra/bundling.ts';
import { type BenchResults, toMarkdown, writeResults } from '../../scripts/bench/report.ts';
import { parseServerTiming, percentile } from '../../scripts/bench/stats.ts';
import { runBench } from '../../scripts/bench.ts';
import { seedRequest } from '../../scripts/seed-request.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

/*
 * `npm run bench` on a tiny scale: every part runs for real (WireMock, the server on a
 * PostgreSQL server and on PGlite, the reference checkout beside it, autocannon, the statement
 * count, the warm handler in-process, the cold-start builds on both Nodes),
 * and the results have the shape the report needs. Timings are not asserted: they are what
 * the benchmark measures, not what a test may require.
 */
describe('the benchmark', () => {
  it('computes nearest-rank percentiles and reads Server-Timing', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([1, 2, 3], 99)).toBe(3);
    expect(percentile([], 50)).toBeNaN();
    expect(parseServerTiming('handler;dur=12.5, downstream;dur=7.25')).toEqual({
      handler: 12.5,
      downstream: 7.25,
    });
    expect(parseServerTiming(null)).toEqual({});
  });

  describe('a tiny run', () => {
    let shared: Awaited<ReturnType<typeof startSharedDatabase>>;
    let results: BenchResults;
    let startedAt: Date;
    beforeAll(async () => {
      shared = await startSharedDatabase();
      startedAt = new Date();
      results = await runBench({
        databaseUrl: shared.url,
        // Two seconds: on a loaded machine a one-second window can end before any durable
        // checkout does, and an empty window proves nothing about the parts.
        seconds: 2,
        scale: 0.05,
        coldStartRuns: 1,
        progress: () => {},
      });
    }, 180_000);
    afterAll(() => shared?.stop());

    it('measures overhead at 1 and 20 connections, with and without downstream delay', () => {
      expect(results.overhead.map((o) => [o.connections, o.delayMs])).toEqual([
        [1, 0],
        [20, 0],
        [1, 20],
        [20, 20],
      ]);
      for (const o of results.overhead) {
        expect(o.completed).toBeGreaterThan(0);
        expect(o.endToEnd.p50).toBeGreaterThanOrEqual(o.overhead.p50);
        expect(o.downstream.p50).toBeGreaterThan(0);
      }
      const delayed = results.overhead.find((o) => o.delayMs === 20 && o.connections === 1);
      expect(delayed?.downstream.p50).toBeGreaterThanOrEqual(60); // 3 calls × 20 ms
    });

    it('measures throughput on both databases, with errors counted and CPU accounted', () => {
      expect(results.throughput.map((t) => t.database)).toEqual([
        'PostgreSQL',
        'PGlite (embedded)',
      ]);
      for (const t of results.throughput) {
        expect(t.completed).toBeGreaterThan(0);
        expect(t.errors + t.non2xx + t.timeouts).toBe(0);
        expect(t.peakRssMiB).toBeGreaterThan(10);
        expect(t.cpuMsPerCheckout['load generator']).toBeGreaterThan(0);
      }
    });

    it('counts the database statements of each outcome', () => {
      // The default flow (after_order): the insert, then authorized, deducted, ordered, captured.
      expect(results.statements).toEqual({
        after_order: { completed: 5, refused: 2, failed: 5 },
        immediate: { completed: 4, refused: 2, failed: 5 },
      });
    });

    it('runs the same load against the minimal reference checkout, side by side', () => {
      const { ours, reference, ratios } = results.sideBySide;
      expect(ours).toBe(results.throughput[0]);
      expect(reference.database).toBe('PostgreSQL');
      expect(reference.completed).toBeGreaterThan(0);
      expect(reference.errors + reference.non2xx + reference.timeouts).toBe(0);
      expect(Object.keys(reference.cpuMsPerCheckout)).toEqual(Object.keys(ours.cpuMsPerCheckout));
      for (const ratio of Object.values(ratios)) expect(ratio).toBeGreaterThan(0);
    });

    // The table scripts/bench/reference-checkout-handler.ts writes (not imported: it connects at
    // import); only this run's rows, since a server database keeps earlier runs'.
    it('keeps no card data in the reference checkout’s rows either', async () => {
      const client = new pg.Client({ connectionString: shared.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number; with_card: number }>(
          `select count(*)::int as n,
                  count(*) filter (where request::text like '%${seedRequest().payment_method.card_number}%'
                                      or request ? 'payment_method')::int as with_card
             from bench_reference_checkout
            where created_at >= $1`,
          [startedAt],
        );
        expect(rows[0]?.n).toBeGreaterThan(0);
        expect(rows[0]?.with_card).toBe(0);
      } finally {
        await client.end();
      }
    });

    it('measures every function bundle and the reference on Node 22 and this Node', () => {
      const majors = (versions: string[]) => [...new Set(versions.map((v) => v.split('.')[0]))];
      const nodes = [...new Set(results.coldStarts.map((c) => c.node))];
      expect(majors(nodes).sort()).toEqual(majors([process.version, 'v22']).sort());
      for (const node of nodes) {
        const onNode = results.coldStarts.filter((c) => c.node === node);
        expect(onNode.map((c) => c.name)).toEqual([...FUNCTIONS, 'reference']);
        for (const c of onNode) {
          expect(c.bytes).toBeGreaterThan(10_000);
          expect(c.ratio).toBeGreaterThan(0);
          expect(c.referenceRatio).toBeGreaterThan(0);
          expect(c.importCpuMs).toBeGreaterThan(0);
          expect(c.referenceCpuRatio).toBeGreaterThan(0);
        }
        expect(onNode.find((c) => c.name === 'reference')?.referenceRatio).toBe(1);
      }
    });

    it('measures the warm handler in-process on Lambda’s Node, on both drivers', () => {
      expect(results.warmHandler.map((w) => [w.node.split('.')[0], w.database])).toEqual([
        ['v22', 'Data API (local double)'],
        ['v22', 'PostgreSQL (pg)'],
      ]);
      for (const w of results.warmHandler) {
        expect(w.invocations).toBeGreaterThan(0);
        expect(w.cpuMsPerInvocation).toBeGreaterThan(0);
        expect(w.wallMsP99).toBeGreaterThanOrEqual(w.wallMsP50);
        expect(w.peakRssMiB).toBeGreaterThan(10);
        expect(w.heapUsedMiB).toBeGreaterThan(0);
      }
    });

    it('prices the Lambda memory sizes for Node 22 on the Data API and recommends one', () => {
      const memory = results.lambdaMemory;
      expect(memory?.node).toMatch(/^v22\./);
      expect(memory?.database).toMatch(/^Data API/);
      expect(memory?.localWaitMs).toBeGreaterThanOrEqual(0);
      expect(memory?.downstreamWaitMs).toBeGreaterThan(0);
      expect(memory?.options.length).toBeGreaterThan(1);
      for (const o of memory?.options ?? []) {
        expect(o.estimatedDurationMs).toBeGreaterThan(0);
        expect(o.costPerMillionUsd).toBeGreaterThan(0);
      }
      expect(memory?.options.map((o) => o.memoryMb)).toContain(memory?.recommendedMb);
      expect(memory?.reason).toBeTruthy();
    });

    it('writes the tables as JSON and Markdown', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-results-'));
      const files = writeResults(results, dir);
      expect(files.every((f) => existsSync(f))).toBe(true);
      const json = files.find((f) => f.endsWith('latest.json')) as string;
      const written = JSON.parse(readFileSync(json, 'utf8')) as BenchResults;
      expect(written.statements.after_order.completed).toBe(5);
      expect(written.sideBySide.reference.completed).toBe(results.sideBySide.reference.completed);
      expect(written.warmHandler).toHaveLength(results.warmHandler.length);
      expect(written.lambdaMemory?.recommendedMb).toBe(results.lambdaMemory?.recommendedMb);
      expect(written.coldStarts).toHaveLength(results.coldStarts.length);
      const markdown = toMarkdown(results);
      for (const heading of [
        '## Orchestration overhead',
        '## Throughput',
        'CPU per checkout, not latency, predicts it',
        'mostly queueing',
        '## Side by side',
        '## Database statements',
        '## Warm handler in-process',
        '## Lambda memory size',
        'Recommended: **',
        '## Cold start',
        '### Node v22.',
      ]) {
        expect(markdown).toContain(heading);
      }
    });
  });
});
