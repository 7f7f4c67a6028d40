import { ConfigError } from '#lib/config.ts';
import { type DataFolderInUse, describeOwner, runningOwner } from './data-folder-lock.ts';
import { isPortFree, type PortHolder, portHolder } from './port-holder.ts';
import { processInfo } from './process-running.ts';
import { readWireMockBasePort, wireMockPortsFrom } from './service-urls.ts';
import { type ServiceName, wireMockJar } from './wiremock-process.ts';

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
  const base = readWireMockBasePort(env, problems);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  return { recoveryIntervalMs, wireMockPorts: wireMockPortsFrom(base) };
}

/** A port the start script is about to listen on, and what it is for. */
export interface WantedPort {
  port: number;
  host: string;
  /** E.g. `APP_PORT`, `payment WireMock`. */
  purpose: string;
}

/** How `npm start` runs (`tsx scripts/start.ts`, or `node --import tsx scripts/start.ts`). */
const START_SCRIPT = /(^|[\s/])scripts\/start\.ts(\s|$)/;

/** Who holds a taken port, as far as the advice goes. */
type Holding =
  /** A running `npm start` (the server itself or one of its WireMocks): never to be killed. */
  | { kind: 'live start'; pid: number; what: string }
  /** A WireMock of this project whose starter still runs (a test run, a benchmark). */
  | { kind: 'live other'; pid: number; what: string }
  /** A WireMock of this project whose `npm start` is gone, or a process of something else. */
  | { kind: 'stoppable'; pid: number; what: string }
  | { kind: 'unknown'; what: string };

/**
 * Which of the ports are taken, and by what; undefined when all are free. A running `npm
 * start` (the server, or a WireMock whose parent is one) is named, with how to use or stop it,
 * never killed: killing its WireMocks would only break it. A WireMock of this project whose
 * `npm start` is gone was left by one that was killed: it is named, not reused (its stubs and
 * journal may not be what this run expects), and may be killed. The lock files in `lockDirs`
 * give a running `npm start`'s URL.
 */
export async function takenPortsProblem(
  wanted: WantedPort[],
  lockDirs: string[] = ['.data'],
): Promise<string | undefined> {
  const jar = wireMockJar();
  const lines: string[] = [];
  const holdings: Holding[] = [];
  const appUrls = new Map<number, string>();
  for (const { port, host, purpose } of wanted) {
    if (port === 0 || (await isPortFree(host, port))) continue;
    const holder = portHolder(port);
    const holding = holder ? classify(holder, jar) : undefined;
    holdings.push(holding ?? { kind: 'unknown', what: '' });
    if (!holding) {
      lines.push(`  port ${port} (${purpose}): taken by a process that cannot be identified`);
      continue;
    }
    if (holding.kind === 'live start' && holder?.pid === holding.pid) {
      appUrls.set(holding.pid, `http://${host.includes(':') ? `[${host}]` : host}:${port}`);
    }
    lines.push(`  port ${port} (${purpose}): ${holding.what}`);
  }
  if (lines.length === 0) return undefined;

  const advice: string[] = [];
  const pidsOf = (kind: Holding['kind']) => [
    ...new Set(holdings.flatMap((h) => (h.kind === kind && 'pid' in h ? [h.pid] : []))),
  ];
  for (const pid of pidsOf('live start')) {
    const url = appUrls.get(pid) ?? runningOwner(pid, lockDirs)?.url;
    advice.push(
      `Another \`npm start\` (pid ${pid}${url ? `, ${url}` : ''}) is running on these ports: use it, ` +
        'or stop it (Ctrl-C in its terminal) and start this one again.',
    );
  }
  const others = pidsOf('live other');
  if (others.length > 0) {
    advice.push(
      `Their WireMocks belong to pid ${others.join(', ')}, which is running: let it finish, or stop it.`,
    );
  }
  const stoppable = pidsOf('stoppable');
  if (stoppable.length > 0) advice.push(`Stop them (kill ${stoppable.join(' ')}) and start again.`);
  return [
    'npm start cannot start: ports it needs are taken.',
    ...lines,
    ...advice,
    `${advice.length > 0 ? 'Or choose' : 'Choose'} other ports for this one: APP_PORT=..., ` +
      'WIREMOCK_BASE_PORT=... (the WireMocks take it and the next two), e.g.',
    '  APP_PORT=8006 WIREMOCK_BASE_PORT=9081 npm start',
  ].join('\n');
}

/** What holds a port: a running `npm start`, one of its WireMocks, a leftover, or another process. */
function classify(holder: PortHolder, jar: string): Holding {
  const start = startAncestor(holder.pid);
  const isWireMock = holder.command.includes(jar);
  if (start !== undefined) {
    return {
      kind: 'live start',
      pid: start,
      what:
        start === holder.pid
          ? `another \`npm start\` (pid ${start}), which is running`
          : `pid ${holder.pid}, a WireMock of another \`npm start\` (pid ${start}), which is running`,
    };
  }
  if (isWireMock) {
    // Its starter, unless it was orphaned (adopted by init or a subreaper, which is no Node).
    const parent = processInfo(holder.pid)?.ppid;
    const starter = parent !== undefined && parent > 1 ? processInfo(parent) : undefined;
    if (parent !== undefined && starter && /^(\S*\/)?node(\s|$)/.test(starter.command)) {
      return {
        kind: 'live other',
        pid: parent,
        what: `pid ${holder.pid}, a WireMock of this project run by pid ${parent} (${starter.command.slice(0, 80)})`,
      };
    }
    return {
      kind: 'stoppable',
      pid: holder.pid,
      what: `pid ${holder.pid}, a WireMock of this project, left running by an \`npm start\` that was killed`,
    };
  }
  return {
    kind: 'stoppable',
    pid: holder.pid,
    what: `pid ${holder.pid}, ${holder.command.slice(0, 120)}`,
  };
}

/** The `npm start` process this one is or descends from (a WireMock's parent), if any. */
function startAncestor(pid: number): number | undefined {
  for (let current = pid, depth = 0; current > 1 && depth < 4; depth++) {
    const info = processInfo(current);
    if (!info) return undefined;
    if (START_SCRIPT.test(info.command)) return current;
    current = info.ppid;
  }
  return undefined;
}

/** What a second `npm start` on a folder in use says. */
export function folderInUseMessage({ dataDir, owner }: DataFolderInUse): string {
  const stop =
    owner.command === 'npm start'
      ? 'Use that one, or stop it first (Ctrl-C in its terminal).'
      : `Wait for it to finish, or stop it (kill ${owner.pid}).`;
  return [
    `npm start cannot start: the data folder ${dataDir} is in use by ${describeOwner(owner)}.`,
    stop,
    'A second instance needs a folder and ports of its own, e.g.',
    '  PGLITE_DATA_DIR=.data/second APP_PORT=8006 WIREMOCK_BASE_PORT=9081 npm start',
  ].join('\n');
}
