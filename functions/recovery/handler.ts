import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { workBudget } from '#lib/checkout/lease.ts';
import { logger, tracer } from '#lib/observability/index.ts';

/**
 * Runs on a schedule (EventBridge): finishes or undoes every checkout left half-done, within
 * this invocation's time. Safe to run beside itself and live traffic: checkouts are claimed
 * with a lease, skipping rows another worker holds.
 */
export const handler = middy<ScheduledEvent, unknown, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (_event, context) => {
    const app = await getApp();
    return app.recoverAbandoned(workBudget(app.config.leaseMs, context.getRemainingTimeInMillis()));
  });
