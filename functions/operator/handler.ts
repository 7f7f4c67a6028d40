import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { getApp } from '#lib/app.ts';
import { logger } from '#lib/observability/index.ts';
import { type InvalidCommand, parseOperatorCommand } from './operator-command.ts';
import { type OperatorAnswer, runOperatorCommand } from './run-operator-command.ts';

/**
 * The operator's entry point on AWS, with no route: invoked with `aws lambda invoke` and a
 * command as the payload (`{"command":"list","status":"requires_attention"}`; see
 * docs/operations.md), it answers JSON. A payload that is not a command is answered with the
 * reason, not thrown, so an operator's typo does not trip the Lambda errors alarm.
 */
export const handler = middy<unknown, OperatorAnswer | InvalidCommand, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event, context) => {
    const parsed = parseOperatorCommand(event);
    if ('invalid' in parsed) return parsed.invalid;
    const { command } = parsed;
    logger.info('operator command', { command: command.command, by: command.by });
    return runOperatorCommand(await getApp(), command, context.getRemainingTimeInMillis());
  });
