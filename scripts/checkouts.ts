/**
 * `npm run checkouts -- <command>`: the operator's tool (docs/operations.md). Lists what needs
 * a person, shows a checkout with its history and what the services hold, retries or resolves
 * it; against DATABASE_URL, the Data API of a deployed stack, or the embedded database of
 * `npm start` (sent to that `npm start` while it runs: PGlite allows one process per folder).
 * The same commands as the operator function, through the same code.
 *
 * Exit codes: 0 done, 1 refused or failed (nothing to do, not found, database unreachable),
 * 2 not a command (nothing was read or changed).
 */
import { pathToFileURL } from 'node:url';
import {
  type OperatorAnswer,
  runOperatorCommand,
} from '#functions/operator/run-operator-command.ts';
import type { CheckoutReport } from '#lib/checkout/operations/show-checkout.ts';
import {
  type CliRequest,
  HELP_HINT,
  parseCliArguments,
  USAGE,
  UsageError,
} from './checkouts/cli-arguments.ts';
import {
  EnvironmentError,
  embeddedDatabaseProblem,
  operatorEnvironment,
} from './checkouts/operator-environment.ts';
import { renderAnswer } from './checkouts/render-answer.ts';
import { askRunningStart, runningStartOf } from './checkouts/running-start.ts';

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The exit code of a retry or resolve that leaves the checkout unfinished. */
const STILL_UNFINISHED = 3;

/** Runs one command line; returns the exit code. */
export async function runCheckoutsCli(argv: readonly string[], io: CliIo): Promise<number> {
  let request: CliRequest | undefined;
  try {
    request = parseCliArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`${error.message}\n${error.withUsage ? `\n${USAGE}` : HELP_HINT}`);
    return 2;
  }
  if (!request) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    return await run(request, io);
  } catch (error) {
    io.stderr(
      `${request.command.command} failed: ${error instanceof Error ? error.message : error}`,
    );
    return 1;
  }
}

async function run(request: CliRequest, io: CliIo): Promise<number> {
  const { env, servicesUnknown, servicesProblem } = operatorEnvironment(
    io.env,
    request.stackOutputs,
  );
  const { command } = request;
  // PGlite allows one process per folder: the `npm start` that holds it runs the command.
  const start = runningStartOf(env);
  if (start) {
    const answer = await askRunningStart(start, command);
    return printAnswer(
      request,
      io,
      answer,
      (services) =>
        `Not answered: ${services.join(', ')}, asked by \`npm start\` (pid ${start.pid}) at the URLs it uses.`,
    );
  }
  if (servicesUnknown && command.command === 'retry') {
    throw new EnvironmentError(
      servicesProblem
        ? `retry calls the services, and their URLs are not known: ${servicesProblem}`
        : 'retry calls the services, and their URLs are not known for this stack: set PAYMENT_SERVICE_URL, ' +
            'INVENTORY_SERVICE_URL and ORDER_SERVICE_URL, or invoke the operator function (docs/operations.md)',
    );
  }
  // Imported only now: the observability modules read their settings when first loaded.
  const { loadConfig } = await import('#lib/config.ts');
  const { createApp } = await import('#lib/app.ts');
  const config = loadConfig(env);
  if (config.database.driver === 'pglite') {
    const problem = await embeddedDatabaseProblem(config.database.dataDir, config);
    if (problem) throw new EnvironmentError(problem);
  }
  const app = await createApp(config);
  try {
    const answer = await runOperatorCommand(app, command);
    return printAnswer(request, io, answer, (unanswered) => {
      const urls = unanswered.map((service) => `${service} ${config[service].baseUrl}`);
      return servicesUnknown
        ? `The services were not asked: ${servicesProblem ?? 'set PAYMENT_SERVICE_URL, INVENTORY_SERVICE_URL and ORDER_SERVICE_URL.'}`
        : `Not answered: ${urls.join(', ')}. Locally \`npm start\` or \`docker compose up\` runs them; ` +
            'elsewhere set PAYMENT_SERVICE_URL, INVENTORY_SERVICE_URL and ORDER_SERVICE_URL.';
    });
  } finally {
    await app.db.close();
  }
}

/**
 * Prints the answer, wherever it was run (here, or by a running `npm start`); `notAnswered`
 * says which services a `show` could not ask. Returns the exit code.
 */
function printAnswer(
  request: CliRequest,
  io: CliIo,
  answer: OperatorAnswer,
  notAnswered: (services: ReturnType<typeof unansweredServices>) => string,
): number {
  io.stdout(request.json ? JSON.stringify(answer, null, 2) : renderAnswer(answer));
  const unanswered =
    answer.command === 'show' && 'services' in answer ? unansweredServices(answer.services) : [];
  if (unanswered.length > 0) io.stderr(notAnswered(unanswered));
  if ('refused' in answer) return 1;
  // Taken and tried, but a service did not answer: not done, and a script should know.
  return (answer.command === 'retry' || answer.command === 'resolve') && !answer.finished
    ? STILL_UNFINISHED
    : 0;
}

/** The services whose outcome lookup got no answer. */
function unansweredServices(services: CheckoutReport['services']) {
  return (['payment', 'inventory', 'order'] as const).filter((name) => 'unknown' in services[name]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Metrics mean something on Lambda only, and the saga's log lines (JSON) would drown the
  // answer, which says what they would: LOG_LEVEL=INFO shows them.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.LOG_LEVEL ??= 'SILENT';
  const code = await runCheckoutsCli(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
  });
  process.exitCode = code;
}
