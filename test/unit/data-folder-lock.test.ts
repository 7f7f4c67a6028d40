import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DataFolderInUse,
  folderOwner,
  lockDataFolder,
  lockFileOf,
} from '#dev/local/data-folder-lock.ts';

const root = mkdtempSync(path.join(tmpdir(), 'data-folder-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const newFolder = () => path.join(root, `pglite-${++folders}`);

/** The id of a process that has ended. */
function endedPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('the data folder lock', () => {
  it('is a file beside the folder naming the holder, removed on release', () => {
    const dataDir = newFolder();
    const lock = lockDataFolder(dataDir, 'npm start', 'http://127.0.0.1:8005');
    const file = lockFileOf(dataDir);
    expect(file).toBe(`${path.resolve(dataDir)}.lock`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      pid: process.pid,
      command: 'npm start',
      url: 'http://127.0.0.1:8005',
    });
    expect(folderOwner(dataDir)?.pid).toBe(process.pid);

    lock.release();
    expect(existsSync(file)).toBe(false);
    expect(folderOwner(dataDir)).toBeUndefined();
  });

  it('refuses a second holder while the first runs, naming it', () => {
    const dataDir = newFolder();
    const lock = lockDataFolder(dataDir, 'npm start', 'http://127.0.0.1:8005');
    try {
      let refusal: unknown;
      try {
        lockDataFolder(dataDir, 'npm start');
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(DataFolderInUse);
      expect((refusal as DataFolderInUse).owner).toMatchObject({
        pid: process.pid,
        url: 'http://127.0.0.1:8005',
      });
      expect((refusal as Error).message).toContain(
        `the data folder ${dataDir} is in use by \`npm start\` (pid ${process.pid}, http://127.0.0.1:8005`,
      );
    } finally {
      lock.release();
    }
  });

  it('is taken over from a holder that ended without releasing it, saying whose it was', () => {
    const dataDir = newFolder();
    const gone = endedPid();
    const stale = { pid: gone, command: 'npm start', startedAt: '2026-01-01T00:00:00.000Z' };
    writeFileSync(lockFileOf(dataDir), JSON.stringify(stale));
    expect(folderOwner(dataDir)).toBeUndefined();

    const lock = lockDataFolder(dataDir, 'npm start');
    try {
      expect(lock.replaced).toEqual(stale);
      expect(folderOwner(dataDir)?.pid).toBe(process.pid);
    } finally {
      lock.release();
    }
  });

  it('records the URL once known, and release leaves another holder’s lock alone', () => {
    const dataDir = newFolder();
    const lock = lockDataFolder(dataDir, 'npm start');
    lock.setUrl('http://127.0.0.1:40123');
    expect(folderOwner(dataDir)?.url).toBe('http://127.0.0.1:40123');

    const other = { pid: endedPid(), command: 'npm start', startedAt: new Date().toISOString() };
    writeFileSync(lockFileOf(dataDir), JSON.stringify(other));
    lock.release();
    expect(JSON.parse(readFileSync(lockFileOf(dataDir), 'utf8'))).toEqual(other);
  });
});
