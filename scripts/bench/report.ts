import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ColdStart } from '../cold-start.ts';
import type { OverheadResult } from './overhead.ts';
import type { StatementCounts } from './statements.ts';
import type { ThroughputResult } from './throughput.ts';

export interface BenchResults {
  startedAt: string;
  machine: { cpus: number; node: string };
  overhead: OverheadResult[];
  throughput: ThroughputResult[];
  statements: StatementCounts;
  coldStarts: ColdStart[];
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');

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
    '## Throughput (seed checkouts, 20 connections)',
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
    ...r.throughput.map(
      (t) =>
        `- ${t.database}: ${Object.entries(t.cpuMsPerCheckout)
          .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
          .join(', ')}; total ${Object.values(t.cpuMsPerCheckout)
          .reduce((a, b) => a + b, 0)
          .toFixed(
            2,
          )} → at most ${(2000 / Object.values(t.cpuMsPerCheckout).reduce((a, b) => a + b, 0)).toFixed(0)} checkouts/s`,
    ),
    '',
    '## Database statements per checkout',
    '',
    '| completed | refused (declined card) | failed (order refused, undone) |',
    '|---:|---:|---:|',
    `| ${r.statements.completed} | ${r.statements.refused} | ${r.statements.failed} |`,
    '',
    '## Cold start (bundle as deployed; import in a fresh Node process; `reference` = bare Middy + Data API client)',
    '',
    '| function | bundle | import | `node -e 0` | ratio |',
    '|---|---:|---:|---:|---:|',
    ...r.coldStarts.map(
      (c) =>
        `| ${c.name} | ${(c.bytes / 1024).toFixed(1)} KiB | ${c.importMs.toFixed(1)} ms | ${c.baselineMs.toFixed(1)} ms | ${c.ratio.toFixed(2)}× |`,
    ),
    '',
  ];
  return lines.join('\n');
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
