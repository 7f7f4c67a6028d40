import { InvokeStore, InvokeStoreBase } from '@aws/lambda-invoke-store';
import type { Context } from 'aws-lambda';

/**
 * The local stand-in for what the Lambda runtime does around each invocation, for the one
 * process that serves every function (`npm start`, `npm run invoke`).
 *
 * On Lambda each function has its own process, and a process runs one invocation at a time, so
 * the Powertools logger (one per process) holds one invocation's context. Locally, checkout,
 * health and recovery invocations overlap in one process: they share that logger, and would
 * overwrite each other's request id, function name and keys. Lambda has the same situation
 * when one environment runs several invocations at once (`AWS_LAMBDA_MAX_CONCURRENCY`): its
 * runtime then runs each invocation in its own scope of the `InvokeStore`, where Powertools keeps
 * the per-invocation state. `emulateLambdaRuntime` turns that mode on and `inInvocation` opens
 * the scope, so `lib/` runs unchanged and nothing is added on Lambda.
 */
let store: InvokeStoreBase | undefined;

/**
 * Sets up the runtime's environment and invoke store. Call it before `lib/observability` is
 * first imported: Powertools reads `AWS_LAMBDA_INITIALIZATION_TYPE` (which makes the first
 * invocation report `cold_start: true`) when the logger is created. Only in a process that
 * spawns no Node child: the children would inherit `AWS_LAMBDA_MAX_CONCURRENCY` without a store.
 */
export async function emulateLambdaRuntime(): Promise<void> {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE ??= 'on-demand';
  // Forced to the AsyncLocalStorage-backed store: the variable below is set only afterwards.
  store = await InvokeStore.getInstanceAsync(true);
  // Any value turns per-invocation scoping on; the local server sets no limit of its own.
  process.env.AWS_LAMBDA_MAX_CONCURRENCY ??= '64';
}

/**
 * Runs one invocation in its own scope, as the runtime does: what the handler's middleware
 * puts in the logger (Lambda context, appended keys) stays with this invocation. Without
 * `emulateLambdaRuntime` (the tests' in-process gateway) it simply runs `work`.
 */
export function inInvocation<T>(context: Context, work: () => Promise<T>): Promise<T> {
  if (!store) return work();
  return store.run({ [InvokeStoreBase.PROTECTED_KEYS.REQUEST_ID]: context.awsRequestId }, work);
}
