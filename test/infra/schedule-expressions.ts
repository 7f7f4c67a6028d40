const MINUTES_PER = { minute: 1, hour: 60, day: 1440 } as const;

/**
 * A lower bound of the minutes between two runs of an EventBridge rule or Scheduler schedule
 * expression: `rate(…)` exactly; `cron(…)` 60 when its minute field is one number (it can fire
 * at most once an hour), else 0 (it may fire more often); `at(…)` runs once (Infinity).
 */
export function shortestIntervalMinutes(expression: string): number {
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return Number(rate[1]) * MINUTES_PER[rate[2] as keyof typeof MINUTES_PER];
  const cron = /^cron\((\S+) \S+ \S+ \S+ \S+ \S+\)$/.exec(expression);
  if (cron) return /^\d{1,2}$/.test(cron[1] as string) ? 60 : 0;
  if (/^at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)$/.test(expression)) return Number.POSITIVE_INFINITY;
  throw new Error(`not a schedule expression: ${expression}`);
}
