import { spawn } from 'node:child_process';
import dns from 'node:dns';
import net from 'node:net';

/**
 * Services nothing can be sent to, each failing before a connection opens in its own way, for
 * the tests of "unreachable" (design §3: nothing can have happened at that step).
 */

type LookupCallback = (error: Error | null, ...result: unknown[]) => void;

/**
 * Makes `name` resolve to two loopback addresses in this process, 127.0.0.1 and 127.0.0.2, as a
 * load balancer's name (one address per zone) or `localhost` (127.0.0.1 and ::1) does; `/etc/hosts`
 * here maps localhost to one address only. With two addresses Node connects by happy eyeballs,
 * and when both refuse it reports an `AggregateError` with no `syscall`.
 *
 * Node's `net` reads `dns.lookup` at every connect (Node 20 and 22), so replacing it reaches the
 * clients' own agents without a seam in the code under test. Returns the function that restores it.
 */
export function resolveToTwoLoopbacks(name: string): () => void {
  const original = dns.lookup;
  const addresses = [
    { address: '127.0.0.1', family: 4 },
    { address: '127.0.0.2', family: 4 },
  ];
  const twoAddresses = (hostname: string, options: unknown, callback?: LookupCallback) => {
    if (hostname !== name)
      return original(hostname, options as dns.LookupOptions, callback as never);
    const done = (typeof options === 'function' ? options : callback) as LookupCallback;
    const all = typeof options === 'object' && options !== null && 'all' in options && options.all;
    const [first] = addresses;
    process.nextTick(() =>
      all ? done(null, addresses) : done(null, first?.address, first?.family),
    );
  };
  dns.lookup = twoAddresses as typeof dns.lookup;
  return () => {
    dns.lookup = original;
  };
}

/**
 * A port whose connections are never accepted: a listener with a backlog of one in a process
 * whose event loop is blocked (for a minute at most), its queue filled by two connections of our
 * own. The kernel then drops every further SYN, so a connect waits until its caller gives up
 * (Linux behaviour).
 */
export async function portThatNeverAccepts(): Promise<{ port: number; close: () => void }> {
  const listener = spawn(
    process.execPath,
    [
      '-e',
      `const server = require('node:net').createServer();
      server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
        process.stdout.write(server.address().port + '\\n');
        // Blocked, so nothing is accepted; gone after a minute even if nobody kills it.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
        process.exit();
      });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
  });
  const fillers = await Promise.all(
    [0, 1].map(
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
  return {
    port,
    close: () => {
      for (const socket of fillers) socket.destroy();
      listener.kill('SIGKILL');
    },
  };
}
