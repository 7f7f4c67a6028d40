import { isRunning, processInfo } from './process-running.ts';

/**
 * Calls `onGone` once the `npm` process that launched this one (or a process between them) has
 * ended. `npm start` runs `sh -c "tsx scripts/start.ts"`; npm passes a SIGTERM on to that shell
 * only, and `sh` (dash) ends without passing it to tsx and this process, which would be left
 * running with the WireMocks, the data folder and the port. Watching the chain up to npm stops
 * them as Ctrl-C does, and also when npm itself is killed. Nothing is watched when npm is not
 * an ancestor (e.g. `node --import tsx scripts/start.ts`) or the ancestors cannot be read.
 */
export function whenNpmLauncherEnds(onGone: () => void, everyMs = 500): void {
  if (!process.env.npm_lifecycle_event) return;
  const chain: number[] = [];
  for (let pid = process.ppid; pid > 1 && chain.length < 8; ) {
    const parent = processInfo(pid);
    if (!parent) return;
    chain.push(pid);
    if (/^npm(\s|$)|npm-cli\.js/.test(parent.command)) {
      const timer = setInterval(() => {
        if (chain.some((ancestor) => !isRunning(ancestor))) {
          clearInterval(timer);
          onGone();
        }
      }, everyMs);
      timer.unref();
      return;
    }
    pid = parent.ppid;
  }
}
