import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./checkout-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const READY = 'CHAOS_CHILD_READY';
const RESULT = 'CHAOS_CHILD_RESULT ';

export type ChildResult =
  | {
      kind: 'answered';
      statusCode: number;
      body: string;
      replayed: boolean;
      retryAfter: string | null;
    }
  | { kind: 'killed' }
  | { kind: 'died'; detail: string };

/** Settings a child process gets on top of the harness's environment (`PAYMENT_CAPTURE`). */
export type ChildEnv = Readonly<Record<string, string>>;

/** A child process that has loaded the handler and waits for its one checkout. */
export class WarmChild {
  readonly ready: Promise<void>;
  private output = '';
  private readonly exited: Promise<void>;

  constructor(
    private readonly process: ChildProcess,
    capture: (text: string) => void,
    /** What it was started with on top of the harness's environment. */
    readonly env: ChildEnv = {},
  ) {
    this.exited = new Promise((resolve) => process.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const text = String(chunk);
        this.output += text;
        capture(text);
        if (this.output.includes(READY)) resolve();
      };
      process.stdout?.on('data', onData);
      process.stderr?.on('data', (chunk: Buffer) => capture(String(chunk)));
      void this.exited.then(() => reject(new Error(`child exited before ready: ${this.output}`)));
    });
    this.ready.catch(() => {});
    // A child that never gets ready is not waited for forever.
    const stuck = setTimeout(() => this.kill(), 60_000);
    void this.ready.then(
      () => clearTimeout(stuck),
      () => clearTimeout(stuck),
    );
  }

  /** Sends the checkout and waits for the answer, the kill, or `timeoutMs`. */
  async run(input: { body: string; key?: string }, timeoutMs: number): Promise<ChildResult> {
    this.process.stdin?.end(`${JSON.stringify(input)}\n`);
    const timer = setTimeout(() => this.kill(), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    const line = this.output.split('\n').find((l) => l.startsWith(RESULT));
    if (line) {
      const result = JSON.parse(line.slice(RESULT.length)) as {
        statusCode: number;
        body: string;
        headers?: Record<string, string>;
      };
      return {
        kind: 'answered',
        statusCode: result.statusCode,
        body: result.body,
        replayed: result.headers?.['idempotent-replayed'] === 'true',
        retryAfter: result.headers?.['retry-after'] ?? null,
      };
    }
    if (this.process.signalCode === 'SIGKILL') return { kind: 'killed' };
    return { kind: 'died', detail: `exit ${this.process.exitCode}: ${this.output.slice(-400)}` };
  }

  /** SIGKILL: no cleanup, no answer. False when it had already exited. */
  kill(): boolean {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return false;
    return this.process.kill('SIGKILL');
  }

  async dispose() {
    this.kill();
    await this.exited;
  }
}

/**
 * Keeps one child process warm (the handler loaded) so a scenario that kills one does not
 * wait for a cold start. Children get the harness's environment as it is when they start, with
 * the settings they are asked for on top (the app reads its configuration once, so a child's
 * `PAYMENT_CAPTURE` is the one it started with). The warm child is started with the settings
 * `prefer` names (the next scenario's); a `take` asking for others starts a child of its own.
 */
export class ChildPool {
  private next: WarmChild | undefined;
  private preferred: ChildEnv = {};

  constructor(private readonly capture: (text: string) => void) {}

  /** The settings the next child to warm is started with. */
  prefer(env: ChildEnv) {
    this.preferred = env;
  }

  /** Starts a warm child in the background if none is waiting. */
  prewarm() {
    this.next ??= this.spawn(this.preferred);
  }

  /**
   * A ready child started with `env` (by default the preferred settings), starting one if the
   * warm one has other settings; another starts warming for the next caller.
   */
  async take(env: ChildEnv = this.preferred): Promise<WarmChild> {
    let child = this.next;
    this.next = undefined;
    if (child && !sameEnv(child.env, env)) {
      void child.dispose();
      child = undefined;
    }
    child ??= this.spawn(env);
    try {
      await child.ready;
    } catch {
      const fresh = this.spawn(env);
      await fresh.ready;
      return fresh;
    }
    return child;
  }

  async close() {
    await this.next?.dispose();
    this.next = undefined;
  }

  private spawn(env: ChildEnv): WarmChild {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return new WarmChild(child, this.capture, env);
  }
}

function sameEnv(a: ChildEnv, b: ChildEnv): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
