import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ColdStart } from '../cold-start.ts';
import { ASSUMED_LAMBDA_WAIT_MS, lambdaCosts, type MemoryOption } from './lambda-cost.ts';
import type { OverheadResult } from './overhead.ts';
import type { StatementCounts } from './statements.ts';
import type { ThroughputResult } from './throughput.ts';
import type { WarmHandlerResult } from './warm-handler.ts';

/**
 * Our checkout beside the minimal reference (reference-checkout-handler.ts), the same load on
 * the same PostgreSQL in the same run; `ratios` are ours / reference.
 */
export interface SideBySide {
  ours: ThroughputResult;
  reference: ThroughputResult;
  ratios: {
    completedPerSecond: number;
    serverCpuMsPerCheckout: number;
    totalCpuMsPerCheckout: number;
    latencyP50: number;
    latencyP99: number;
  };
}

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string };
  overhead: OverheadResult[];
  throughput: ThroughputResult[];
  statements: StatementCounts;
  sideBySide: SideBySide;
  /** The Lambda handler alone, in-process: one entry per Node and database variant. */
  warmHandler: WarmHandlerResult[];
  /** The memory sizes for what Lambda runs (Node 22, Data API), when that variant was measured. */
  lambdaMemory: LambdaMemory | undefined;
  coldStarts: ColdStart[];
}

/** lambdaCosts() for one warm-handler variant, with what it was given. */
export interface LambdaMemory {
  node: string;
  database: string;
  cpuMsPerInvocation: number;
  peakRssMiB: number;
  /** What an invocation waited here on the database and the services: wall p50 minus CPU. */
  localWaitMs: number;
  /** The wait the options are estimated with: ASSUMED_LAMBDA_WAIT_MS (lambda-cost.ts). */
  downstreamWaitMs: number;
  options: MemoryOption[];
  recommendedMb: number;
  reason: string;
}

/**
 * The memory sizes for the variant Lambda runs: Node 22 on the Data API (else the first
 * measured), with its CPU measured here and the wait assumed for real services.
 */
export function lambdaMemory(results: WarmHandlerResult[]): LambdaMemory | undefined {
  const lambda =
    results.find((r) => r.node.startsWith('v22.') && r.database.startsWith('Data API')) ??
    results[0];
  if (!lambda) return undefined;
  return {
    node: lambda.node,
    database: lambda.database,
    cpuMsPerInvocation: lambda.cpuMsPerInvocation,
    peakRssMiB: lambda.peakRssMiB,
    localWaitMs: Math.max(0, lambda.wallMsP50 - lambda.cpuMsPerInvocation),
    downstreamWaitMs: ASSUMED_LAMBDA_WAIT_MS,
    ...lambdaCosts(lambda, ASSUMED_LAMBDA_WAIT_MS),
  };
}

/** All the CPU a completed checkout cost, every process group together (ms). */
export const totalCpuMs = (t: ThroughputResult) =>
  Object.values(t.cpuMsPerCheckout).reduce((a, b) => a + b, 0);

/** The CPU the server process itself spent per completed checkout (ms). */
const serverCpuMs = (t: ThroughputResult) =>
  Object.entries(t.cpuMsPerCheckout).find(([name]) => name.startsWith('server'))?.[1] ?? Number.NaN;

export function sideBySide(ours: ThroughputResult, reference: ThroughputResult): SideBySide {
  return {
    ours,
    reference,
    ratios: {
      completedPerSecond: ours.completedPerSecond / reference.completedPerSecond,
      serverCpuMsPerCheckout: serverCpuMs(ours) / serverCpuMs(reference),
      totalCpuMsPerCheckout: totalCpuMs(ours) / totalCpuMs(reference),
      latencyP50: ours.latencyP50Ms / reference.latencyP50Ms,
      latencyP99: ours.latencyP99Ms / reference.latencyP99Ms,
    },
  };
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');
/** Where a checkout's CPU went, and the throughput that CPU allows on `cpus` cores. */
const cpuLine = (label: string, t: ThroughputResult, cpus: number) => {
  const total = totalCpuMs(t);
  const parts = Object.entries(t.cpuMsPerCheckout).map(([name, v]) => `${name} ${v.toFixed(2)}`);
  return `- ${label}: ${parts.join(', ')}; total ${total.toFixed(2)} → at most ${((cpus * 1000) / total).toFixed(0)} checkouts/s`;
};

/** The results as Markdown tables: printed to the terminal and written beside the JSON. */
export function toMarkdown(r: BenchResults): string {
  const lines = [
    `# checkout-commerce benchmark, ${r.startedAt}`,
    '',
    `${r.machine.cpus} CPUs, Node ${r.machine.node}; server, PostgreSQL, WireMock and the load generator share them.`,
    '',
    '## Orchestration overhead (end-to-end minus downstream time, ms, completed checkouts)',
    '',
    '| connections | downstream delay | n | overhead p50 | p90 | p99 | end-to-end p50 | p99 | downstream p50 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.overhead.map(
      (o) =>
        `| ${o.connections} | ${o.delayMs} ms/call | ${o.completed} | ${ms(o.overhead.p50)} | ${ms(o.overhead.p90)} | ${ms(o.overhead.p99)} | ${ms(o.endToEnd.p50)} | ${ms(o.endToEnd.p99)} | ${ms(o.downstream.p50)} |`,
    ),
    '',
    `At 20 connections the overhead is mostly queueing for ${r.machine.cpus} cores (shared by the server, PostgreSQL, WireMock and the load generator): it grows with the connections, not with the work done per checkout. The CPU per checkout below is the figure that predicts throughput.`,
    '',
    '## Throughput (seed checkouts, 20 connections; CPU per checkout, not latency, predicts it)',
    '',
    '| database | completed/s | completed | non-2xx | errors | timeouts | latency p50 | p99 | server peak RSS |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.throughput.map(
      (t) =>
        `| ${t.database} | ${t.completedPerSecond.toFixed(0)} | ${t.completed} | ${t.non2xx} | ${t.errors} | ${t.timeouts} | ${t.latencyP50Ms} ms | ${t.latencyP99Ms} ms | ${t.peakRssMiB.toFixed(0)} MiB |`,
    ),
    '',
    `CPU per completed checkout (ms; ${r.machine.cpus} cores give ${r.machine.cpus * 1000} ms of CPU per second in all):`,
    '',
    ...r.throughput.map((t) => cpuLine(t.database, t, r.machine.cpus)),
    '',
    ...sideBySideSection(r.sideBySide, r.machine.cpus),
    '## Database statements per checkout',
    '',
    '| `PAYMENT_CAPTURE` | completed | refused (declined card) | failed (order refused, undone) |',
    '|---|---:|---:|---:|',
    ...Object.entries(r.statements).map(
      ([flow, n]) => `| \`${flow}\` | ${n.completed} | ${n.refused} | ${n.failed} |`,
    ),
    '',
    ...warmHandlerSection(r.warmHandler),
    ...lambdaMemorySection(r.lambdaMemory),
    ...coldStartSection(r.coldStarts),
  ];
  return lines.join('\n');
}

function sideBySideSection({ ours, reference, ratios }: SideBySide, cpus: number): string[] {
  const row = (label: string, a: string, b: string, ratio: number) =>
    `| ${label} | ${a} | ${b} | ${times(ratio)} |`;
  return [
    '## Side by side: our checkout against a minimal reference (PostgreSQL, 20 connections, same run)',
    '',
    'The reference is a Middy handler with a `pg` pool: one insert, the three downstream calls over `node:http` (keep-alive), no saga, no validation beyond the JSON parse; served through the same local gateway, in its own process, with the same environment and the same load.',
    '',
    '| | ours | reference | ours / reference |',
    '|---|---:|---:|---:|',
    row(
      'completed/s',
      ours.completedPerSecond.toFixed(0),
      reference.completedPerSecond.toFixed(0),
      ratios.completedPerSecond,
    ),
    row(
      'server CPU per checkout',
      `${ms(serverCpuMs(ours))} ms`,
      `${ms(serverCpuMs(reference))} ms`,
      ratios.serverCpuMsPerCheckout,
    ),
    row(
      'total CPU per checkout (server, WireMock, PostgreSQL, load generator)',
      `${ms(totalCpuMs(ours))} ms`,
      `${ms(totalCpuMs(reference))} ms`,
      ratios.totalCpuMsPerCheckout,
    ),
    row(
      'latency p50',
      `${ours.latencyP50Ms} ms`,
      `${reference.latencyP50Ms} ms`,
      ratios.latencyP50,
    ),
    row(
      'latency p99',
      `${ours.latencyP99Ms} ms`,
      `${reference.latencyP99Ms} ms`,
      ratios.latencyP99,
    ),
    row(
      'completed / errors + non-2xx + timeouts',
      `${ours.completed} / ${ours.errors + ours.non2xx + ours.timeouts}`,
      `${reference.completed} / ${reference.errors + reference.non2xx + reference.timeouts}`,
      Number.NaN,
    ),
    row(
      'WAL flushes per checkout (commits: ours 4, reference 1)',
      ms(ours.walFlushesPerCheckout ?? Number.NaN),
      ms(reference.walFlushesPerCheckout ?? Number.NaN),
      (ours.walFlushesPerCheckout ?? Number.NaN) / (reference.walFlushesPerCheckout ?? Number.NaN),
    ),
    row(
      'server peak RSS',
      `${ours.peakRssMiB.toFixed(0)} MiB`,
      `${reference.peakRssMiB.toFixed(0)} MiB`,
      ours.peakRssMiB / reference.peakRssMiB,
    ),
    '',
    cpuLine('reference, CPU per completed checkout (ms)', reference, cpus),
    '',
  ];
}

function warmHandlerSection(results: WarmHandlerResult[]): string[] {
  return [
    '## Warm handler in-process (the checkout Lambda handler alone, as bundled, no local gateway; one invocation at a time, after warm-up)',
    '',
    '| Node | database | invocations | CPU per invocation | wall p50 | p99 | RSS | peak RSS | heap used |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map(
      (w) =>
        `| ${w.node} | ${w.database} | ${w.invocations} | ${ms(w.cpuMsPerInvocation)} ms | ${ms(w.wallMsP50)} ms | ${ms(w.wallMsP99)} ms | ${w.rssMiB.toFixed(0)} MiB | ${w.peakRssMiB.toFixed(0)} MiB | ${w.heapUsedMiB.toFixed(0)} MiB |`,
    ),
    '',
  ];
}

function lambdaMemorySection(memory: LambdaMemory | undefined): string[] {
  if (!memory) return [];
  return [
    `## Lambda memory size (${memory.node}, ${memory.database}; arm64, us-east-1, requests included)`,
    '',
    `Estimated from the warm handler: ${ms(memory.cpuMsPerInvocation)} ms of CPU per invocation, stretched by the CPU share a size gets (one vCPU at 1 769 MB), plus ${memory.downstreamWaitMs} ms waiting on the database and the services, which memory does not change. That wait is assumed (four Aurora statements, three real services): here, with WireMock and the Data API double answering at once, it was ${ms(memory.localWaitMs)} ms. Rule: the smallest size with 2 × the peak RSS whose duration is within 10 % of one full vCPU's.`,
    '',
    '| memory | est. duration | $ per million checkouts | |',
    '|---:|---:|---:|---|',
    ...memory.options.map(
      (o) =>
        `| ${o.memoryMb} MB | ${o.estimatedDurationMs.toFixed(1)} ms | $${o.costPerMillionUsd.toFixed(2)} | ${o.memoryMb === memory.recommendedMb ? '**recommended**' : ''} |`,
    ),
    '',
    `Recommended: **${memory.recommendedMb} MB**. ${memory.reason}.`,
    '',
  ];
}

function coldStartSection(coldStarts: ColdStart[]): string[] {
  const nodes = [...new Set(coldStarts.map((c) => c.node))];
  return [
    '## Cold start (bundle as deployed; import in a fresh Node process; `reference` = bare Middy + Data API client, bundled the same way)',
    '',
    "Medians; every round runs every bundle and `node -e 0` on both Nodes, interleaved; children get only `PATH`. _Import_ is the wall time of a fresh process that imports the bundle; _import CPU_ is that process's own user + system time, which moves less with the machine's other work. Target: checkout ≤ 1.10× the reference on Node 22.",
    '',
    ...nodes.flatMap((node) => [
      `### Node ${node}`,
      '',
      '| function | bundle | import | `node -e 0` | ratio to `node -e 0` | ratio to reference | import CPU | CPU ratio to reference |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...coldStarts
        .filter((c) => c.node === node)
        .map(
          (c) =>
            `| ${c.name} | ${(c.bytes / 1024).toFixed(1)} KiB | ${c.importMs.toFixed(1)} ms | ${c.baselineMs.toFixed(1)} ms | ${times(c.ratio)} | ${times(c.referenceRatio)} | ${c.importCpuMs.toFixed(1)} ms | ${times(c.referenceCpuRatio)} |`,
        ),
      '',
    ]),
  ];
}

/** Writes `<dir>/bench-<timestamp>.json` and `.md` (and `latest.*`); returns the paths. */
export function writeResults(r: BenchResults, dir = 'bench-results'): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.startedAt.replace(/[:.]/g, '-');
  const files: string[] = [];
  for (const name of [`bench-${stamp}`, 'latest']) {
    const json = path.join(dir, `${name}.json`);
    const md = path.join(dir, `${name}.md`);
    writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(md, toMarkdown(r));
    files.push(json, md);
  }
  return files;
}
