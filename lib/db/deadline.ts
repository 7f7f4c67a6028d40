import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The moment (epoch ms) by which the database calls of the work running now must have ended,
 * carried through that work's async calls without threading it through every port. The
 * composition root sets it per invocation (`lib/app.ts`); a driver that honours it (`rds-data`)
 * reads it at each call. Outside any scope there is none: local runs, tests, the CLI, `migrate`.
 */
const scope = new AsyncLocalStorage<number>();

/** Runs `fn` under `deadline`; a nested scope can only bring the deadline closer. */
export function withDeadline<T>(deadline: number | undefined, fn: () => T): T {
  if (deadline === undefined) return fn();
  const outer = scope.getStore();
  return scope.run(outer === undefined ? deadline : Math.min(outer, deadline), fn);
}

/** The deadline of the work running now, if it has one. */
export function currentDeadline(): number | undefined {
  return scope.getStore();
}
