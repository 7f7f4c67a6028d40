import { Logger } from '@aws-lambda-powertools/logger';
import { serviceName } from './constants.ts';

/**
 * The process's one structured JSON logger (Powertools). Handlers add the Lambda request id
 * through the middleware stack; the saga adds `checkout_id`. Request bodies are never logged,
 * so card data cannot reach a log line.
 */
export const logger = new Logger({
  serviceName: serviceName(),
  logLevel: (process.env.LOG_LEVEL ?? 'INFO') as 'INFO',
});
