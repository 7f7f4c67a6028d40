import { mkdtempSync, rmSync, statSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderOwner, lockDataFolder, lockFileOf } from '#dev/local/data-folder-lock.ts';
import {
  createLocalGateway,
  isLoopback,
  LOCAL_OPERATOR_PATH,
  LOCAL_TOKEN_HEADER,
  listen,
  localOnlyAllowed,
} from '#dev/local/local-gateway.ts';
import { operatorRouteUrl, runningStartOf } from '../../scripts/checkouts/running-start.ts';

const root = mkdtempSync(path.join(tmpdir(), 'local-operator-route-'));
const servers: http.Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the local-only route', () => {
  it('takes loopback addresses only', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(address), address).toBe(true);
    }
    for (const address of [
      undefined,
      '',
      '192.0.2.2',
      '10.0.0.1',
      '::ffff:192.0.2.2',
      'fd00::2',
      '::',
      '0.0.0.0',
      '128.0.0.1',
      '127.0.0.1.example',
    ]) {
      expect(isLoopback(address), String(address)).toBe(false);
    }
  });

  it('asks for the exact token, from loopback', () => {
    const route = { token: 'secret-token' };
    expect(localOnlyAllowed(route, '127.0.0.1', 'secret-token')).toBe(true);
    expect(localOnlyAllowed(route, '127.0.0.1', undefined)).toBe(false);
    expect(localOnlyAllowed(route, '127.0.0.1', 'secret-toke')).toBe(false);
    expect(localOnlyAllowed(route, '127.0.0.1', 'secret-tokenx')).toBe(false);
    expect(localOnlyAllowed(route, '127.0.0.1', ['secret-token', 'secret-token'])).toBe(false);
    expect(localOnlyAllowed(route, '192.0.2.2', 'secret-token')).toBe(false);
    expect(localOnlyAllowed({ token: '' }, '127.0.0.1', '')).toBe(false);
  });

  it('is answered with the token, and is a 404 like any unknown route without it', async () => {
    const seen: string[] = [];
    const server = createLocalGateway([], undefined, {
      localOnly: {
        path: LOCAL_OPERATOR_PATH,
        token: 't0ken',
        handle: async (body) => {
          seen.push(body);
          return { status: 200, body: { echoed: JSON.parse(body) } };
        },
      },
    });
    servers.push(server);
    const url = await listen(server, 0, '127.0.0.1');
    const post = (headers: Record<string, string>, route = LOCAL_OPERATOR_PATH) =>
      fetch(`${url}${route}`, { method: 'POST', headers, body: '{"command":"list"}' }).then(
        async (res) => ({ status: res.status, body: await res.json() }),
      );

    const unknown = await post({}, '/elsewhere');
    expect(unknown.status).toBe(404);
    expect(await post({})).toEqual(unknown);
    expect(await post({ [LOCAL_TOKEN_HEADER]: 'wrong' })).toEqual(unknown);
    expect(seen).toEqual([]);
    expect(await post({ [LOCAL_TOKEN_HEADER]: 't0ken' })).toEqual({
      status: 200,
      body: { echoed: { command: 'list' } },
    });
    const get = await fetch(`${url}${LOCAL_OPERATOR_PATH}`, {
      headers: { [LOCAL_TOKEN_HEADER]: 't0ken' },
    });
    expect(get.status).toBe(404);
    expect(seen).toEqual(['{"command":"list"}']);
  });
});

describe('the CLI finds the running npm start from the lock', () => {
  it('writes the token into a lock file of mode 0600, and reads it back', () => {
    const dataDir = path.join(root, 'pglite');
    const lock = lockDataFolder(dataDir, 'npm start', 'http://127.0.0.1:8005', 'tok');
    try {
      expect(statSync(lockFileOf(dataDir)).mode & 0o777).toBe(0o600);
      lock.setUrl('http://0.0.0.0:8006');
      expect(statSync(lockFileOf(dataDir)).mode & 0o777).toBe(0o600);
      expect(folderOwner(dataDir)).toMatchObject({ token: 'tok', url: 'http://0.0.0.0:8006' });
      expect(runningStartOf({ PGLITE_DATA_DIR: dataDir })).toMatchObject({ pid: process.pid });
      // Another database is opened by the CLI itself.
      expect(
        runningStartOf({ PGLITE_DATA_DIR: dataDir, DATABASE_URL: 'postgres://x/y' }),
      ).toBeUndefined();
    } finally {
      lock.release();
    }
    expect(runningStartOf({ PGLITE_DATA_DIR: dataDir })).toBeUndefined();
  });

  it('takes no lock without a token (`npm run invoke`) for a server to ask', () => {
    const dataDir = path.join(root, 'invoke');
    const lock = lockDataFolder(dataDir, 'npm run invoke');
    try {
      expect(folderOwner(dataDir)?.token).toBeUndefined();
      expect(runningStartOf({ PGLITE_DATA_DIR: dataDir })).toBeUndefined();
    } finally {
      lock.release();
    }
  });

  it('reaches a server on every address through loopback', () => {
    expect(operatorRouteUrl('http://0.0.0.0:8005')).toBe(
      `http://127.0.0.1:8005${LOCAL_OPERATOR_PATH}`,
    );
    expect(operatorRouteUrl('http://[::]:8005')).toBe(`http://[::1]:8005${LOCAL_OPERATOR_PATH}`);
    expect(operatorRouteUrl('http://127.0.0.1:8005')).toBe(
      `http://127.0.0.1:8005${LOCAL_OPERATOR_PATH}`,
    );
  });
});
