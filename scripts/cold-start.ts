/**
 * `npm run cold-start`: builds every function as the stack does and measures what a cold start
 * costs, on the machine's Node and on Node 22 (Lambda's `nodejs22.x`, fetched once into
 * `.cache/`, see dev/local/lambda-node.ts): bundle size, and the time to import the bundle in a
 * fresh Node process, as a ratio to `node -e 0` on the same Node and to the reference bundle on
 * the same Node. `reference` is a bare Middy + Data API handler (scripts/bench/reference-handler.ts)
 * bundled the same way: the yardstick to read the ratios against (the target: checkout ≤ 1.10×
 * the reference on Node 22). Medians of RUNS rounds; every round runs every bundle and
 * `node -e 0` once on every Node, in an order that rotates from round to round, so machine
 * noise hits all alike. Each importing child also reports its own CPU time, which moves less
 * with the machine's load than the wall time. Children run with only `PATH` set: extra variables such as `NODE_EXTRA_CA_CERTS` slow
 * `node -e 0` itself and shrink every ratio. Used by `npm run bench` too.
 *
 *   npm run cold-start [RUNS (15)]
 */
import { spawnSync } from 'node:child_process';
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { lambdaNode } from '#dev/local/lambda-node.ts';
import { FUNCTIONS, type FunctionName } from '../infra/bundling.ts';
import { buildEntry, buildFunction } from './build.ts';

export interface ColdStart {
  /** The Node version it was measured on, e.g. `v22.12.0`. */
  node: string;
  name: FunctionName | 'reference';
  bytes: number;
  /** Median wall time of a fresh process that imports the bundle. */
  importMs: number;
  /** Median wall time of `node -e 0` on the same Node, in the same rounds. */
  baselineMs: number;
  /** importMs / baselineMs. */
  ratio: number;
  /** importMs / the reference bundle's importMs on the same Node. */
  referenceRatio: number;
  /**
   * Median CPU (user + system) of the importing process, start-up included, as it reports it:
   * moves less with the machine's other work than the wall time does.
   */
  importCpuMs: number;
  /** importCpuMs / the reference bundle's importCpuMs on the same Node. */
  referenceCpuRatio: number;
}

export interface NodeBinary {
  version: string;
  path: string;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * Runs `node args` with only PATH set: its wall time, and the CPU (user + system, all threads)
 * the child reports on stdout if it prints it (the imports do, `node -e 0` does not).
 */
function timeNode(args: string[], node: string): { wallMs: number; cpuMs: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(node, args, {
    stdio: ['ignore', 'pipe', 'ignore'],
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${node} ${args.join(' ')} failed`);
  return { wallMs, cpuMs: result.stdout ? Number(result.stdout) : Number.NaN };
}

/**
 * The machine's Node and Node 22, each once (by version): on a machine that runs Node 22 itself
 * there is only one.
 */
export function coldStartNodes(): NodeBinary[] {
  const byVersion = new Map<string, string>();
  for (const bin of [process.execPath, lambdaNode()]) {
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (version && !byVersion.has(version)) byVersion.set(version, realpathSync(bin));
  }
  return [...byVersion].map(([version, bin]) => ({ version, path: bin }));
}

/** `rotate([a, b, c], 1)` → `[b, c, a]`. */
const rotate = <T>(items: readonly T[], by: number): T[] =>
  items.map((_, i) => items[(i + by) % items.length] as T);

/** Builds every function and the reference, and measures each on every Node in `nodes`. */
export async function measureColdStarts(
  runs = 15,
  nodes: NodeBinary[] = coldStartNodes(),
  outdir = 'dist',
): Promise<ColdStart[]> {
  const bundles: { name: ColdStart['name']; file: string }[] = [];
  for (const name of [...FUNCTIONS, 'reference' as const]) {
    const built =
      name === 'reference'
        ? await buildEntry('scripts/bench/reference-handler.ts', `${outdir}/reference/index.mjs`)
        : await buildFunction(name, outdir);
    bundles.push({ name, file: path.resolve(built) });
  }
  const importArgs = (file: string) => [
    '--no-warnings',
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(`file://${file}`)}); const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))`,
  ];
  // One round: every bundle and `node -e 0` on every Node, the order rotating from round to round.
  const jobs = nodes.flatMap((node) => [
    { node, bundle: undefined, args: ['-e', '0'] },
    ...bundles.map((bundle) => ({ node, bundle, args: importArgs(bundle.file) })),
  ]);
  for (const job of jobs) timeNode(job.args, job.node.path); // warm the file cache
  const times = new Map<(typeof jobs)[number], { wallMs: number; cpuMs: number }[]>(
    jobs.map((job) => [job, []]),
  );
  for (let round = 0; round < runs; round++) {
    for (const job of rotate(jobs, round % jobs.length)) {
      times.get(job)?.push(timeNode(job.args, job.node.path));
    }
  }
  const medianOf = (job: (typeof jobs)[number] | undefined, of: 'wallMs' | 'cpuMs' = 'wallMs') =>
    median(((job && times.get(job)) ?? []).map((t) => t[of]));
  const results: ColdStart[] = [];
  for (const job of jobs) {
    if (!job.bundle) continue;
    const importMs = medianOf(job);
    const baselineMs = medianOf(jobs.find((j) => j.node === job.node && !j.bundle));
    results.push({
      node: job.node.version,
      name: job.bundle.name,
      bytes: statSync(job.bundle.file).size,
      importMs,
      baselineMs,
      ratio: importMs / baselineMs,
      referenceRatio: Number.NaN,
      importCpuMs: medianOf(job, 'cpuMs'),
      referenceCpuRatio: Number.NaN,
    });
  }
  for (const result of results) {
    const reference = results.find((r) => r.node === result.node && r.name === 'reference');
    result.referenceRatio = result.importMs / (reference?.importMs ?? Number.NaN);
    result.referenceCpuRatio = result.importCpuMs / (reference?.importCpuMs ?? Number.NaN);
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await measureColdStarts(Number(process.argv[2] ?? 15));
  console.log(
    'node       function    bundle KiB   import ms   node -e 0 ms   ratio   vs reference   import CPU ms   vs reference',
  );
  for (const r of results) {
    console.log(
      `${r.node.padEnd(10)} ${r.name.padEnd(11)} ${(r.bytes / 1024).toFixed(1).padStart(10)} ${r.importMs.toFixed(1).padStart(11)} ${r.baselineMs.toFixed(1).padStart(14)} ${r.ratio.toFixed(2).padStart(6)}× ${r.referenceRatio.toFixed(2).padStart(13)}× ${r.importCpuMs.toFixed(1).padStart(15)} ${r.referenceCpuRatio.toFixed(2).padStart(13)}×`,
    );
  }
}
