import { handler as checkout } from '#functions/checkout/handler.ts';
import { handler as health } from '#functions/health/handler.ts';
import type { LocalRoute } from './local-gateway.ts';

/** The API's routes and the function behind each, as the CDK stack wires them. */
export const localRoutes: LocalRoute[] = [
  { method: 'GET', resource: '/health', functionName: 'health', handler: health },
  { method: 'POST', resource: '/checkout/process', functionName: 'checkout', handler: checkout },
  { method: 'GET', resource: '/checkout/{id}', functionName: 'checkout', handler: checkout },
];
