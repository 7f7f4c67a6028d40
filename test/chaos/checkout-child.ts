/**
 * A warm child process for the chaos harness: it loads the real checkout handler, says it is
 * ready, then runs the one `POST /checkout/process` it reads from stdin (`{"body","key"}`) and
 * prints the handler's answer. The harness kills it (SIGKILL) when the simulated services see
 * a given request, so the checkout dies between saga steps. Environment as for the service.
 */
import { createInterface } from 'node:readline';
import { localContext, toApiGatewayEvent } from '#dev/local/api-gateway-event.ts';
import { handler } from '#functions/checkout/handler.ts';
import { getApp } from '#lib/app.ts';
import { installTwoAddressLookup } from './two-address-host.ts';

installTwoAddressLookup(); // the services' two-address name, as in the harness's process
await getApp();
process.stdout.write('\nCHAOS_CHILD_READY\n');
let line = '{}';
for await (const first of createInterface({ input: process.stdin })) {
  line = first;
  break;
}
const { body, key } = JSON.parse(line) as { body: string; key?: string };
const headers: Record<string, string> = { 'content-type': 'application/json' };
if (key) headers['idempotency-key'] = key;
const event = toApiGatewayEvent(
  {
    method: 'POST',
    path: '/checkout/process',
    query: new URLSearchParams(),
    headers,
    body,
    sourceIp: '127.0.0.1',
  },
  '/checkout/process',
  null,
);
const result = await handler(event, localContext('checkout'));
process.stdout.write(`\nCHAOS_CHILD_RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
