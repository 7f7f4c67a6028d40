import { Tracer } from '@aws-lambda-powertools/tracer';
import { serviceName } from './constants.ts';

/**
 * X-Ray tracing through Powertools: one segment per invocation, with every downstream HTTP
 * call (payment, inventory, order) and every AWS SDK client passed to `captureAWSv3Client`
 * (the Data API) as a subsegment. It switches itself off outside Lambda (local server, tests),
 * so it costs nothing there.
 */
export const tracer = new Tracer({ serviceName: serviceName() });
