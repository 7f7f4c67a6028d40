import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TWO_ADDRESSES } from './two-address-host.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * One simulated service on the network: an HTTP server on each loopback address of the
 * two-address name (127.0.0.1 and ::1), on one port. For an `unreachable` window it stops
 * listening and closes its idle kept-alive connections, so every new connection is refused on
 * both addresses, while the requests it is answering go on (each closing its connection once
 * answered); then it listens again on the same port.
 */
export class ServiceHost {
  /** In an `unreachable` window. */
  down = false;
  /** Servers a window closed, still answering the requests they had. */
  private readonly retired = new Set<http.Server>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly port: number,
    private readonly handler: Handler,
    private listeners: http.Server[],
  ) {}

  /** Listens on a free port of 127.0.0.1 and the same port of ::1. */
  static async start(handler: Handler): Promise<ServiceHost> {
    for (let attempt = 1; ; attempt++) {
      const first = await listen(handler, 0, '127.0.0.1');
      const { port } = first.address() as AddressInfo;
      const others: http.Server[] = [];
      try {
        for (const { address } of TWO_ADDRESSES.slice(1)) {
          others.push(await listen(handler, port, address));
        }
        return new ServiceHost(port, handler, [first, ...others]);
      } catch (error) {
        // The port is free on 127.0.0.1 but taken on ::1: try another.
        await Promise.all([first, ...others].map(closeNow));
        if (attempt >= 10) throw error;
      }
    }
  }

  /**
   * Refuses connections for `ms`, then listens again. False when a window is already open (it
   * is not extended). `onError` hears of a failure to listen again.
   */
  goDown(ms: number, onError: (message: string) => void): boolean {
    if (this.down || this.closed) return false;
    this.down = true;
    for (const server of this.listeners) {
      this.retired.add(server);
      server.once('close', () => this.retired.delete(server));
      server.close(); // stops listening; the requests being answered go on
      server.closeIdleConnections();
    }
    this.listeners = [];
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.up().catch((error: unknown) => {
        onError(`listening again on port ${this.port}: ${String(error)}`);
      });
    }, ms);
    return true;
  }

  async close() {
    this.closed = true;
    clearTimeout(this.timer);
    const servers = [...this.listeners, ...this.retired];
    this.listeners = [];
    await Promise.all(servers.map(closeNow));
  }

  private async up() {
    for (let attempt = 1; !this.closed; attempt++) {
      const listening: http.Server[] = [];
      try {
        for (const { address } of TWO_ADDRESSES) {
          listening.push(await listen(this.handler, this.port, address));
        }
        if (this.closed) throw new Error('closed meanwhile');
        this.listeners = listening;
        this.down = false;
        return;
      } catch (error) {
        await Promise.all(listening.map(closeNow));
        if (this.closed) return;
        if (attempt >= 50) {
          this.down = false; // give up: the run reports the error, the harness does not hang
          throw error;
        }
        await sleep(20);
      }
    }
  }
}

function listen(handler: Handler, port: number, host: string): Promise<http.Server> {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function closeNow(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
