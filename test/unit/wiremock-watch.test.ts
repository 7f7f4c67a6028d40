import { describe, expect, it } from 'vitest';
import type { ServiceName, WireMockExit } from '#dev/local/wiremock-process.ts';
import { watchWireMocks } from '#dev/local/wiremock-watch.ts';

/*
 * What `npm start` does when one of its WireMocks dies: says so, restarts it once, and stops
 * when it dies again within a minute. The real processes: test/integration/npm-start.test.ts.
 */

function fakeWireMocks({ restartFails = false } = {}) {
  let listener: (exit: WireMockExit) => void = () => {};
  let pid = 500;
  const restarts: ServiceName[] = [];
  return {
    restarts,
    onExit(l: (exit: WireMockExit) => void) {
      listener = l;
    },
    async restart(service: ServiceName) {
      restarts.push(service);
      if (restartFails)
        throw new Error('WireMock at http://127.0.0.1:9081 exited: Address already in use');
      return ++pid;
    },
    die(service: ServiceName, exit: Partial<WireMockExit> = {}) {
      listener({
        service,
        pid,
        url: 'http://127.0.0.1:9081',
        code: null,
        signal: 'SIGKILL',
        output: '',
        ...exit,
      });
    },
  };
}

function watched(options: { restartFails?: boolean; stopping?: boolean } = {}) {
  const wiremocks = fakeWireMocks(options);
  const reports: string[] = [];
  const gaveUp: string[] = [];
  let clock = 1_000_000;
  watchWireMocks(wiremocks, {
    report: (text) => reports.push(text),
    giveUp: (message) => gaveUp.push(message),
    stopping: () => options.stopping ?? false,
    settleMs: 0,
    now: () => clock,
  });
  const settled = () => new Promise((resolve) => setTimeout(resolve, 10));
  return { wiremocks, reports, gaveUp, settled, advance: (ms: number) => (clock += ms) };
}

describe('a WireMock of npm start that dies', () => {
  it('is named with its output, and restarted once on the same port', async () => {
    const { wiremocks, reports, gaveUp, settled } = watched();
    wiremocks.die('payment', {
      output: 'java.lang.OutOfMemoryError: Java heap space',
      signal: null,
      code: 1,
    });
    await settled();
    expect(wiremocks.restarts).toEqual(['payment']);
    expect(reports.join('\n')).toContain(
      'the payment WireMock (pid 500, http://127.0.0.1:9081) exited with code 1; calls to payment fail until it is back.',
    );
    expect(reports.join('\n')).toContain('    java.lang.OutOfMemoryError: Java heap space');
    expect(reports.at(-1)).toBe(
      'the payment WireMock is running again (pid 501, http://127.0.0.1:9081)',
    );
    expect(gaveUp).toEqual([]);
  });

  it('stops npm start when it dies again within a minute of its restart', async () => {
    const { wiremocks, gaveUp, settled, advance } = watched();
    wiremocks.die('order');
    await settled();
    advance(20_000);
    wiremocks.die('order');
    await settled();
    expect(wiremocks.restarts).toEqual(['order']);
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toContain(
      'npm start stops: the order WireMock (pid 501, http://127.0.0.1:9081) was killed (SIGKILL) again, 20 s after it was restarted.',
    );
    expect(gaveUp[0]).toContain('(it wrote nothing before it ended)');
  });

  it('is restarted again when it lived over a minute, and each service counts alone', async () => {
    const { wiremocks, gaveUp, settled, advance } = watched();
    wiremocks.die('inventory');
    await settled();
    wiremocks.die('payment');
    await settled();
    advance(61_000);
    wiremocks.die('inventory', { code: 143, signal: null });
    await settled();
    expect(wiremocks.restarts).toEqual(['inventory', 'payment', 'inventory']);
    expect(gaveUp).toEqual([]);
  });

  it('stops npm start when it cannot be restarted', async () => {
    const { wiremocks, gaveUp, settled } = watched({ restartFails: true });
    wiremocks.die('payment');
    await settled();
    expect(gaveUp).toEqual([
      'npm start stops: the payment WireMock could not be restarted on http://127.0.0.1:9081: WireMock at http://127.0.0.1:9081 exited: Address already in use',
    ]);
  });

  it('is expected while npm start stops (Ctrl-C reaches the WireMocks too)', async () => {
    const { wiremocks, reports, gaveUp, settled } = watched({ stopping: true });
    wiremocks.die('payment', { code: 130, signal: null });
    await settled();
    expect([wiremocks.restarts, reports, gaveUp]).toEqual([[], [], []]);
  });
});
