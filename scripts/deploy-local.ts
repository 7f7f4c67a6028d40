/**
 * `npm run deploy:local`: deploys the stack into the LocalStack of `docker compose up -d` with
 * `cdklocal` and `-c target=localstack` (Lambdas on the `postgres` driver against the compose
 * database, WireMock for the three services). Checks first that LocalStack answers and that its
 * init hooks found the Lambda network, then bootstraps, deploys and prints the API's URLs.
 * Needs Docker; see docs/local-aws.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const endpoint = (process.env.AWS_ENDPOINT_URL ?? 'http://localhost:4566').replace(/\/+$/, '');
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const OUTPUTS_FILE = 'cdk.out/localstack-outputs.json';
const CDKLOCAL = path.join('node_modules', '.bin', 'cdklocal');

function fail(message: string): never {
  console.error(`\ndeploy:local: ${message}\n`);
  process.exit(1);
}

async function localstack<T>(route: string): Promise<T> {
  const res = await fetch(`${endpoint}${route}`, { signal: AbortSignal.timeout(3_000) });
  if (!res.ok) throw new Error(`${route} answered ${res.status}`);
  return (await res.json()) as T;
}

/** LocalStack answers, has Lambda and API Gateway, and its ready.d hooks all succeeded. */
async function checkLocalStack(): Promise<void> {
  let health: { edition?: string; version?: string; services?: Record<string, string> };
  try {
    health = await localstack('/_localstack/health');
  } catch (error) {
    fail(
      `LocalStack does not answer at ${endpoint} (${(error as Error).message}).
  Start it with:  docker compose up -d      (needs a Docker engine)
  then wait for:  docker compose logs -f localstack   to print "Ready."
  LocalStack 4.14.0 (the pinned community tag) needs no token; a newer or Pro image needs
  LOCALSTACK_AUTH_TOKEN in your shell or .env. Another endpoint: set AWS_ENDPOINT_URL.`,
    );
  }
  console.log(`LocalStack ${health.version ?? '?'} (${health.edition ?? '?'}) at ${endpoint}`);
  const missing = ['lambda', 'apigateway', 'cloudformation', 's3', 'iam'].filter(
    (service) => !['available', 'running'].includes(health.services?.[service] ?? ''),
  );
  if (missing.length > 0) {
    fail(`LocalStack does not offer ${missing.join(', ')}: check SERVICES in docker-compose.yml`);
  }

  const init = await localstack<{
    completed?: Record<string, boolean> | boolean;
    scripts?: { stage: string; name: string; state: string }[];
  }>('/_localstack/init/ready').catch(() => undefined);
  const done = typeof init?.completed === 'object' ? init.completed.READY : init?.completed;
  if (init && !done) fail('LocalStack is still running its init hooks: try again in a moment.');
  const failed = (init?.scripts ?? []).filter((s) => s.state === 'ERROR');
  if (failed.length > 0) {
    fail(
      `init hook ${failed.map((s) => s.name).join(', ')} failed: Lambdas would not reach ` +
        'postgres or WireMock. Its messages: docker compose logs localstack | grep "checkout init"',
    );
  }
}

function cdklocal(args: string[]): void {
  console.log(`\n$ cdklocal ${args.join(' ')}`);
  const result = spawnSync(CDKLOCAL, args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      // cdklocal drops AWS_* variables (so nothing reaches a real account) unless allowed.
      AWS_ENVAR_ALLOWLIST: 'AWS_REGION,AWS_DEFAULT_REGION',
    },
  });
  if (result.error) fail(`could not run ${CDKLOCAL}: ${result.error.message} (npm install?)`);
  if (result.status !== 0) fail(`cdklocal ${args[0]} failed (exit ${result.status}); see above.`);
}

/** API Gateway URLs among the stack outputs, with the path form LocalStack always serves. */
function printApiUrls(): void {
  if (!existsSync(OUTPUTS_FILE)) return;
  const outputs = JSON.parse(readFileSync(OUTPUTS_FILE, 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  for (const [stack, values] of Object.entries(outputs)) {
    for (const [key, value] of Object.entries(values)) {
      const api = /^https?:\/\/([a-z0-9]+)\.execute-api\.[^/]+\/([^/]+)/.exec(value);
      if (!api) continue;
      const [, id, stage] = api;
      console.log(`${stack}.${key}: ${value}`);
      console.log(`  curl ${endpoint}/restapis/${id}/${stage}/_user_request_/health`);
    }
  }
}

if (!existsSync('cdk.json')) fail('no cdk.json here: run this from the repository root.');
if (process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_S3) {
  // cdklocal refuses one without the other: S3 asset uploads need their own host form.
  fail('AWS_ENDPOINT_URL is set: set AWS_ENDPOINT_URL_S3 too (e.g. http://s3.<host>:4566).');
}
await checkLocalStack();
cdklocal(['bootstrap', '-c', 'target=localstack']);
cdklocal([
  'deploy',
  '--all',
  '-c',
  'target=localstack',
  '--require-approval',
  'never',
  '--outputs-file',
  OUTPUTS_FILE,
]);
printApiUrls();
console.log(`\nDeployed into LocalStack (${region}). Outputs: ${OUTPUTS_FILE}`);
