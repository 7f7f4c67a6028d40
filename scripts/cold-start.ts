/**
 * `npm run cold-start`: builds every function as the stack does and measures what a cold start
 * costs: bundle size, and the time to import the bundle in a fresh Node process as a ratio to
 * `node -e 0` measured in the same run (median of RUNS each, interleaved so machine noise hits
 * both alike). `reference` is a bare Middy + Data API handler bundled the same way: the
 * yardstick to read the ratios against. Used by `npm run bench` too.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { FUNCTIONS, type FunctionName } from '../infra/bundling.ts';
import { buildEntry, buildFunction } from './build.ts';

export interface ColdStart {
  name: FunctionName | 'reference';
  bytes: number;
  importMs: number;
  baselineMs: number;
  ratio: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

function timeNode(args: string[], node: string): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(node, args, { stdio: 'ignore', env: { PATH: process.env.PATH } });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Builds and measures every function; `node` defaults to the Node running this script. */
export async function measureColdStarts(
  runs = 15,
  node = process.execPath,
  outdir = 'dist',
): Promise<ColdStart[]> {
  const results: ColdStart[] = [];
  const reference = () =>
    buildEntry('scripts/bench/reference-handler.ts', `${outdir}/reference/index.mjs`);
  for (const name of [...FUNCTIONS, 'reference' as const]) {
    const built = name === 'reference' ? await reference() : await buildFunction(name, outdir);
    const file = path.resolve(built);
    const importArgs = [
      '--no-warnings',
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(`file://${file}`)})`,
    ];
    timeNode(importArgs, node); // warm the file cache
    const baseline: number[] = [];
    const imported: number[] = [];
    for (let i = 0; i < runs; i++) {
      baseline.push(timeNode(['-e', '0'], node));
      imported.push(timeNode(importArgs, node));
    }
    const baselineMs = median(baseline);
    const importMs = median(imported);
    results.push({
      name,
      bytes: statSync(file).size,
      importMs,
      baselineMs,
      ratio: importMs / baselineMs,
    });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await measureColdStarts(Number(process.argv[2] ?? 15));
  console.log('function    bundle KiB   import ms   node -e 0 ms   ratio');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(11)} ${(r.bytes / 1024).toFixed(1).padStart(10)} ${r.importMs.toFixed(1).padStart(11)} ${r.baselineMs.toFixed(1).padStart(14)} ${r.ratio.toFixed(2).padStart(7)}×`,
    );
  }
}
