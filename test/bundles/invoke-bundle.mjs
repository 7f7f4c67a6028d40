/**
 * Runs in a fresh Node process, as the Lambda runtime would: imports one built bundle, then
 * calls its `handler` on each event file in turn (one cold start, then warm invocations) and
 * prints one line `SMOKE_RESULT <json>` with what each call returned or threw. Plain `.mjs`
 * on purpose: it must load on any Node without a TypeScript loader.
 *
 * usage: node invoke-bundle.mjs <bundle.mjs> <functionName> <event.json>...
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [bundle, functionName, ...eventFiles] = process.argv.slice(2);

/** The parts of the Lambda context object that Powertools and Middy read. */
const lambdaContext = (requestId) => ({
  callbackWaitsForEmptyEventLoop: true,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: requestId,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: '2026/01/01/[$LATEST]smoke',
  getRemainingTimeInMillis: () => 29_000,
  done() {},
  fail() {},
  succeed() {},
});

const describe = (error) => ({
  name: error?.name,
  message: error?.message,
  stack: error?.stack,
});

const results = [];
let mod;
try {
  mod = await import(pathToFileURL(bundle).href);
} catch (error) {
  results.push({ event: null, phase: 'import', error: describe(error) });
}
if (mod) {
  for (const [i, file] of eventFiles.entries()) {
    try {
      const event = JSON.parse(readFileSync(file, 'utf8'));
      const value = await mod.handler(event, lambdaContext(`smoke-${i}`));
      results.push({ event: file, phase: 'invoke', value });
    } catch (error) {
      results.push({ event: file, phase: 'invoke', error: describe(error) });
    }
  }
}
process.stdout.write(`\nSMOKE_RESULT ${JSON.stringify({ node: process.version, results })}\n`);
// Lambda freezes the process between invocations; here the pg pool's idle sockets would keep
// it alive, so leave at once.
process.exit(0);
