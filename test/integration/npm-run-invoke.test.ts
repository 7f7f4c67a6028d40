import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { listen } from '#dev/local/local-gateway.ts';
import { freePortRun } from '#dev/local/wiremock-process.ts';

/** `npm run invoke` as a user runs it: one function on a sample event, in a child process. */
function npmRunInvoke(...args: string[]) {
  const child = spawnSync('npm', ['run', '--silent', 'invoke', '--', ...args], {
    env: { ...process.env, PGLITE_DATA_DIR: 'memory://' },
    encoding: 'utf8',
  });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('npm run invoke', () => {
  it('says an event file is missing and lists the function’s events, without a stack trace', () => {
    const { code, stdout, stderr } = npmRunInvoke('checkout', 'no-such-event.json');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe(
      'no event file no-such-event.json. The events of checkout (functions/checkout/events/): ' +
        'process-seed.json, read-checkout.json, refused-out-of-stock.json, rejected-expired-card.json',
    );
  });

  it('finds an event by its name in the function’s events folder', () => {
    const { code, stdout, stderr } = npmRunInvoke('health', 'get-health.json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ statusCode: 200 });
  });

  it('calls the services where WIREMOCK_BASE_PORT puts the WireMocks of npm start', async () => {
    const base = await freePortRun();
    const seen: string[] = [];
    const services = [0, 1, 2].map((offset) =>
      http.createServer((req, res) => {
        seen.push(`${base + offset} ${req.method} ${req.url}`);
        res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
      }),
    );
    await Promise.all(services.map((server, offset) => listen(server, base + offset, '127.0.0.1')));
    try {
      const {
        PAYMENT_SERVICE_URL: _p,
        INVENTORY_SERVICE_URL: _i,
        ORDER_SERVICE_URL: _o,
        CATALOG_SERVICE_URL: _c,
        ...env
      } = process.env;
      // Asynchronous: the services answer from this process.
      const child = spawn(
        'npm',
        ['run', '--silent', 'invoke', '--', 'checkout', 'process-seed.json'],
        {
          env: { ...env, PGLITE_DATA_DIR: 'memory://', WIREMOCK_BASE_PORT: String(base) },
        },
      );
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
      // The catalog (the inventory service's URL): base + 1, not 8082.
      expect(seen).toContain(`${base + 1} POST /catalog/quote`);
      expect(JSON.parse(stdout)).toMatchObject({ statusCode: 503 });
    } finally {
      for (const server of services) server.close();
    }
  });

  it('says what is wrong with WIREMOCK_BASE_PORT, without a stack trace', () => {
    const {
      PAYMENT_SERVICE_URL: _p,
      INVENTORY_SERVICE_URL: _i,
      ORDER_SERVICE_URL: _o,
      ...env
    } = process.env;
    const child = spawnSync('npm', ['run', '--silent', 'invoke', '--', 'health'], {
      env: { ...env, PGLITE_DATA_DIR: 'memory://', WIREMOCK_BASE_PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(child.status).toBe(1);
    expect(child.stderr.trim()).toBe(
      'Invalid configuration: WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got "eighty"',
    );
  });

  it('says how to call it when the function is unknown', () => {
    const { code, stderr } = npmRunInvoke('nothing');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^usage: npm run invoke -- <.*checkout.*> \[event\.json\]/);
  });
});
