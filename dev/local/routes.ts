import { handler as checkout } from '#functions/checkout/handler.ts';
import { handler as health } from '#functions/health/handler.ts';
import { parseOperatorCommand } from '#functions/operator/operator-command.ts';
import { runOperatorCommand } from '#functions/operator/run-operator-command.ts';
import { handler as webhooks } from '#functions/webhooks/handler.ts';
import { getApp } from '#lib/app.ts';
import { localContext } from './api-gateway-event.ts';
import { inInvocation } from './lambda-runtime.ts';
import { LOCAL_OPERATOR_PATH, type LocalOnlyRoute, type LocalRoute } from './local-gateway.ts';

/** The API's routes and the function behind each, as the CDK stack wires them. */
export const localRoutes: LocalRoute[] = [
  { method: 'GET', resource: '/health', functionName: 'health', handler: health },
  { method: 'POST', resource: '/checkout/process', functionName: 'checkout', handler: checkout },
  { method: 'GET', resource: '/checkout/{id}', functionName: 'checkout', handler: checkout },
  // Signed by the payment service, not keyed: `npm run pay` posts here, signed with
  // PAYMENT_WEBHOOK_SECRET or lib/config.ts's local development secret.
  {
    method: 'POST',
    resource: '/webhooks/payments',
    functionName: 'webhooks',
    handler: webhooks,
  },
];

/**
 * Not the API's: how `npm run checkouts` reaches the embedded database `npm start` holds
 * (PGlite allows one process per folder). The body is the operator function's event; the
 * answer, its result (the same use case, run on this process's database). Only for the local
 * user: loopback and the token of the data folder's lock file (local-gateway.ts).
 */
export function localOperatorRoute(token: string): LocalOnlyRoute {
  return {
    path: LOCAL_OPERATOR_PATH,
    token,
    async handle(body) {
      let event: unknown;
      try {
        event = JSON.parse(body);
      } catch {
        return { status: 400, body: { error: 'invalid_request', message: 'not JSON' } };
      }
      const parsed = parseOperatorCommand(event);
      if ('invalid' in parsed) return { status: 400, body: parsed.invalid };
      const context = localContext('operator');
      // Bounded as the CLI bounds it on its own database (the lease's length), not by a Lambda's.
      const answer = await inInvocation(context, async () =>
        runOperatorCommand(await getApp(), parsed.command),
      );
      return { status: 200, body: answer };
    },
  };
}
