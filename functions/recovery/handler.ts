import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import type { RECOVERY_REQUEST_SOURCE } from '#lib/observability/constants.ts';
import { logger } from '#lib/observability/index.ts';

/** The payload of a one-off recovery schedule (named for the minute it is due). */
interface RecoveryRequest {
  source: typeof RECOVERY_REQUEST_SOURCE;
}

/**
 * Finishes or undoes every checkout left half-done, within this invocation's time. Invoked by
 * the hourly sweep (an EventBridge rule) and by the one-off schedules due at the minute a
 * checkout left `incomplete` can be settled (`{ source: RECOVERY_REQUEST_SOURCE }`); both
 * run the same sweep, which also reports the backlog. Safe to run beside itself and live
 * traffic: checkouts are claimed with a lease, skipping rows another worker holds.
 */
export const handler = middy<ScheduledEvent | RecoveryRequest, unknown, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (_event, context) => {
    const app = await getApp();
    const remainingMs = context.getRemainingTimeInMillis();
    const worker = `recovery:${context.awsRequestId}`;
    return app.recoverAbandoned(workBudget(app.config.leaseMs, remainingMs, worker));
  });
