import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import validator from '@middy/validator';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger } from '#lib/observability/index.ts';
import { errorResponse } from './error-response.ts';
import { requestGuard } from './request-guard.ts';

export type HttpHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * The Middy stack every HTTP function shares, outermost first: the error responder (its
 * `onError` runs last), the Powertools logger context (request id on every line, keys reset
 * per invocation), and the header normalizer (lower-case header names).
 */
export function httpFunction(handler: HttpHandler) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(errorResponse(logger))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .handler(handler);
}

/** A validator compiled ahead of time from a JSON Schema (Ajv standalone code). */
export type CompiledValidator = ((event: unknown) => boolean) & { errors?: unknown[] | null };

/**
 * The middlewares of a route with a JSON body: content type and size checks, the JSON body
 * parser, and `@middy/validator` with the validator precompiled from the zod schema.
 */
export function jsonBody(eventValidator: CompiledValidator): MiddlewareObj[] {
  return [
    requestGuard(),
    // The request guard has already checked the media type, case-insensitively as RFC 9110
    // says; the parser's own check is case-sensitive and would reject `Application/JSON`.
    // (The option exists in Middy 6's code, not yet in its typings.)
    httpJsonBodyParser({ disableContentTypeCheck: true } as Parameters<
      typeof httpJsonBodyParser
    >[0]),
    validator({ eventSchema: eventValidator }),
  ] as MiddlewareObj[];
}

/** A route handler wrapped with the body middlewares (used inside `@middy/http-router`). */
export function withJsonBody(handler: HttpHandler, eventValidator: CompiledValidator) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(jsonBody(eventValidator))
    .handler(handler);
}
