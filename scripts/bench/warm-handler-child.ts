/**
 * The measured process of `measureWarmHandler` (warm-handler.ts): bundled by esbuild into a
 * plain .mjs and run on the Node under test with the environment Lambda gives the checkout
 * function. It imports the checkout bundle as deployed and calls its `handler` directly, one
 * invocation at a time as a Lambda instance does, then reports on fd 3 (stdout is the
 * function's own: its logs and EMF metrics, as on Lambda).
 *
 * Per invocation it also does what the Lambda runtime does in the same process: parses the
 * event's JSON, sets `_X_AMZN_TRACE_ID`, builds the context, and serialises the answer. The
 * runtime's HTTP calls to the Runtime API (next invocation, response) are not reproduced.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { percentile } from './stats.ts';

export interface ChildConfig {
  /** Absolute path of the checkout bundle (`index.mjs`). */
  bundle: string;
  /** The API Gateway proxy event, as JSON; each invocation gets its own ids and key. */
  event: string;
  warmup: number;
  invocations: number;
  functionName: string;
  memoryMb: number;
  timeoutMs: number;
  /** Every n-th invocation's trace is sampled (X-Ray's default rule samples 5 %). */
  sampleEvery: number;
}

export interface ChildReport {
  node: string;
  invocations: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMsP50: number;
  wallMsP99: number;
  rssMiB: number;
  peakRssMiB: number;
  heapUsedMiB: number;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const MiB = 1024 * 1024;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** An X-Ray trace header as Lambda passes it (`Root=1-<epoch hex>-<96 bits>;Parent=…;Sampled=…`). */
function traceHeader(sampled: boolean): string {
  const epoch = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epoch}-${hex(12)};Parent=${hex(8)};Sampled=${sampled ? 1 : 0};Lineage=1:${hex(4)}:0`;
}

function lambdaContext(config: ChildConfig, awsRequestId: string): Context {
  const deadline = Date.now() + config.timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${config.functionName}`,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId,
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: `2026/11/25/[$LATEST]${hex(16)}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? '') as ChildConfig;
  const { handler } = (await import(pathToFileURL(config.bundle).href)) as { handler: Handler };
  const wallMs: number[] = [];
  let cpuBefore: NodeJS.CpuUsage | undefined;
  for (let i = 0; i < config.warmup + config.invocations; i++) {
    if (i === config.warmup) cpuBefore = process.cpuUsage();
    const trace = traceHeader(i % config.sampleEvery === 0);
    process.env._X_AMZN_TRACE_ID = trace;
    const event = JSON.parse(config.event) as APIGatewayProxyEvent;
    const key = randomUUID();
    event.headers['Idempotency-Key'] = key;
    event.headers['X-Amzn-Trace-Id'] = trace;
    if (event.multiValueHeaders) {
      event.multiValueHeaders['Idempotency-Key'] = [key];
      event.multiValueHeaders['X-Amzn-Trace-Id'] = [trace];
    }
    event.requestContext.requestId = randomUUID();
    event.requestContext.requestTimeEpoch = Date.now();
    const context = lambdaContext(config, randomUUID());

    const started = performance.now();
    const result = await handler(event, context);
    const answer = JSON.stringify(result);
    const elapsed = performance.now() - started;
    if (i >= config.warmup) wallMs.push(elapsed);
    if (result?.statusCode !== 200) {
      throw new Error(`invocation ${i + 1} answered ${result?.statusCode}: ${answer}`);
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  const memory = process.memoryUsage();
  const report: ChildReport = {
    node: process.version,
    invocations: config.invocations,
    cpuUserMs: cpu.user / 1000,
    cpuSystemMs: cpu.system / 1000,
    wallMsP50: percentile(wallMs, 50),
    wallMsP99: percentile(wallMs, 99),
    rssMiB: memory.rss / MiB,
    // VmHWM, not resourceUsage().maxRSS: on Linux a child's maxRSS starts from its parent's
    // RSS at fork, so it would report the bench process's memory.
    peakRssMiB:
      Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024,
    heapUsedMiB: memory.heapUsed / MiB,
  };
  writeSync(3, `${JSON.stringify(report)}\n`);
}

main().then(
  // The handler's database pool and keep-alive sockets stay open, as on Lambda.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
