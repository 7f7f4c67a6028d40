import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describeOwner, folderOwner } from '#dev/local/data-folder-lock.ts';
import { localServiceUrls } from '#dev/local/service-urls.ts';

/** The folder `npm start` keeps its embedded database in (scripts/start.ts). */
export const LOCAL_PGLITE_DIR = '.data/pglite';

/** The CLI cannot run against what is configured; the message says why (exit code 1). */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

/** The services' URL variables, and the outputs of a stack that may carry them. */
const SERVICES = [
  { name: 'payment', variable: 'PAYMENT_SERVICE_URL', output: 'PaymentServiceUrl' },
  { name: 'inventory', variable: 'INVENTORY_SERVICE_URL', output: 'InventoryServiceUrl' },
  { name: 'order', variable: 'ORDER_SERVICE_URL', output: 'OrderServiceUrl' },
] as const;

export interface OperatorEnvironment {
  /** What the CLI's app is configured from. */
  env: NodeJS.ProcessEnv;
  /**
   * A deployed stack's database without its services' URLs: nothing may be sent to the
   * services (the local WireMocks would answer in their place, and a refund they "made" would
   * be recorded as done).
   */
  servicesUnknown: boolean;
  /** Why the local services' URLs cannot be told (WIREMOCK_BASE_PORT), when that is the reason. */
  servicesProblem?: string;
}

/**
 * The environment the CLI runs with: `DATABASE_URL` if set; else the Data API, from
 * DB_CLUSTER_ARN/DB_SECRET_ARN or a stack's outputs file (which, named explicitly, wins); else
 * the embedded database of `npm start`. Service URLs: the configured ones (or the stack's
 * outputs); else, beside a local database, the WireMocks `npm start` runs (on
 * WIREMOCK_BASE_PORT, default 8081, and the next two).
 */
export function operatorEnvironment(
  env: NodeJS.ProcessEnv,
  stackOutputsFile?: string,
): OperatorEnvironment {
  const result: NodeJS.ProcessEnv = { ...env };
  if (stackOutputsFile) {
    delete result.DATABASE_URL;
    const outputs = stackOutputs(stackOutputsFile);
    for (const { variable, output } of SERVICES) result[variable] ??= outputs.text(output);
    Object.assign(result, dataApiFrom(outputs));
  } else if (result.DATABASE_URL) {
    delete result.DB_CLUSTER_ARN;
  }
  const deployed = Boolean(result.DB_CLUSTER_ARN);
  if (deployed) result.AWS_REGION ??= result.DB_CLUSTER_ARN?.split(':')[3];
  else if (!result.DATABASE_URL) result.PGLITE_DATA_DIR ??= LOCAL_PGLITE_DIR;
  let servicesUnknown = deployed && SERVICES.some(({ variable }) => !result[variable]);
  // Locally, the WireMocks of `npm start`, wherever WIREMOCK_BASE_PORT puts them.
  let local: Record<(typeof SERVICES)[number]['name'], string> | undefined;
  let servicesProblem: string | undefined;
  if (!servicesUnknown) {
    try {
      local = localServiceUrls(result);
    } catch (error) {
      // A bad or 0 WIREMOCK_BASE_PORT: what reads the database alone still runs.
      servicesProblem = (error as Error).message;
      servicesUnknown = true;
    }
  }
  for (const { name, variable } of SERVICES) {
    // `.invalid` never resolves: a lookup fails at once instead of reaching a local WireMock.
    result[variable] ??= local?.[name] ?? `http://${name}.not-configured.invalid`;
  }
  return { env: result, servicesUnknown, ...(servicesProblem && { servicesProblem }) };
}

/** The outputs of the one stack in a `cdk deploy --outputs-file` file that has a database. */
function stackOutputs(file: string) {
  let outputs: unknown;
  try {
    outputs = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new EnvironmentError(
      `cannot read the stack outputs ${file}: ${(error as Error).message}`,
    );
  }
  const stacks = Object.values(isRecord(outputs) ? outputs : {}).filter(
    (stack): stack is Record<string, unknown> => isRecord(stack) && 'DbClusterArn' in stack,
  );
  if (stacks.length !== 1) {
    throw new EnvironmentError(
      stacks.length === 0
        ? `no stack with a DbClusterArn output in ${file} (is it the outputs of an aws deploy?)`
        : `${file} holds several stacks with a DbClusterArn; keep only the one to operate on`,
    );
  }
  const [stack = {}] = stacks;
  return {
    file,
    text: (key: string) => (typeof stack[key] === 'string' ? stack[key] : undefined),
  };
}

/** DB_CLUSTER_ARN, DB_SECRET_ARN (and DB_NAME when the stack outputs it). */
function dataApiFrom(outputs: ReturnType<typeof stackOutputs>): Record<string, string> {
  const clusterArn = outputs.text('DbClusterArn');
  const secretArn = outputs.text('DbSecretArn');
  if (!clusterArn || !secretArn) {
    throw new EnvironmentError(`${outputs.file} needs both DbClusterArn and DbSecretArn outputs`);
  }
  const name = outputs.text('DbName');
  return {
    DB_CLUSTER_ARN: clusterArn,
    DB_SECRET_ARN: secretArn,
    ...(name && { DB_NAME: name }),
  };
}

/**
 * Why the embedded database in `dataDir` cannot be opened by this process, if it cannot.
 * PGlite takes no lock: two processes on one folder would corrupt it silently. `npm start`
 * holds the folder's lock file, which names it; any other PGlite that has the folder open holds
 * `postmaster.pid` (removed when it closes), so its presence means another process has it.
 */
export async function embeddedDatabaseProblem(
  dataDir: string,
  appUrl: { host: string; port: number },
): Promise<string | undefined> {
  if (dataDir.startsWith('memory://')) return undefined;
  if (!existsSync(dataDir)) {
    return (
      `no embedded database in ${dataDir}: \`npm start\` creates it on its first run; ` +
      'or point the CLI at a database: DATABASE_URL=postgres://..., or --stack-outputs FILE'
    );
  }
  const owner = folderOwner(dataDir);
  if (owner) {
    return [
      `the embedded database ${dataDir} is open in another process, ${describeOwner(owner)}, and PGlite allows one process per folder.`,
      `Stop it (Ctrl-C in its terminal, or kill ${owner.pid}) and run this again, or run both against PostgreSQL:`,
      RUN_BOTH_ON_POSTGRES,
    ].join('\n');
  }
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const started = await answers(appUrl.host, appUrl.port);
  return [
    `the embedded database ${dataDir} is open in another process` +
      (started ? ` (\`npm start\` is running on http://${appUrl.host}:${appUrl.port})` : '') +
      ', and PGlite allows one process per folder.',
    'Stop `npm start` (Ctrl-C) and run this again, or run both against PostgreSQL:',
    RUN_BOTH_ON_POSTGRES,
    ...(started
      ? []
      : [`If nothing uses it any more (a process that was killed), delete ${pidFile}.`]),
  ].join('\n');
}

const RUN_BOTH_ON_POSTGRES =
  '  DATABASE_URL=postgres://... npm start   and   DATABASE_URL=postgres://... npm run checkouts -- ...';

/** Whether something accepts TCP connections on host:port within a short time. */
function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 300 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
