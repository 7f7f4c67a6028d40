import { type ExecFileSyncOptions, execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '#dev/local/wiremock-process.ts';
import { createPostgresDatabase } from '#lib/db/drivers/postgres.ts';

export interface PrivatePostgres {
  /** `postgres://` URL of the app's database, usable as DATABASE_URL. */
  url: string;
  dataDir: string;
  /** Kills the server without a checkpoint (`pg_ctl stop -m immediate`): what is not flushed is lost. */
  crash(): Promise<void>;
  /** Starts it again (crash recovery replays the WAL) and waits until it accepts connections. */
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  stop(): Promise<void>;
}

/** The database the app's URLs name (as in the tests' and the README's examples). */
const DATABASE = 'checkout';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of this process's own, run with the machine's PostgreSQL binaries under
 * a fresh temporary folder (data, socket and log), on a free loopback port, so that a test can
 * crash it for real. It runs with `fsync` and `synchronous_commit` on, as a production server
 * does, since what a crash keeps is what these tests look at; `settings` are added to its
 * `postgresql.conf` after those. Only initdb skips its own fsyncs, to start in a few seconds.
 * As root the binaries run as the `postgres` user (initdb refuses root).
 */
export async function startPrivatePostgres(
  options: { settings?: Record<string, string> } = {},
): Promise<PrivatePostgres> {
  const folder = await mkdtemp(path.join(tmpdir(), 'private-postgres-'));
  const dataDir = path.join(folder, 'data');
  const logFile = path.join(folder, 'server.log');
  const owner = serverUser();
  if (owner) chownSync(folder, owner.uid, owner.gid);
  const bin = (name: string) => path.join(postgresBinDir(), name);
  const spawnOptions = { cwd: folder, ...owner };

  const pgCtl = async (...args: string[]) => {
    try {
      await run(bin('pg_ctl'), ['-D', dataDir, ...args], spawnOptions);
    } catch (error) {
      throw new Error(`pg_ctl ${args[0]} failed: ${errorText(error)}\n${logTail(logFile)}`);
    }
  };
  const isRunning = () => existsSync(path.join(dataDir, 'postmaster.pid'));
  // A test process that dies without `stop()` must not leave its server running.
  const stopOnExit = () => {
    try {
      if (isRunning()) {
        const sync: ExecFileSyncOptions = { ...spawnOptions, stdio: 'ignore' };
        execFileSync(bin('pg_ctl'), ['-D', dataDir, 'stop', '-m', 'immediate', '-w'], sync);
      }
    } finally {
      rmSafely(folder);
    }
  };

  try {
    await run(
      bin('initdb'),
      ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      spawnOptions,
    );
    const port = await freePort();
    const settings = {
      port: String(port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: folder,
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      ...options.settings,
    };
    await appendFile(
      path.join(dataDir, 'postgresql.conf'),
      Object.entries(settings)
        .map(([name, value]) => `${name} = '${value.replaceAll("'", "''")}'\n`)
        .join(''),
    );
    const start = () => pgCtl('start', '-w', '-t', '60', '-l', logFile);
    process.on('exit', stopOnExit);
    await start();

    const admin = createPostgresDatabase({
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      maxConnections: 1,
    });
    try {
      await admin.query(`create database ${DATABASE}`);
    } finally {
      await admin.close();
    }

    return {
      url: `postgres://postgres@127.0.0.1:${port}/${DATABASE}`,
      dataDir,
      crash: () => pgCtl('stop', '-m', 'immediate', '-w'),
      start,
      async stop() {
        process.off('exit', stopOnExit);
        try {
          if (isRunning()) await pgCtl('stop', '-m', 'fast', '-w');
        } finally {
          await rm(folder, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    process.off('exit', stopOnExit);
    stopOnExit();
    throw error;
  }
}

/** The `postgres` user's ids when running as root, whom initdb and postgres refuse. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

/** PG_BIN_DIR, else the newest `/usr/lib/postgresql/<version>/bin` (Debian, Ubuntu). */
function postgresBinDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => existsSync(path.join(root, name, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no PostgreSQL binaries under ${root}; set PG_BIN_DIR`);
  return path.join(root, versions[0], 'bin');
}

function errorText(error: unknown): string {
  const { stderr, message } = error as { stderr?: string; message?: string };
  return (stderr || message || String(error)).trim();
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}

function rmSafely(folder: string) {
  try {
    rmSync(folder, { recursive: true, force: true });
  } catch {
    // best effort on the way out
  }
}
