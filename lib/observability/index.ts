/**
 * Logs, metrics and traces (Powertools), in one place: import them from here. The CDK stack
 * imports only `constants.ts`, so synthesizing never creates a logger or a tracer.
 */
export { logger } from './logger.ts';
export { checkoutMetrics } from './metrics.ts';
export { tracer } from './tracer.ts';
