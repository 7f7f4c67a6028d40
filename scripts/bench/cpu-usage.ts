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

/** A group's processes: fixed ids, or a function that lists them (called before and after). */
export type ProcessGroup = number[] | (() => number[]);

/**
 * Measures the CPU time each group of processes spends while `work` runs; the load generator
 * is this process. Shows where a 2-core machine's time goes, and so what bounds throughput.
 * A group given as a function is listed again afterwards, so that processes started during
 * the run count too (PostgreSQL forks a backend for each new pool connection).
 */
export async function cpuDuring<T>(
  groups: Record<string, ProcessGroup>,
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: Record<string, number> }> {
  const list = (group: ProcessGroup) => (typeof group === 'function' ? group() : group);
  const before = new Map<string, Map<number, number>>(
    Object.entries(groups).map(([name, group]) => [
      name,
      new Map(list(group).map((pid) => [pid, cpuSeconds(pid)])),
    ]),
  );
  const self = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(self);
  const cpu: Record<string, number> = {};
  for (const [name, group] of Object.entries(groups)) {
    const start = before.get(name) ?? new Map<number, number>();
    let total = 0;
    for (const pid of new Set([...start.keys(), ...list(group)])) {
      // A process gone by now reads 0: what it spent during the run is lost, never negative.
      total += Math.max(0, cpuSeconds(pid) - (start.get(pid) ?? 0));
    }
    cpu[name] = total;
  }
  cpu['load generator'] = (used.user + used.system) / 1e6;
  return { result, cpuSeconds: cpu };
}
