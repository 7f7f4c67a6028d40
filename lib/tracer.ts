import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from './metrics.ts';

/**
 * X-Ray tracing through Powertools: one segment per invocation, with every downstream HTTP
 * call (payment, inventory, order, the Data API) as a subsegment. It switches itself off
 * outside Lambda (local server, tests), so it costs nothing there.
 */
export const tracer = new Tracer({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? SERVICE_NAME,
});
