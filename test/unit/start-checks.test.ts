import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { databaseUrlProblem } from '#dev/local/database-url-check.ts';
import { localServiceUrls, withLocalServiceUrls } from '#dev/local/service-urls.ts';
import { startSettings, takenPortsProblem } from '#dev/local/start-checks.ts';
import { freePort, wireMockJar } from '#dev/local/wiremock-process.ts';
import { ConfigError, loadConfig } from '#lib/config.ts';

/** What `npm start` checks before it starts Java or opens the database. */

const SERVICES = {
  PAYMENT_SERVICE_URL: 'http://127.0.0.1:8081',
  INVENTORY_SERVICE_URL: 'http://127.0.0.1:8082',
  ORDER_SERVICE_URL: 'http://127.0.0.1:8083',
};

function failure(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected it to fail');
}

describe('the configuration', () => {
  it.each(['abc', '70000', '80.5', '-1'])(
    'names APP_PORT and the value %j it was given',
    (value) => {
      const error = failure(() => loadConfig({ ...SERVICES, APP_PORT: value }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        `Invalid configuration: APP_PORT: expected a whole number from 0 to 65535, got "${value}"`,
      );
    },
  );

  it('shows a bad URL without its password', () => {
    const error = failure(() =>
      loadConfig({ ...SERVICES, ORDER_SERVICE_URL: 'ftp://shop:s3cret@orders.internal' }),
    );
    expect(error.message).toContain('ORDER_SERVICE_URL: expected an http(s):// URL, got "ftp://');
    expect(error.message).not.toContain('s3cret');
  });

  it('says which variable is missing without a value', () => {
    const { ORDER_SERVICE_URL: _missing, ...env } = SERVICES;
    expect(failure(() => loadConfig(env)).message).toBe(
      'Invalid configuration: ORDER_SERVICE_URL: required, an http(s):// URL',
    );
  });

  it('checks the start script’s own variables: defaults, free WireMock ports, bad values named', () => {
    expect(startSettings({})).toEqual({
      recoveryIntervalMs: 30_000,
      wireMockPorts: { payment: 8081, inventory: 8082, order: 8083 },
    });
    expect(startSettings({ WIREMOCK_BASE_PORT: '0' }).wireMockPorts).toEqual({
      payment: 0,
      inventory: 0,
      order: 0,
    });
    const error = failure(() =>
      startSettings({ WIREMOCK_BASE_PORT: 'x', RECOVERY_INTERVAL_MS: '' }),
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('RECOVERY_INTERVAL_MS: expected a whole number from 100');
    expect(error.message).toContain('got ""');
    expect(error.message).toContain(
      'WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got "x"',
    );
    expect(startSettings({ WIREMOCK_BASE_PORT: '9081' }).wireMockPorts).toEqual({
      payment: 9081,
      inventory: 9082,
      order: 9083,
    });
  });
});

describe('the services’ URLs of npm start, npm run invoke and npm run checkouts', () => {
  it('are the WireMocks on 8081–8083, or wherever WIREMOCK_BASE_PORT moves them', () => {
    expect(localServiceUrls({})).toEqual({
      payment: 'http://127.0.0.1:8081',
      inventory: 'http://127.0.0.1:8082',
      order: 'http://127.0.0.1:8083',
    });
    expect(localServiceUrls({ WIREMOCK_BASE_PORT: '9081' })).toEqual({
      payment: 'http://127.0.0.1:9081',
      inventory: 'http://127.0.0.1:9082',
      order: 'http://127.0.0.1:9083',
    });
  });

  it('keep each *_SERVICE_URL that is set', () => {
    const env = withLocalServiceUrls({
      WIREMOCK_BASE_PORT: '9081',
      ORDER_SERVICE_URL: 'https://orders.example.com',
      OTHER: 'kept',
    });
    expect(env).toEqual({
      WIREMOCK_BASE_PORT: '9081',
      OTHER: 'kept',
      PAYMENT_SERVICE_URL: 'http://127.0.0.1:9081',
      INVENTORY_SERVICE_URL: 'http://127.0.0.1:9082',
      ORDER_SERVICE_URL: 'https://orders.example.com',
    });
    // All three set: WIREMOCK_BASE_PORT is not even read.
    const all = { ...env, WIREMOCK_BASE_PORT: 'nonsense' };
    expect(withLocalServiceUrls(all)).toEqual(all);
  });

  it('say what is wrong with WIREMOCK_BASE_PORT, and that 0 (free ports) cannot be followed', () => {
    expect(failure(() => localServiceUrls({ WIREMOCK_BASE_PORT: '80a' })).message).toBe(
      'Invalid configuration: WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got "80a"',
    );
    const zero = failure(() =>
      localServiceUrls({ WIREMOCK_BASE_PORT: '0', PAYMENT_SERVICE_URL: 'http://127.0.0.1:40001' }),
    );
    expect(zero).toBeInstanceOf(ConfigError);
    expect(zero.message).toBe(
      'WIREMOCK_BASE_PORT=0: `npm start` took free ports for its WireMocks, which only it knows; ' +
        'set INVENTORY_SERVICE_URL, ORDER_SERVICE_URL to the URLs it printed',
    );
  });
});

describe('DATABASE_URL', () => {
  it('is refused when it is not a URL, without showing it', async () => {
    const problem = await databaseUrlProblem('postgres://checkout:s3cret@db:5432:x/checkout');
    expect(problem).toContain('DATABASE_URL is not a valid URL');
    expect(problem).not.toContain('s3cret');
  });

  it('is refused when it is not a PostgreSQL URL', async () => {
    expect(await databaseUrlProblem('mysql://checkout:s3cret@db/checkout')).toBe(
      'DATABASE_URL must be a postgres:// or postgresql:// URL, not mysql://...',
    );
  });

  it('is refused when nothing answers there, naming the host but never the password', async () => {
    const port = await freePort();
    const problem = await databaseUrlProblem(
      `postgresql+asyncpg://checkout:s3cret@127.0.0.1:${port}/checkout`,
    );
    expect(problem).toBe(
      `DATABASE_URL: cannot use the database at 127.0.0.1:${port}: connection refused (is PostgreSQL running there?)`,
    );
  });

  it('is refused when its host does not resolve', async () => {
    const problem = await databaseUrlProblem('postgres://checkout:s3cret@db.invalid/checkout');
    expect(problem).toContain('DATABASE_URL: cannot use the database at db.invalid:5432');
    expect(problem).not.toContain('s3cret');
  });
});

describe('the ports', () => {
  it('pass when free, and name the process holding a taken one', async () => {
    const free = await freePort();
    expect(await takenPortsProblem([{ port: free, host: '127.0.0.1', purpose: 'APP_PORT' }])).toBe(
      undefined,
    );

    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as net.AddressInfo;
    try {
      const problem = await takenPortsProblem([
        { port, host: '127.0.0.1', purpose: 'payment WireMock' },
        { port: 0, host: '127.0.0.1', purpose: 'a free one' },
      ]);
      expect(problem).toContain('npm start cannot start: ports it needs are taken.');
      expect(problem).toContain(`port ${port} (payment WireMock): pid ${process.pid}, `);
      expect(problem).toContain(`Stop them (kill ${process.pid})`);
      expect(problem).not.toContain('a free one');
    } finally {
      holder.close();
    }
  });

  it('name a running npm start and its WireMocks, never suggesting to kill them', async () => {
    const start = await fakeNpmStart();
    const problem = await takenPortsProblem([
      { port: start.appPort, host: '127.0.0.1', purpose: 'APP_PORT' },
      { port: start.wireMockPort, host: '127.0.0.1', purpose: 'payment WireMock' },
    ]);
    expect(problem).toContain(
      `  port ${start.appPort} (APP_PORT): another \`npm start\` (pid ${start.pid}), which is running`,
    );
    expect(problem).toContain(
      `  port ${start.wireMockPort} (payment WireMock): pid ${start.wireMockPid}, a WireMock of another \`npm start\` (pid ${start.pid}), which is running`,
    );
    expect(problem).toContain(
      `Another \`npm start\` (pid ${start.pid}, http://127.0.0.1:${start.appPort}) is running on these ports: use it, or stop it (Ctrl-C in its terminal)`,
    );
    expect(problem).toContain('APP_PORT=8006 WIREMOCK_BASE_PORT=9081 npm start');
    expect(problem).not.toMatch(/kill|killed|left running/);
  });

  it('name a WireMock of a process that is running (a test run) as its, not as left over', async () => {
    const wireMock = await listening(spawn(process.execPath, ['-e', LISTEN, wireMockJar()]));
    const problem = await takenPortsProblem([
      { port: wireMock.port, host: '127.0.0.1', purpose: 'order WireMock' },
    ]);
    expect(problem).toContain(
      `  port ${wireMock.port} (order WireMock): pid ${wireMock.pid}, a WireMock of this project run by pid ${process.pid}`,
    );
    expect(problem).toContain(`Their WireMocks belong to pid ${process.pid}, which is running`);
    expect(problem).not.toMatch(/kill|left running/);
  });
});

/** Listens on a free port and prints it (`node -e LISTEN <anything>`). */
const LISTEN =
  "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) })";

/** The processes these tests started, ended after them. */
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // ended already
    }
  }
});

/** Waits until a child started with LISTEN prints its port. */
async function listening(child: ChildProcess) {
  started.push(child.pid as number);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return { pid: child.pid as number, port: Number(chunk.toString().trim()) };
}

/**
 * A stand-in for a running `npm start`: a process run as `... scripts/start.ts` that listens
 * (its API) and has a child run with WireMock's jar that listens too.
 */
async function fakeNpmStart() {
  const script = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', ${JSON.stringify(LISTEN)}, ${JSON.stringify(wireMockJar())}]);
    child.stdout.once('data', (wm) => {
      require('net').createServer().listen(0, '127.0.0.1', function () {
        console.log(JSON.stringify({ app: this.address().port, wm: Number(String(wm)), wmPid: child.pid }));
      });
    });
`;
  const start = spawn(process.execPath, ['-e', script, 'scripts/start.ts']);
  started.push(start.pid as number);
  const [chunk] = (await once(start.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  const { app, wm, wmPid } = JSON.parse(chunk.toString()) as {
    app: number;
    wm: number;
    wmPid: number;
  };
  started.push(wmPid);
  return { pid: start.pid as number, appPort: app, wireMockPort: wm, wireMockPid: wmPid };
}
