import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isPortFree } from './port-holder.ts';
import { DEFAULT_WIREMOCK_BASE_PORT, wireMockPortsFrom, wireMockUrl } from './service-urls.ts';

export type ServiceName = 'payment' | 'inventory' | 'order';
export const SERVICES: readonly ServiceName[] = ['payment', 'inventory', 'order'];

/** The seed's ports (WIREMOCK_BASE_PORT's default and the next two); tests pass 0 to take free ones. */
export const DEFAULT_PORTS: Record<ServiceName, number> = wireMockPortsFrom(
  DEFAULT_WIREMOCK_BASE_PORT,
);

const MAPPINGS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../wiremock');

/** A WireMock that ended by itself (not stopped by `stop()`), once it had answered. */
export interface WireMockExit {
  service: ServiceName;
  pid: number;
  url: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last of what it wrote (stdout and stderr), '' when nothing. */
  output: string;
}

export interface RunningWireMocks {
  urls: Record<ServiceName, string>;
  /** Each service's current process, in `SERVICES` order. */
  readonly pids: number[];
  /** Calls `listener` whenever a WireMock that was up ends by itself. */
  onExit(listener: (exit: WireMockExit) => void): void;
  /** Starts the service's WireMock again, on the same port from the same root dir; its pid once it answers. */
  restart(service: ServiceName): Promise<number>;
  stop(): Promise<void>;
}

/** Whether a Java runtime is on the PATH (WireMock's jar needs Java 11+). */
export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

/** The WireMock standalone jar shipped inside the npm `wiremock` package. */
export function wireMockJar(): string {
  const dir = path.join(
    path.dirname(createRequire(import.meta.url).resolve('wiremock/package.json')),
    'build',
  );
  const jar = readdirSync(dir).find((f) => /^wiremock-standalone-.*\.jar$/.test(f));
  if (!jar) throw new Error(`no WireMock jar in ${dir}`);
  return path.join(dir, jar);
}

interface WireMockChild {
  child: ChildProcess;
  url: string;
  /** Set once it answered: an end before that is the start failing, not a death. */
  up: boolean;
  output: () => string;
}

/**
 * Starts one WireMock per service from `wiremock/<service>` (or `rootDir(service)`) and waits
 * until each answers.
 * Every process is killed by `stop()` and, as a last resort, when this process exits.
 */
export async function startWireMocks(
  ports: Record<ServiceName, number> = DEFAULT_PORTS,
  rootDir: (service: ServiceName) => string = (service) => path.join(MAPPINGS_ROOT, service),
): Promise<RunningWireMocks> {
  const jar = wireMockJar();
  const running = new Map<ServiceName, WireMockChild>();
  const listeners: ((exit: WireMockExit) => void)[] = [];
  let stopping = false;
  const killAll = () => {
    for (const { child } of running.values()) child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const launch = (service: ServiceName, url: string): WireMockChild => {
    const child = spawn(
      'java',
      [
        '-XX:TieredStopAtLevel=1',
        '-jar',
        jar,
        '--port',
        new URL(url).port,
        '--bind-address',
        '127.0.0.1',
        '--root-dir',
        rootDir(service),
        '--disable-banner',
        '--async-response-enabled',
        'true',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const entry: WireMockChild = { child, url, up: false, output: keepTail(child) };
    running.set(service, entry);
    child.once('exit', (code, signal) => {
      if (stopping || !entry.up || running.get(service) !== entry) return;
      const exit = { service, pid: child.pid as number, url, code, signal, output: entry.output() };
      for (const listener of listeners) listener(exit);
    });
    return entry;
  };

  try {
    const urls = {} as Record<ServiceName, string>;
    for (const service of SERVICES) {
      urls[service] = wireMockUrl(ports[service] || (await freePort()));
      launch(service, urls[service]);
    }
    await Promise.all(
      SERVICES.map((service) => waitUntilUp(running.get(service) as WireMockChild)),
    );
    return {
      urls,
      get pids() {
        return SERVICES.map((service) => running.get(service)?.child.pid as number);
      },
      onExit(listener) {
        listeners.push(listener);
      },
      async restart(service) {
        const entry = launch(service, urls[service]);
        try {
          await waitUntilUp(entry);
        } catch (error) {
          entry.child.kill('SIGKILL');
          throw error;
        }
        return entry.child.pid as number;
      },
      async stop() {
        stopping = true;
        process.removeListener('exit', killAll);
        await Promise.all([...running.values()].map(({ child }) => stopChild(child)));
      },
    };
  } catch (error) {
    stopping = true;
    killAll();
    throw error;
  }
}

/** Reads what the process writes (a full pipe would block it), keeping the last 4 000 characters. */
function keepTail(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail.trim();
}

async function waitUntilUp(entry: WireMockChild, timeoutMs = 60_000): Promise<void> {
  const { child, url } = entry;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`WireMock at ${url} exited: ${entry.output()}`);
    }
    try {
      const res = await fetch(`${url}/__admin/health`);
      if (res.ok) {
        entry.up = true;
        return;
      }
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`WireMock at ${url} did not start within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
  });
}

/** A port the OS says is free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The first of `count` consecutive ports free right now (for WIREMOCK_BASE_PORT and the next two). */
export async function freePortRun(count = 3): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count > 65_535) continue;
    const next = await Promise.all(
      Array.from({ length: count - 1 }, (_, i) => isPortFree('127.0.0.1', base + i + 1)),
    );
    if (next.every(Boolean)) return base;
  }
}
