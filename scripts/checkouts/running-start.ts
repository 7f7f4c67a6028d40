import { type FolderOwner, folderOwner } from '#dev/local/data-folder-lock.ts';
import { LOCAL_OPERATOR_PATH, LOCAL_TOKEN_HEADER } from '#dev/local/local-gateway.ts';
import type { OperatorCommand } from '#functions/operator/operator-command.ts';
import type { OperatorAnswer } from '#functions/operator/run-operator-command.ts';
import { EnvironmentError } from './operator-environment.ts';

/** A running `npm start` that holds an embedded database and serves its operator route. */
export type RunningStart = FolderOwner & { url: string; token: string };

/**
 * The `npm start` holding the embedded database in `env`'s PGLITE_DATA_DIR, when it can take
 * the CLI's commands (its lock names its URL and token); none for another database, or when no
 * live process holds the folder (the CLI opens it itself).
 */
export function runningStartOf(env: NodeJS.ProcessEnv): RunningStart | undefined {
  const dataDir = env.DATABASE_URL || env.DB_CLUSTER_ARN ? undefined : env.PGLITE_DATA_DIR;
  if (!dataDir || dataDir.startsWith('memory://')) return undefined;
  const owner = folderOwner(dataDir);
  return owner?.command === 'npm start' && owner.url && owner.token
    ? (owner as RunningStart)
    : undefined;
}

/** The operator route of a server on `url`, reached on loopback when it listens on every address. */
export function operatorRouteUrl(url: string): string {
  const route = new URL(LOCAL_OPERATOR_PATH, url);
  if (route.hostname === '0.0.0.0') route.hostname = '127.0.0.1';
  if (route.hostname === '[::]') route.hostname = '[::1]';
  return route.href;
}

/**
 * Sends `command` (the operator function's event) to the running `npm start`, which runs it on
 * its own database: the operator function's answer.
 */
export async function askRunningStart(
  start: RunningStart,
  command: OperatorCommand,
): Promise<OperatorAnswer> {
  const who = `\`npm start\` (pid ${start.pid}, ${start.url}), which holds the embedded database`;
  let response: Response;
  try {
    response = await fetch(operatorRouteUrl(start.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [LOCAL_TOKEN_HEADER]: start.token },
      body: JSON.stringify(command),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new EnvironmentError(
      `cannot reach ${who} (${cause}); if it is still starting, try again in a moment`,
    );
  }
  const body = await response.text();
  if (response.status !== 200) {
    throw new EnvironmentError(
      `${who}, did not take the command (HTTP ${response.status}${
        response.status === 404 ? ': it answers its operator route to this machine only' : ''
      }): ${body}`,
    );
  }
  return JSON.parse(body) as OperatorAnswer;
}
