import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError, type ErrorDetail, ValidationError } from '#lib/errors.ts';
import { jsonResponse } from './responses.ts';

interface AjvError {
  instancePath: string;
  message?: string;
  keyword: string;
  params?: Record<string, unknown>;
}

interface MiddyHttpError extends Error {
  statusCode?: number;
  cause?: { package?: string; data?: unknown };
}

/**
 * The one place errors become HTTP answers. Our own `AppError`s carry their status and code;
 * the Middy body parser's and validator's errors become `validation_error`; anything else is a
 * 500 with a fixed message (no stack, SQL or URL ever leaves the service) and is logged.
 */
export function toErrorResponse(error: unknown): {
  response: APIGatewayProxyResult;
  unexpected: boolean;
} {
  const appError =
    fromMiddy(error as MiddyHttpError) ?? (error instanceof AppError ? error : undefined);
  if (appError) {
    const body: Record<string, unknown> = { error: appError.code, message: appError.message };
    if (appError instanceof ValidationError) body.details = appError.details;
    const headers: Record<string, string> =
      appError.statusCode === 503 ? { 'retry-after': '5' } : {};
    return {
      response: jsonResponse(appError.statusCode, body, headers),
      unexpected: false,
    };
  }
  return {
    response: jsonResponse(500, { error: 'internal_error', message: 'Internal server error' }),
    unexpected: true,
  };
}

/** Middy's own packages report errors with `cause.package`; translate the two we use. */
function fromMiddy(error: MiddyHttpError): AppError | undefined {
  switch (error?.cause?.package) {
    case '@middy/http-json-body-parser':
      return new ValidationError('The request body is not valid JSON', [
        { path: '(body)', message: 'malformed JSON' },
      ]);
    case '@middy/validator':
      return new ValidationError(
        'The checkout request is invalid',
        ajvDetails((error.cause?.data ?? []) as AjvError[]),
      );
    case '@middy/http-router':
      return new RouteNotFoundError('No such route');
    default:
      return undefined;
  }
}

class RouteNotFoundError extends AppError {
  override readonly name = 'RouteNotFoundError';
  readonly code = 'not_found';
  readonly statusCode = 404;
}

function ajvDetails(errors: AjvError[]): ErrorDetail[] {
  return errors.map((e) => {
    const segments = e.instancePath.split('/').filter(Boolean).slice(1); // drop "body"
    const property = e.params?.additionalProperty ?? e.params?.missingProperty;
    if (typeof property === 'string') segments.push(property);
    return { path: segments.join('.') || '(body)', message: ajvMessage(e) };
  });
}

function ajvMessage(e: AjvError): string {
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'required') return 'required';
  return e.message ?? e.keyword;
}

/** Middy middleware: register first so its `onError` runs last, after every other one. */
export function errorResponse(log: {
  error(message: string, ...extra: Record<string, unknown>[]): void;
}): MiddlewareObj {
  return {
    onError: async (request) => {
      if (request.response !== undefined) return;
      const { response, unexpected } = toErrorResponse(request.error);
      if (unexpected) {
        const error = request.error as Error;
        log.error('unhandled error', {
          error: { name: error?.name, message: error?.message, stack: error?.stack },
        });
      }
      request.response = response;
    },
  };
}
