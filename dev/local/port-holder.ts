import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';

/** The process listening on a port, as far as the operating system lets us see it. */
export interface PortHolder {
  pid: number;
  /** Its command line (Linux), or its command name (`lsof` elsewhere). */
  command: string;
}

/** Whether `host:port` can be listened on right now (another process is not on it). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Who listens on TCP `port`: from `/proc` on Linux, else from `lsof`; undefined when neither
 * tells (another user's process, no `lsof`).
 */
export function portHolder(port: number): PortHolder | undefined {
  try {
    return fromProc(port);
  } catch {
    return fromLsof(port);
  }
}

/** Linux: the listening socket's inode in /proc/net/tcp{,6}, then the process that has it open. */
function fromProc(port: number): PortHolder | undefined {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [, local, , state, , , , , , inode] = fields;
      // State 0A is LISTEN; the local address ends with the port in hex.
      if (state === '0A' && inode && Number.parseInt(local?.split(':')[1] ?? '', 16) === port) {
        inodes.add(`socket:[${inode}]`);
      }
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) {
        const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        return { pid: Number(entry), command: commandLine.split('\0').join(' ').trim() };
      }
    }
  }
  return undefined;
}

function fromLsof(port: number): PortHolder | undefined {
  const lsof = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], {
    encoding: 'utf8',
  });
  const pid = /^p(\d+)$/m.exec(lsof.stdout ?? '')?.[1];
  if (!pid) return undefined;
  return { pid: Number(pid), command: /^c(.+)$/m.exec(lsof.stdout)?.[1] ?? '?' };
}
