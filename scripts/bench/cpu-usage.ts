import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system) a process has used so far, from /proc; 0 once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return 0;
  }
}

/** The PostgreSQL server's processes on this machine (none when it is not running). */
export function postgresPids(): number[] {
  try {
    return execFileSync('pgrep', ['-x', 'postgres'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * Measures the CPU time each group of processes spends while `work` runs; the load generator
 * is this process. Shows where a 2-core machine's time goes, and so what bounds throughput.
 */
export async function cpuDuring<T>(
  groups: Record<string, number[]>,
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const total = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, total(pids)]),
  );
  const self = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(self);
  const cpu: Record<string, number> = {};
  for (const [name, pids] of Object.entries(groups)) cpu[name] = total(pids) - (before[name] ?? 0);
  cpu['load generator'] = (used.user + used.system) / 1e6;
  return { result, cpuSeconds: cpu };
}
