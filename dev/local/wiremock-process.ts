import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'payment' | 'inventory' | 'order';
export const SERVICES: readonly ServiceName[] = ['payment', 'inventory', 'order'];

/** The seed's ports; tests pass 0 to take free ones. */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  payment: 8081,
  inventory: 8082,
  order: 8083,
};

const MAPPINGS_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../wiremock');

export interface RunningWireMocks {
  urls: Record<ServiceName, string>;
  pids: number[];
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
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    const urls = {} as Record<ServiceName, string>;
    for (const service of SERVICES) {
      const port = ports[service] || (await freePort());
      const child = spawn(
        'java',
        [
          '-XX:TieredStopAtLevel=1',
          '-jar',
          jar,
          '--port',
          String(port),
          '--bind-address',
          '127.0.0.1',
          '--root-dir',
          rootDir(service),
          '--disable-banner',
          '--async-response-enabled',
          'true',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      children.push(child);
      urls[service] = `http://127.0.0.1:${port}`;
    }
    await Promise.all(SERVICES.map((s, i) => waitUntilUp(urls[s], children[i] as ChildProcess)));
    return {
      urls,
      pids: children.map((c) => c.pid as number),
      async stop() {
        process.removeListener('exit', killAll);
        await Promise.all(children.map(stopChild));
      },
    };
  } catch (error) {
    killAll();
    throw error;
  }
}

async function waitUntilUp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`WireMock at ${url} exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/__admin/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`WireMock at ${url} did not start within ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
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
