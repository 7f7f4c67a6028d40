/** Nearest-rank percentile of `values` (0–100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

export const percentiles = (values: readonly number[]): Percentiles => ({
  p50: percentile(values, 50),
  p90: percentile(values, 90),
  p99: percentile(values, 99),
});

/** `handler;dur=1.2, downstream;dur=0.8` → { handler: 1.2, downstream: 0.8 } */
export function parseServerTiming(header: string | null): Record<string, number> {
  const timings: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /^\s*([\w-]+)\s*;\s*dur=([\d.]+)/.exec(part);
    if (match) timings[match[1] as string] = Number(match[2]);
  }
  return timings;
}
