import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { folderOwner, lockFileOf } from '#dev/local/data-folder-lock.ts';
import { isRunning } from '#dev/local/process-running.ts';
import { freePort, freePortRun } from '#dev/local/wiremock-process.ts';
import { seedRequest } from '../../scripts/seed-request.ts';
import { startSharedDatabase } from '../support/shared-database.ts';

/*
 * `npm start` as a user runs it, in a child process: what it refuses before starting anything,
 * that a SIGTERM to `npm` stops every process it started, that the ports of a running instance
 * are told from WireMocks left by a killed one (named rather than reused), and what it does
 * when one of its WireMocks dies. Each instance takes free ports and a folder of its own.
 */

const root = mkdtempSync(path.join(tmpdir(), 'npm-start-'));
/** Every `npm start` this file ran, and the WireMocks they left: ended in `afterAll`. */
const started: ChildProcess[] = [];
const leftovers: number[] = [];
afterAll(async () => {
  // Each `npm start` leads its own process group, which lives on while any of it runs.
  for (const child of started) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // the whole group has ended
    }
  }
  for (const pid of leftovers) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

/** The environment of a user's shell: no service URLs, no database but the given one. */
function userEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const {
    PAYMENT_SERVICE_URL: _p,
    INVENTORY_SERVICE_URL: _i,
    ORDER_SERVICE_URL: _o,
    DATABASE_URL: _d,
    PGLITE_DATA_DIR: _g,
    ...rest
  } = process.env;
  return { ...rest, APP_PORT: '0', WIREMOCK_BASE_PORT: '0', ...env };
}

interface NpmStart {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `npm start` in its own process group (so that `afterAll` can end all of it). */
function npmStart(env: NodeJS.ProcessEnv): NpmStart {
  const child = spawn('npm', ['start'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, output: () => output, exited };
}

/** Waits for the banner; the API's URL and each WireMock's pid and port from it. */
async function untilListening(run: NpmStart) {
  for (let waited = 0; !/recovery: every/.test(run.output()); waited += 100) {
    if (run.child.exitCode !== null) throw new Error(`npm start exited:\n${run.output()}`);
    if (waited > 90_000) throw new Error(`npm start did not start:\n${run.output()}`);
    await sleep(100);
  }
  const url = /listening on (\S+)/.exec(run.output())?.[1] as string;
  const wiremocks = [
    ...run.output().matchAll(/(\w+): http:\/\/127\.0\.0\.1:(\d+) \(WireMock, pid (\d+)\)/g),
  ].map(([, service, port, pid]) => ({ service, port: Number(port), pid: Number(pid) }));
  return { url, wiremocks };
}

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  for (let waited = 0; !condition(); waited += 100) {
    if (waited > timeoutMs) throw new Error('timed out');
    await sleep(100);
  }
}

describe('npm start refuses before starting anything', () => {
  it('names APP_PORT and the value given', async () => {
    const run = npmStart(userEnv({ APP_PORT: 'eighty', PGLITE_DATA_DIR: path.join(root, 'a') }));
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      'Invalid configuration: APP_PORT: expected a whole number from 0 to 65535, got "eighty"',
    );
    expect(run.output()).not.toContain('NaN');
    expect(run.output()).not.toContain('starting WireMock');
    expect(run.output()).not.toMatch(/^\s+at /m);
  });

  it('names DATABASE_URL and its host when nothing answers there, never the password', async () => {
    const port = await freePort();
    const run = npmStart(
      userEnv({ DATABASE_URL: `postgres://checkout:s3cret@127.0.0.1:${port}/checkout` }),
    );
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(
      `DATABASE_URL: cannot use the database at 127.0.0.1:${port}: connection refused`,
    );
    expect(run.output()).not.toContain('s3cret');
    expect(run.output()).not.toContain('starting WireMock');
  });
});

describe('npm start against a PostgreSQL server and running services', () => {
  it('starts without Java, logs each request once with its checkout, cold_start first', async () => {
    const database = await startSharedDatabase({ ownSchema: true });
    const wiremock = inject('wiremock');
    const run = npmStart(
      userEnv({
        DATABASE_URL: database.url,
        PAYMENT_SERVICE_URL: wiremock.payment,
        INVENTORY_SERVICE_URL: wiremock.inventory,
        ORDER_SERVICE_URL: wiremock.order,
        LOG_LEVEL: 'INFO',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      }),
    );
    try {
      const { url, wiremocks } = await untilListening(run);
      expect(wiremocks).toEqual([]);
      expect(run.output()).not.toContain('starting WireMock');

      const res = await fetch(`${url}/checkout/process`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(seedRequest()),
      });
      const { checkout_id: id } = (await res.json()) as { checkout_id: string };
      await fetch(`${url}/health`).then((r) => r.text());
      await until(() => run.output().includes('"path":"/health"'));

      const lines = run
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const access = lines.filter((line) => 'httpMethod' in line);
      expect(access).toEqual([
        expect.objectContaining({
          httpMethod: 'POST',
          path: '/checkout/process',
          status: 200,
          checkoutId: id,
        }),
        expect.objectContaining({ httpMethod: 'GET', path: '/health', status: 200 }),
      ]);
      const checkoutLines = lines.filter((line) => line.checkout_id === id);
      expect(checkoutLines.length).toBeGreaterThan(0);
      expect(checkoutLines.every((line) => line.cold_start === true)).toBe(true);
    } finally {
      process.kill(run.child.pid as number, 'SIGTERM');
      await run.exited;
      await database.stop();
    }
  }, 120_000);
});

describe('npm start on the embedded database, with its WireMocks', () => {
  const dataDir = path.join(root, 'pglite');

  it('refuses a second instance on the same folder at once, naming the first; stops on SIGTERM to npm', async () => {
    const ports = {
      APP_PORT: String(await freePort()),
      WIREMOCK_BASE_PORT: String(await freePortRun()),
    };
    const first = npmStart(userEnv({ PGLITE_DATA_DIR: dataDir, ...ports }));
    const { url, wiremocks } = await untilListening(first);
    expect(wiremocks.map((w) => w.service)).toEqual(['payment', 'inventory', 'order']);
    const owner = folderOwner(dataDir);
    expect(owner).toMatchObject({ command: 'npm start', url });

    const second = npmStart(userEnv({ PGLITE_DATA_DIR: dataDir }));
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `npm start cannot start: the data folder ${dataDir} is in use by \`npm start\` (pid ${owner?.pid}, ${url}`,
    );
    expect(second.output()).not.toContain('starting WireMock');
    expect(second.output()).toContain('Use that one, or stop it first (Ctrl-C in its terminal).');
    expect(second.output()).not.toContain('kill');

    // On a folder of its own but the same ports: the first is running, not left over.
    const third = npmStart(userEnv({ PGLITE_DATA_DIR: path.join(root, 'third'), ...ports }));
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain(
      `port ${ports.APP_PORT} (APP_PORT): another \`npm start\` (pid ${owner?.pid}), which is running`,
    );
    for (const { service, port, pid } of wiremocks) {
      expect(third.output()).toContain(
        `port ${port} (${service} WireMock): pid ${pid}, a WireMock of another \`npm start\` (pid ${owner?.pid}), which is running`,
      );
    }
    expect(third.output()).toContain(
      `Another \`npm start\` (pid ${owner?.pid}, ${url}) is running on these ports: use it, or stop it (Ctrl-C in its terminal)`,
    );
    expect(third.output()).toContain('WIREMOCK_BASE_PORT=');
    expect(third.output()).not.toMatch(/kill|left running/);
    expect(third.output()).not.toContain('starting WireMock');
    expect(await fetch(`${url}/health`).then((r) => r.status)).toBe(200);

    const cli = spawnSync('npm', ['run', '--silent', 'checkouts', '--', 'list'], {
      env: userEnv({ PGLITE_DATA_DIR: dataDir }),
      encoding: 'utf8',
    });
    // The operator CLI works beside it: it asks the running server (its local-only route).
    expect(cli.status).toBe(0);
    expect(cli.stdout).toBe('No checkouts match.\n');

    // As a service manager or `kill` stops it: the signal goes to npm alone.
    process.kill(first.child.pid as number, 'SIGTERM');
    await first.exited;
    await until(
      () => ![owner?.pid, ...wiremocks.map((w) => w.pid)].some((pid) => isRunning(pid as number)),
    );
    expect(first.output()).toContain('stopping ...');
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
  }, 120_000);

  it('names the WireMocks a killed instance left, and does not use them', async () => {
    const base = String(await freePortRun());
    const killed = npmStart(userEnv({ PGLITE_DATA_DIR: dataDir, WIREMOCK_BASE_PORT: base }));
    const { wiremocks } = await untilListening(killed);
    leftovers.push(...wiremocks.map((w) => w.pid));
    process.kill(folderOwner(dataDir)?.pid as number, 'SIGKILL');
    await killed.exited;

    const next = npmStart(userEnv({ PGLITE_DATA_DIR: dataDir, WIREMOCK_BASE_PORT: base }));
    expect(await next.exited).toBe(1);
    for (const { service, port, pid } of wiremocks) {
      expect(next.output()).toContain(
        `port ${port} (${service} WireMock): pid ${pid}, a WireMock of this project`,
      );
    }
    expect(next.output()).toContain(`kill ${wiremocks.map((w) => w.pid).join(' ')}`);
    expect(next.output()).not.toContain('listening on');
  }, 120_000);
});

describe('npm start when one of its WireMocks dies', () => {
  it('says so, restarts it once on the same port, and stops when it dies again within a minute', async () => {
    const dataDir = path.join(root, 'dying');
    const run = npmStart(userEnv({ PGLITE_DATA_DIR: dataDir }));
    const { url, wiremocks } = await untilListening(run);
    leftovers.push(...wiremocks.map((w) => w.pid));
    const payment = wiremocks.find((w) => w.service === 'payment') as (typeof wiremocks)[number];
    const paymentUrl = `http://127.0.0.1:${payment.port}`;

    process.kill(payment.pid, 'SIGKILL');
    const back = new RegExp(
      `the payment WireMock is running again \\(pid (\\d+), ${paymentUrl}\\)`,
    );
    await until(() => back.test(run.output()), 90_000);
    expect(run.output()).toContain(
      `the payment WireMock (pid ${payment.pid}, ${paymentUrl}) was killed (SIGKILL); calls to payment fail until it is back.`,
    );
    expect(run.output()).toContain(`restarting the payment WireMock on ${paymentUrl} ...`);
    const restarted = Number(back.exec(run.output())?.[1]);
    leftovers.push(restarted);
    expect(restarted).not.toBe(payment.pid);
    // The same port and stubs: a checkout goes through again.
    const res = await fetch(`${url}/checkout/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(seedRequest()),
    });
    expect(await res.json()).toMatchObject({ status: 'completed' });

    process.kill(restarted, 'SIGKILL');
    expect(await run.exited).toBe(1);
    expect(run.output()).toMatch(
      new RegExp(
        `npm start stops: the payment WireMock \\(pid ${restarted}, ${paymentUrl}\\) was killed \\(SIGKILL\\) again, \\d+ s after it was restarted\\.`,
      ),
    );
    const owner = folderOwner(dataDir);
    expect(owner).toBeUndefined();
    await until(() => !wiremocks.some((w) => isRunning(w.pid)) && !isRunning(restarted));
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
  }, 180_000);
});
