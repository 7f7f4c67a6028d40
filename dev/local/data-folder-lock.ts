import {
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { isRunning } from './process-running.ts';

/**
 * One process per embedded database folder: PGlite takes no lock of its own, and two processes
 * on one folder corrupt it. `npm start` (and `npm run invoke`) hold `<folder>.lock` beside the
 * folder (inside, it would be taken for a database file), which says who holds it; `npm run
 * checkouts` reads it to say who has the folder, and to send its command to that `npm start`
 * (the token; the file is readable by its user only).
 */
export interface FolderOwner {
  pid: number;
  /** What holds it, e.g. `npm start`. */
  command: string;
  /** Where that process serves, once known. */
  url?: string;
  startedAt: string;
  /** The secret a local-only route of this process asks for (`npm start`'s operator route). */
  token?: string;
}

/** The folder is held by a process that is still running. */
export class DataFolderInUse extends Error {
  override readonly name = 'DataFolderInUse';
  constructor(
    readonly dataDir: string,
    readonly owner: FolderOwner,
  ) {
    super(`the data folder ${dataDir} is in use by ${describeOwner(owner)}`);
  }
}

export interface DataFolderLock {
  /** The holder this lock replaced: a process that ended without releasing it (killed). */
  replaced?: FolderOwner;
  /** Records where this process serves (the lock is rewritten atomically). */
  setUrl(url: string): void;
  /** Removes the lock if it is still this process's (also done when the process exits). */
  release(): void;
}

/** The lock file of a data folder: beside it, `<folder>.lock`. */
export const lockFileOf = (dataDir: string): string => `${path.resolve(dataDir)}.lock`;

/**
 * Takes the folder for this process, or throws `DataFolderInUse` naming the running holder. A
 * lock whose process is gone is taken over (`replaced` says whose it was). The lock file is
 * written whole before it appears (a hard link of a complete temporary file), so a reader never
 * sees it half written.
 */
export function lockDataFolder(
  dataDir: string,
  command: string,
  url?: string,
  token?: string,
): DataFolderLock {
  const file = lockFileOf(dataDir);
  const owner: FolderOwner = {
    pid: process.pid,
    command,
    url,
    startedAt: new Date().toISOString(),
    ...(token && { token }),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  let replaced: FolderOwner | undefined;
  for (let attempt = 0; !create(file, owner); attempt++) {
    const holder = readOwner(file);
    if (holder && isRunning(holder.pid)) throw new DataFolderInUse(dataDir, holder);
    if (attempt > 0) throw new Error(`cannot take the lock ${file}: it keeps reappearing`);
    // Ended without releasing it (killed). Two starts taking over the same stale lock in the
    // same instant could both succeed; a person starting twice is not that fast.
    replaced = holder;
    rmSync(file, { force: true });
  }

  const release = () => {
    process.removeListener('exit', release);
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
  };
  process.once('exit', release);
  return {
    replaced,
    setUrl(newUrl) {
      owner.url = newUrl;
      const temporary = writeTemporary(file, owner);
      renameSync(temporary, file);
    },
    release,
  };
}

/** The running process that holds the folder, if any (a lock left by a killed one is not). */
export function folderOwner(dataDir: string): FolderOwner | undefined {
  const holder = readOwner(lockFileOf(dataDir));
  return holder && isRunning(holder.pid) ? holder : undefined;
}

/**
 * What process `pid` holds, from the lock files in `dirs` (`.data` by default, where `npm start`
 * keeps its folder): the running holder's own record (its URL), or undefined.
 */
export function runningOwner(pid: number, dirs: string[] = ['.data']): FolderOwner | undefined {
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((file) => file.endsWith('.lock'));
    } catch {
      continue;
    }
    for (const file of files) {
      const owner = readOwner(path.join(dir, file));
      if (owner?.pid === pid && isRunning(pid)) return owner;
    }
  }
  return undefined;
}

/** E.g. "`npm start` (pid 4100, http://127.0.0.1:8005, since 2026-11-25T16:35:40.000Z)". */
export function describeOwner(owner: FolderOwner): string {
  const details = [`pid ${owner.pid}`, owner.url, `since ${owner.startedAt}`].filter(Boolean);
  return `\`${owner.command}\` (${details.join(', ')})`;
}

/** Creates the lock file with its full content; false when it already exists. */
function create(file: string, owner: FolderOwner): boolean {
  const temporary = writeTemporary(file, owner);
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** The lock's content in a new file beside it, readable and writable by this user only. */
function writeTemporary(file: string, owner: FolderOwner): string {
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, JSON.stringify(owner), { mode: 0o600 });
  return temporary;
}

function readOwner(file: string): FolderOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as FolderOwner;
    return Number.isInteger(owner.pid) ? owner : undefined;
  } catch {
    return undefined;
  }
}
