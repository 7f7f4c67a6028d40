import { ConfigError } from '#lib/config.ts';
import { type DataFolderInUse, describeOwner } from './data-folder-lock.ts';
import { isPortFree, portHolder } from './port-holder.ts';
import { DEFAULT_PORTS, type ServiceName, wireMockJar } from './wiremock-process.ts';

/**
 * What `npm start` checks before it starts anything (Java, the database), each failure as a
 * message that says what to do. The service's own variables are checked by `loadConfig`.
 */

export interface StartSettings {
  /** The local twin of the recovery schedule (RECOVERY_INTERVAL_MS). */
  recoveryIntervalMs: number;
  /** Where each WireMock listens (WIREMOCK_BASE_PORT and the next two; 0: free ports). */
  wireMockPorts: Record<ServiceName, number>;
}

/** The start script's own variables, or a `ConfigError` naming each bad one and its value. */
export function startSettings(env: NodeJS.ProcessEnv): StartSettings {
  const problems: string[] = [];
  const wholeNumber = (name: string, fallback: number, min: number, max: number) => {
    const value = env[name];
    if (value === undefined) return fallback;
    const number = Number(value);
    if (value.trim() === '' || !Number.isInteger(number) || number < min || number > max) {
      problems.push(
        `${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
      );
    }
    return number;
  };
  const recoveryIntervalMs = wholeNumber('RECOVERY_INTERVAL_MS', 30_000, 100, 86_400_000);
  const base = wholeNumber('WIREMOCK_BASE_PORT', DEFAULT_PORTS.payment, 0, 65_533);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return {
    recoveryIntervalMs,
    wireMockPorts: { payment: base, inventory: base && base + 1, order: base && base + 2 },
  };
}

/** A port the start script is about to listen on, and what it is for. */
export interface WantedPort {
  port: number;
  host: string;
  /** E.g. `APP_PORT`, `payment WireMock`. */
  purpose: string;
}

/**
 * Which of the ports are taken, and by what; undefined when all are free. A WireMock of this
 * project on one of them was left by an `npm start` that was killed: it is named, not reused
 * (its stubs and journal may not be what this run expects).
 */
export async function takenPortsProblem(wanted: WantedPort[]): Promise<string | undefined> {
  const jar = wireMockJar();
  const lines: string[] = [];
  const pids: number[] = [];
  for (const { port, host, purpose } of wanted) {
    if (port === 0 || (await isPortFree(host, port))) continue;
    const holder = portHolder(port);
    if (!holder) {
      lines.push(`  port ${port} (${purpose}): taken by a process that cannot be identified`);
      continue;
    }
    pids.push(holder.pid);
    const what = holder.command.includes(jar)
      ? 'a WireMock of this project, left running by an earlier run that was killed'
      : holder.command.slice(0, 120);
    lines.push(`  port ${port} (${purpose}): pid ${holder.pid}, ${what}`);
  }
  if (lines.length === 0) return undefined;
  const advice =
    pids.length > 0
      ? `Stop them (kill ${[...new Set(pids)].join(' ')}) and start again, or choose other ports`
      : 'Choose other ports';
  return [
    'npm start cannot start: ports it needs are taken.',
    ...lines,
    `${advice}: APP_PORT=..., WIREMOCK_BASE_PORT=... (the WireMocks take it and the next two).`,
  ].join('\n');
}

/** What a second `npm start` on a folder in use says. */
export function folderInUseMessage({ dataDir, owner }: DataFolderInUse): string {
  const stop =
    owner.command === 'npm start'
      ? `Use that one, or stop it first (Ctrl-C in its terminal, or kill ${owner.pid}).`
      : `Wait for it to finish, or stop it (kill ${owner.pid}).`;
  return [
    `npm start cannot start: the data folder ${dataDir} is in use by ${describeOwner(owner)}.`,
    stop,
    'A second instance needs a folder and ports of its own, e.g.',
    '  PGLITE_DATA_DIR=.data/second APP_PORT=8006 WIREMOCK_BASE_PORT=9081 npm start',
  ].join('\n');
}
