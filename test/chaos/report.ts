import { WEBHOOK_FAULT_KIND } from './async-plan.ts';
import type { FaultKind } from './fault-schedule.ts';
import type { ChaosReport } from './run-chaos.ts';
import type { ScenarioResult } from './scenario.ts';

const counts = (record: Record<string, number>) => {
  const entries = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  return `${total}${entries.length ? `: ${entries.map(([k, n]) => `${k} ${n}`).join(', ')}` : ''}`;
};

/** Every kind of fault the harness injects, listed even when a run injected none of it. */
const FAULT_KINDS: readonly (
  | FaultKind
  | 'external_undo'
  | 'lookups_keep_failing'
  | 'catalog_outage'
  | 'creation_answer_lost'
  | (typeof WEBHOOK_FAULT_KIND)[keyof typeof WEBHOOK_FAULT_KIND]
)[] = [
  'refusal',
  '5xx_before',
  '5xx_after',
  'delay',
  'reset_before',
  'reset_after',
  'garbled',
  'duplicate_answer',
  'unreachable',
  'misquote',
  'authorization_expired',
  'catalog_outage',
  'external_undo',
  'lookups_keep_failing',
  // Pix and boleto (async-scenario.ts): a creation acted but its answer lost, and the webhooks
  'creation_answer_lost',
  ...Object.values(WEBHOOK_FAULT_KIND),
];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** The run's figures: scenarios, checkouts, faults and violations by kind, time per scenario. */
export function formatSummary(report: ChaosReport): string[] {
  const { stats, options } = report;
  const sorted = [...report.durationsMs].sort((a, b) => a - b);
  const ms = (v: number) => `${Math.round(v)} ms`;
  const lines = [
    `scenarios         ${report.scenarios} (seeds ${options.seed}..${options.seed + options.runs - 1}, db ${options.db})`,
    `  with            ${stats.kills} killed processes, ${stats.crashes} database crashes, ${stats.sameKeyRetries} same-key retries, ${stats.recoveryRuns} recovery runs, ${stats.undosBeforeRetries + stats.undosBetweenRounds} stuck checkouts undone by an operator (${stats.undosBeforeRetries} before the retries, ${stats.undosBetweenRounds} between quiescence rounds)`,
    `checkouts         ${counts(report.checkouts)}`,
    `  by payment      ${counts(report.checkoutsByFlow).replace(/^\d+: /, '')}`,
    `PAYMENT_CAPTURE   traffic under after_order in ${stats.afterOrderScenarios} scenarios, immediate in ${stats.immediateScenarios}; changed before the lease-expired retries and recovery in ${stats.captureChanges}; the child process under the other setting in ${stats.childOtherCapture}; paid by token in ${stats.tokenScenarios}`,
    `Pix and boleto    ${stats.asyncScenarios} scenarios, ${stats.pixCheckouts} Pix and ${stats.boletoCheckouts} boleto checkouts, ${stats.customerPayments} paid by their customer (${stats.latePayments} late), ${stats.webhooksSent} signed webhooks delivered`,
    `requests          ${counts(report.requests)}`,
    `faults injected   ${counts({ ...Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])), ...report.faults })}`,
    `  on              ${counts(report.faultTargets).replace(/^\d+: /, '')}`,
    `requires_attention ${counts(report.attention)} (by undo_failures; unexplained ones are violations)`,
    ...Object.entries(report.attentionSeeds)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, seeds]) => `  ${key}: seeds ${seeds.join(' ')}`),
    `pricing           answers 409 price_changed ${stats.priceChangedAnswers}, 422 unknown_product ${stats.unknownProductAnswers}, 503 pricing_unavailable ${stats.pricingUnavailableAnswers}; ${stats.priceCorrections} resent with the current prices; ${stats.priceChanges} catalog price changes before a lease-expired retry (${stats.priceChangesAfterRecording} on a checkout already recorded, ${stats.priceChangeResumes} of them unfinished and resumed by that retry)`,
    `card data search  ${stats.logLines} log lines, every checkout row, every request but the charges and authorizations; the CPF of every Pix and boleto in every log line`,
    `violations        ${counts(report.violations)}`,
    `time per scenario median ${ms(percentile(sorted, 0.5))}, p95 ${ms(percentile(sorted, 0.95))}, max ${ms(sorted.at(-1) ?? 0)}, total ${(sorted.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s`,
  ];
  if (report.failing.length > 0) {
    lines.push(`failing seeds     ${report.failing.map((f) => f.plan.seed).join(' ')}`);
  }
  return lines;
}

/** One failing scenario: its violations, then its replayable trace. */
export function formatFailure(result: ScenarioResult, db: string): string[] {
  return [
    `--- seed ${result.plan.seed}: replay with  npm run chaos -- --seed ${result.plan.seed} --runs 1 --db ${db}`,
    ...result.report.violations.map(
      (v) =>
        `  VIOLATION ${v.kind}${v.checkout === undefined ? '' : ` (c${v.checkout})`}: ${v.message}`,
    ),
    ...result.harnessErrors.map((e) => `  HARNESS ERROR: ${e}`),
    ...result.report.attention.map(
      (a) => `  requires_attention c${a.checkout} [${a.undoFailures}]: ${a.discrepancy}`,
    ),
    '  trace:',
    ...result.trace.map((line) => `    ${line}`),
  ];
}
