/**
 * `npm run chaos -- --runs N --seed S [--db pglite|postgres] [--traces K] [--seeds a,b,c]`: the fault-injection
 * harness. Each scenario (seed S, S+1, ...) runs concurrent checkouts through the real handlers
 * against a strict simulator of the payment, inventory and order services that injects faults
 * from the seed (plus killed processes, racing recovery runs and, with `--db postgres`, database
 * crashes), drives recovery to quiescence and checks the services' ledgers. Prints progress,
 * faults by kind, violations by kind and each failing seed with a replayable trace (the first
 * K in full, default 5); exits non-zero on any violation. `--seed S --runs 1` replays one and
 * prints its trace, violation or not.
 */
import { parseArgs } from 'node:util';
import { formatFailure, formatSummary } from '../test/chaos/report.ts';
import { runChaos } from '../test/chaos/run-chaos.ts';
import type { ScenarioResult } from '../test/chaos/scenario.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    db: { type: 'string', default: 'pglite' },
    traces: { type: 'string', default: '5' },
    // A list of seeds to run instead (`--seeds 3,17,42`): the failing seeds of a run, replayed.
    seeds: { type: 'string' },
  },
});
const list = values.seeds?.split(',').map(Number);
const runs = list ? list.length : Number(values.runs);
const seed = list?.[0] ?? Number(values.seed);
const traces = Number(values.traces);
const db = values.db;
if (
  !Number.isInteger(runs) ||
  runs < 1 ||
  !Number.isInteger(seed) ||
  !Number.isInteger(traces) ||
  list?.some((s) => !Number.isInteger(s))
) {
  console.error('usage: npm run chaos -- --runs N --seed S [--db pglite|postgres] [--traces K]');
  process.exit(2);
}
if (db !== 'pglite' && db !== 'postgres') {
  console.error(`--db must be pglite or postgres, not ${db}`);
  process.exit(2);
}

console.log(`chaos: ${runs} scenario(s) from seed ${seed}, database ${db}`);
const started = performance.now();
let failures = 0;
let last: ScenarioResult | undefined;
const every = Math.max(1, Math.round(runs / 20));
const report = await runChaos({
  runs,
  seed,
  ...(list ? { seeds: list } : {}),
  db,
  onScenario(result, done, print) {
    last = result;
    if (result.report.violations.length > 0 || result.harnessErrors.length > 0) failures++;
    if (done % every === 0 || done === runs) {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      print(
        `  [${String(done).padStart(String(runs).length)}/${runs}] ${seconds} s, failing scenarios ${failures}`,
      );
    }
  },
});
console.log('');
for (const line of formatSummary(report)) console.log(line);
for (const failure of report.failing.slice(0, traces)) {
  console.log('');
  for (const line of formatFailure(failure, db)) console.log(line);
}
if (runs === 1 && report.failing.length === 0 && last) {
  console.log('');
  for (const line of formatFailure(last, db)) console.log(line);
}
if (report.failing.length > traces) {
  console.log(`\n(${report.failing.length - traces} more failing seeds; --traces N prints more)`);
}
console.log(report.failing.length === 0 ? '\nOK: no violation' : '\nFAILED');
process.exit(report.failing.length === 0 ? 0 : 1);
