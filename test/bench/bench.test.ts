import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../infra/bundling.ts';
import { type BenchResults, toMarkdown, writeResults } from '../../scripts/bench/report.ts';
import { parseServerTiming, percentile } from '../../scripts/bench/stats.ts';
import { runBench } from '../../scripts/bench.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

/*
 * `npm run bench` on a tiny scale: every part runs for real (WireMock, the server on a
 * PostgreSQL server and on PGlite, autocannon, the statement count, the cold-start builds),
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
    beforeAll(async () => {
      shared = await startSharedDatabase();
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
      expect(results.statements).toEqual({ completed: 4, refused: 2, failed: 5 });
    });

    it('measures every function bundle against node -e 0', () => {
      expect(results.coldStarts.map((c) => c.name)).toEqual([...FUNCTIONS, 'reference']);
      for (const c of results.coldStarts) {
        expect(c.bytes).toBeGreaterThan(10_000);
        expect(c.ratio).toBeGreaterThan(0);
      }
    });

    it('writes the tables as JSON and Markdown', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-results-'));
      const files = writeResults(results, dir);
      expect(files.every((f) => existsSync(f))).toBe(true);
      const json = files.find((f) => f.endsWith('latest.json')) as string;
      expect(JSON.parse(readFileSync(json, 'utf8')).statements.completed).toBe(4);
      const markdown = toMarkdown(results);
      for (const heading of [
        'Orchestration overhead',
        'Throughput',
        'Database statements',
        'Cold start',
      ]) {
        expect(markdown).toContain(heading);
      }
    });
  });
});
