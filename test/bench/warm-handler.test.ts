import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ARM64_USD_PER_GB_SECOND,
  cpuShare,
  lambdaCosts,
  MEMORY_SIZES_MB,
} from '../../scripts/bench/lambda-cost.ts';
import { measureWarmHandler, type WarmHandlerResult } from '../../scripts/bench/warm-handler.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

const measured = (cpuMsPerInvocation: number, peakRssMiB: number) => ({
  cpuMsPerInvocation,
  peakRssMiB,
});
const option = (costs: ReturnType<typeof lambdaCosts>, memoryMb: number) =>
  costs.options.find((o) => o.memoryMb === memoryMb);

describe('lambdaCosts', () => {
  it('stretches the CPU time by the share of a vCPU that the memory size buys', () => {
    expect(cpuShare(1769)).toBe(1);
    expect(cpuShare(3538)).toBe(1);
    expect(cpuShare(884.5)).toBe(0.5);

    const costs = lambdaCosts(measured(2, 100), 10);
    expect(costs.options.map((o) => o.memoryMb)).toEqual([...MEMORY_SIZES_MB]);
    expect(option(costs, 1769)?.estimatedDurationMs).toBeCloseTo(12, 10);
    expect(option(costs, 2048)?.estimatedDurationMs).toBeCloseTo(12, 10);
    expect(option(costs, 128)?.estimatedDurationMs).toBeCloseTo(10 + 2 / (128 / 1769), 10);
  });

  it('prices GB-seconds at the arm64 rate plus $0.20 per million requests', () => {
    const costs = lambdaCosts(measured(0, 100), 100);
    // 1 GB for 0.1 s, a million times: 100 000 GB-s.
    expect(option(costs, 1024)?.costPerMillionUsd).toBeCloseTo(
      100_000 * ARM64_USD_PER_GB_SECOND + 0.2,
      10,
    );
    expect(option(costs, 1024)?.costPerMillionUsd).toBeCloseTo(1.53334, 5);
    expect(option(costs, 512)?.costPerMillionUsd).toBeCloseTo(0.86667, 5);
  });

  it('never gets slower with more memory, and costs the same GB-seconds for pure CPU up to one vCPU', () => {
    for (const [cpu, wait] of [
      [0.5, 0],
      [3, 20],
      [40, 150],
    ] as const) {
      const { options } = lambdaCosts(measured(cpu, 80), wait);
      for (let i = 1; i < options.length; i++) {
        const [smaller, larger] = [options[i - 1], options[i]];
        expect(larger?.estimatedDurationMs).toBeLessThanOrEqual(smaller?.estimatedDurationMs ?? 0);
      }
    }
    // With nothing to wait for, a smaller function is slower in proportion: the same bill.
    const pure = lambdaCosts(measured(5, 80), 0).options.filter((o) => o.memoryMb <= 1769);
    for (const o of pure)
      expect(o.costPerMillionUsd).toBeCloseTo(pure[0]?.costPerMillionUsd ?? 0, 10);
    // Above one vCPU the function is no faster, so it only costs more.
    const costs = lambdaCosts(measured(5, 80), 0);
    expect(option(costs, 2048)?.costPerMillionUsd).toBeGreaterThan(
      option(costs, 1769)?.costPerMillionUsd ?? Number.POSITIVE_INFINITY,
    );
  });

  it('recommends the smallest size with 2 × peak RSS within 10 % of the full-vCPU duration', () => {
    // Mostly waiting: 512 MB (100 + 10.4 ms ≤ 1.1 × 103) fits; 256 MB (120.7 ms) does not.
    const waiting = lambdaCosts(measured(3, 100), 100);
    expect(waiting.recommendedMb).toBe(512);
    expect(waiting.reason).toContain('256 MB would take');

    // The same, but a peak RSS of 300 MiB needs 600 MB: 1024.
    const large = lambdaCosts(measured(3, 300), 100);
    expect(large.recommendedMb).toBe(1024);
    expect(large.reason).toContain('512 MB is under 2 × peak RSS');

    // Tiny and waiting: 128 MB is enough on both counts.
    const tiny = lambdaCosts(measured(0.05, 40), 100);
    expect(tiny.recommendedMb).toBe(128);
    expect(tiny.reason).toContain('the smallest size compared');

    // CPU-bound: only a full vCPU is within 10 % of itself.
    expect(lambdaCosts(measured(20, 100), 5).recommendedMb).toBe(1769);

    // More memory than any size compared offers half of: the largest, and says so.
    const huge = lambdaCosts(measured(1, 1500), 100);
    expect(huge.recommendedMb).toBe(2048);
    expect(huge.reason).toMatch(/^no size compared/);
  });
});

/*
 * One small real run: the checkout bundle built as deployed, its handler called in a child
 * process on the Data API double and on `pg`, against the run's WireMocks. Shapes and
 * outcomes only (the child fails the run unless every answer is 200); never timings.
 */
describe('measureWarmHandler', () => {
  let shared: Awaited<ReturnType<typeof startSharedDatabase>>;
  let results: WarmHandlerResult[];
  beforeAll(async () => {
    shared = await startSharedDatabase();
    results = await measureWarmHandler({
      node: process.execPath,
      urls: inject('wiremock'),
      databaseUrl: shared.url,
      invocations: 20,
      warmup: 3,
    });
  }, 120_000);
  afterAll(() => shared?.stop());

  it('measures the handler on the Data API driver and on pg, every answer a 200', () => {
    expect(results.map((r) => [r.database, r.node, r.invocations])).toEqual([
      ['Data API (local double)', process.version, 20],
      ['PostgreSQL (pg)', process.version, 20],
    ]);
    for (const r of results) {
      expect(r.cpuMsPerInvocation).toBeGreaterThan(0);
      expect(r.wallMsP99).toBeGreaterThanOrEqual(r.wallMsP50);
      expect(r.peakRssMiB).toBeGreaterThanOrEqual(r.rssMiB);
      expect(r.heapUsedMiB).toBeGreaterThan(0);
      // At least the outcome's EMF metric, on the function's stdout.
      expect(r.detail?.stdoutLines).toBeGreaterThan(0);
    }
  });

  it('gives lambdaCosts what it needs', () => {
    const costs = lambdaCosts(results[0] as WarmHandlerResult, 50);
    expect(MEMORY_SIZES_MB).toContain(costs.recommendedMb);
    expect(costs.options.every((o) => o.costPerMillionUsd > 0.2)).toBe(true);
  });
});
