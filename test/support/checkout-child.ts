/**
 * Runs one `POST /checkout/process` through the real checkout handler in its own process, so
 * a test can kill it (SIGKILL) between saga steps. Environment as for the service; the body
 * and the optional idempotency key come in CHILD_BODY and CHILD_KEY.
 */

import { localContext, toApiGatewayEvent } from '#dev/local/api-gateway-event.ts';
import { handler } from '#functions/checkout/handler.ts';

const headers: Record<string, string> = { 'content-type': 'application/json' };
if (process.env.CHILD_KEY) headers['idempotency-key'] = process.env.CHILD_KEY;
const event = toApiGatewayEvent(
  {
    method: 'POST',
    path: '/checkout/process',
    query: new URLSearchParams(),
    headers,
    body: process.env.CHILD_BODY ?? '{}',
    sourceIp: '127.0.0.1',
  },
  '/checkout/process',
  null,
);
const result = await handler(event, localContext('checkout'));
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
