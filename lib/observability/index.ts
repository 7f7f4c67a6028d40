/**
 * Logs and metrics (Powertools) and the trace header, in one place: import them from here. The
 * CDK stack imports only `constants.ts`, so synthesizing never creates a logger.
 */
export { logger } from './logger.ts';
export { checkoutMetrics } from './metrics.ts';
export { traceHeader } from './trace-header.ts';
