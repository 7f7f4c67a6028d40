/**
 * The reference checkout (reference-checkout-handler.ts) served the way `npm start` serves ours
 * (scripts/start.ts): the Lambda runtime's invoke store, the same local gateway with the same
 * access log, in its own Node process. `npm run bench` starts it beside our server with the same
 * environment (LOG_LEVEL=ERROR, metrics off), so the two differ only in their handler.
 *
 *   APP_PORT (required), APP_HOST (127.0.0.1), and the handler's variables.
 */
import { emulateLambdaRuntime } from '#dev/local/lambda-runtime.ts';
import { createLocalGateway, type LambdaHttpHandler, listen } from '#dev/local/local-gateway.ts';

await emulateLambdaRuntime();
const { closeReference, handler, prepare } = await import('./reference-checkout-handler.ts');
await prepare();

const health: LambdaHttpHandler = async () => ({ statusCode: 200, body: '{"status":"ok"}' });
const server = createLocalGateway(
  [
    { method: 'GET', resource: '/health', functionName: 'reference', handler: health },
    {
      method: 'POST',
      resource: '/checkout/process',
      functionName: 'reference',
      handler,
    },
  ],
  undefined,
  { accessLog: (line) => process.stdout.write(`${JSON.stringify(line)}\n`) },
);
const url = await listen(server, Number(process.env.APP_PORT), process.env.APP_HOST ?? '127.0.0.1');
console.log(`reference checkout listening on ${url}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    await closeReference();
    process.exit(0);
  });
}
