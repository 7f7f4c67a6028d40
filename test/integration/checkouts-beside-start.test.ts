import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { folderOwner, lockFileOf } from '#dev/local/data-folder-lock.ts';
import { LOCAL_OPERATOR_PATH, LOCAL_TOKEN_HEADER } from '#dev/local/local-gateway.ts';
import { freePort, freePortRun } from '#dev/local/wiremock-process.ts';
import { seedRequest } from '../../scripts/seed-request.ts';

/*
 * `npm run checkouts` while `npm start` runs on the embedded database (issue 25, point 1): the
 * CLI, in a process of its own, sends its command to the operator route of the `npm start` that
 * holds the folder, and prints the answer as it prints one it ran itself. The route answers
 * only to loopback with the token of the lock file; anyone else gets a 404 and changes nothing.
 */

const root = mkdtempSync(path.join(tmpdir(), 'checkouts-beside-start-'));
const started: ChildProcess[] = [];
afterAll(() => {
  for (const child of started) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // the whole group has ended
    }
  }
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
    WIREMOCK_BASE_PORT: _w,
    ...rest
  } = process.env;
  return { ...rest, ...env };
}

/** `npm start` in its own process group; resolves once it serves, with its URL. */
async function npmStart(env: NodeJS.ProcessEnv) {
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
  for (let waited = 0; !/recovery: every/.test(output); waited += 100) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    if (waited > 90_000) throw new Error(`npm start did not start:\n${output}`);
    await sleep(100);
  }
  const url = /listening on (\S+)/.exec(output)?.[1] as string;
  return { child, url, output: () => output, exited };
}

const exec = promisify(execFile);

/** `npm run checkouts -- ...args` in a child process: its exit code and output. */
async function cli(args: string[], env: NodeJS.ProcessEnv) {
  const child = await exec('npm', ['run', '--silent', 'checkouts', '--', ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return { code: child.code, stdout: child.stdout, stderr: child.stderr };
}

/** This machine's first non-loopback IPv4 address, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** The list answer without the ages, which move between two runs. */
function withoutAges(json: string) {
  const answer = JSON.parse(json) as { checkouts: { ageSeconds?: number }[] };
  for (const line of answer.checkouts) delete line.ageSeconds;
  return answer;
}

describe('npm run checkouts while npm start runs on the embedded database', () => {
  it('lists and shows through the running npm start, as it prints on its own database; the route takes only the local user', async () => {
    const dataDir = path.join(root, 'pglite');
    const port = await freePort();
    const run = await npmStart(
      userEnv({
        PGLITE_DATA_DIR: dataDir,
        APP_PORT: String(port),
        // Every address: the route must still refuse what does not come from loopback.
        APP_HOST: '0.0.0.0',
        WIREMOCK_BASE_PORT: String(await freePortRun()),
      }),
    );
    const local = `http://127.0.0.1:${port}`;
    const cliEnv = userEnv({ PGLITE_DATA_DIR: dataDir });

    // The lock holds the token, for this user only.
    const owner = folderOwner(dataDir);
    expect(owner?.token).toMatch(/^[\w-]{43}$/);
    expect(statSync(lockFileOf(dataDir)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8')).token).toBe(owner?.token);

    const made = await fetch(`${local}/checkout/process`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(seedRequest()),
    });
    const { checkout_id: id, status } = (await made.json()) as {
      checkout_id: string;
      status: string;
    };
    expect(status).toBe('completed');

    // The default list: what needs a person (nothing here), not refused.
    const list = await cli(['list'], cliEnv);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    expect(list.stdout).toBe('No checkouts match.\n');

    const completed = await cli(['list', '--status', 'completed'], cliEnv);
    expect(completed.code).toBe(0);
    expect(completed.stdout).toMatch(
      new RegExp(
        `^ID\\s+STATUS\\s+AGE[^\\n]*\\n${id}\\s+completed\\s+\\d+s\\s+-\\s+-\\s+[\\d.]+ [A-Z]{3}\\n1 checkout, oldest first\\n$`,
      ),
    );

    const listJson = await cli(['list', '--status', 'completed', '--json'], cliEnv);
    expect(listJson.code).toBe(0);

    const show = await cli(['show', id], cliEnv);
    expect(show).toMatchObject({ code: 0, stderr: '' });
    expect(show.stdout).toContain(`Checkout ${id}`);
    expect(show.stdout).toMatch(/status\s+completed \(attempt 1/);
    expect(show.stdout).toMatch(/\(new\) -> pending\s+request:/);
    // Asked by `npm start`, through its own WireMocks.
    expect(show.stdout).not.toContain('could not ask');
    expect(show.stdout).not.toContain('4111111111111111');

    const json = await cli(['show', id, '--json'], cliEnv);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ command: 'show', checkout: { id, status: 'completed' } });
    // Exactly the operator function's answer, which the route gives with the token.
    const direct = await fetch(`${local}${LOCAL_OPERATOR_PATH}`, {
      method: 'POST',
      headers: { [LOCAL_TOKEN_HEADER]: owner?.token as string },
      body: JSON.stringify({ command: 'show', id }),
    });
    expect(direct.status).toBe(200);
    expect(await direct.json()).toEqual(report);

    // A refusal keeps its exit code.
    const missing = await cli(['show', '3f9c2b1e-8a4d-4c1e-9b7a-2d5e6f7a8b90'], cliEnv);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('refused: there is no checkout with this id');

    // Without the token, with a wrong one, or from an address that is not loopback (with the
    // right token): the 404 of a route that does not exist, and nothing is done.
    const resolve = JSON.stringify({
      command: 'resolve',
      id,
      as: 'failed',
      note: 'not the operator',
      force: true,
      by: 'intruder',
    });
    const unknownRoute = await fetch(`${local}/no-such-route`, { method: 'POST' });
    const notFound = { status: 404, body: await unknownRoute.json() };
    const attempts: { url: string; headers: Record<string, string> }[] = [
      { url: local, headers: {} },
      { url: local, headers: { [LOCAL_TOKEN_HEADER]: 'guess' } },
      { url: local, headers: { [LOCAL_TOKEN_HEADER]: `${owner?.token}x` } },
    ];
    const outside = outsideAddress();
    if (outside) {
      attempts.push({
        url: `http://${outside}:${port}`,
        headers: { [LOCAL_TOKEN_HEADER]: owner?.token as string },
      });
    }
    for (const { url, headers } of attempts) {
      const res = await fetch(`${url}${LOCAL_OPERATOR_PATH}`, {
        method: 'POST',
        headers,
        body: resolve,
      });
      expect({ status: res.status, body: await res.json() }).toEqual(notFound);
    }
    const after = JSON.parse((await cli(['show', id, '--json'], cliEnv)).stdout);
    expect(after.checkout).toEqual(report.checkout);
    expect(after.history).toEqual(report.history);
    expect(run.output()).not.toContain('intruder');

    // Once npm start has stopped, the CLI opens the folder itself and prints the same.
    process.kill(run.child.pid as number, 'SIGTERM');
    await run.exited;
    // npm exits as its server does; the server lets go of the folder (its lock) as it ends.
    for (let waited = 0; existsSync(lockFileOf(dataDir)) && waited < 10_000; waited += 100) {
      await sleep(100);
    }
    expect(existsSync(lockFileOf(dataDir))).toBe(false);
    const alone = await cli(['list', '--status', 'completed', '--json'], cliEnv);
    expect(alone.code, alone.stderr).toBe(0);
    expect(withoutAges(alone.stdout)).toEqual(withoutAges(listJson.stdout));
    expect(withoutAges(alone.stdout)).toEqual({
      command: 'list',
      checkouts: [expect.objectContaining({ id, status: 'completed' })],
      unreadable: [],
    });
  }, 180_000);
});
