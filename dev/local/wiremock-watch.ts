import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningWireMocks, WireMockExit } from './wiremock-process.ts';

export interface WireMockWatch {
  /** Where the notices go (stderr). */
  report(text: string): void;
  /** `npm start` must stop: called once, with what to say. */
  giveUp(message: string): void;
  /** Whether `npm start` is stopping: its WireMocks ending then is expected. */
  stopping(): boolean;
  /** How long a restarted WireMock must live for another restart (default one minute). */
  windowMs?: number;
  /**
   * How long to wait before acting on an end (default 1 s): Ctrl-C reaches the WireMocks too,
   * and `npm start` must have heard it first.
   */
  settleMs?: number;
  now?: () => number;
}

/**
 * Notices a WireMock of `npm start` that dies, which would otherwise only show as 502s: says
 * which service and what it last wrote, and starts it again once on the same port and root
 * dir. If it dies again within `windowMs` of that restart, or cannot be restarted, `giveUp`.
 */
export function watchWireMocks(
  wiremocks: Pick<RunningWireMocks, 'onExit' | 'restart'>,
  watch: WireMockWatch,
): void {
  const { windowMs = 60_000, settleMs = 1_000, now = Date.now } = watch;
  const restartedAt = new Map<WireMockExit['service'], number>();
  let gaveUp = false;
  const giveUp = (message: string) => {
    if (gaveUp) return;
    gaveUp = true;
    watch.giveUp(message);
  };

  wiremocks.onExit(async (exit) => {
    await sleep(settleMs);
    if (gaveUp || watch.stopping()) return;
    const { service, url } = exit;
    const ended = `the ${service} WireMock (pid ${exit.pid}, ${url}) ${howItEnded(exit)}`;
    const last = restartedAt.get(service);
    if (last !== undefined && now() - last < windowMs) {
      giveUp(
        [
          `npm start stops: ${ended} again, ${Math.round((now() - last) / 1000)} s after it was restarted.`,
          outputOf(exit),
          `Calls to ${service} would only fail (502). See its output above, check that Java and the ` +
            `machine's memory are fine and that nothing else stops it, then start again.`,
        ].join('\n'),
      );
      return;
    }
    watch.report(
      `${ended}; calls to ${service} fail until it is back.\n${outputOf(exit)}\n` +
        `restarting the ${service} WireMock on ${url} ...`,
    );
    try {
      const pid = await wiremocks.restart(service);
      restartedAt.set(service, now());
      watch.report(`the ${service} WireMock is running again (pid ${pid}, ${url})`);
    } catch (error) {
      giveUp(
        `npm start stops: the ${service} WireMock could not be restarted on ${url}: ` +
          `${error instanceof Error ? error.message : error}`,
      );
    }
  });
}

function howItEnded({ code, signal }: WireMockExit): string {
  if (signal) return `was killed (${signal})`;
  // Java ends with 128 + the signal's number when a signal stops it (SIGTERM: 143).
  if (code !== null && code > 128) return `was stopped (exit code ${code}, signal ${code - 128})`;
  return `exited with code ${code}`;
}

function outputOf({ output }: WireMockExit): string {
  if (!output) return '  (it wrote nothing before it ended)';
  const lines = output.split('\n').slice(-10);
  return ['  its last output:', ...lines.map((line) => `    ${line}`)].join('\n');
}
