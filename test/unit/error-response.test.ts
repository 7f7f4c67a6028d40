import type { MiddlewareObj, Request } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import validator from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  NotFoundError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '#lib/errors.ts';
import { errorResponse, toErrorResponse } from '#lib/http/error-response.ts';
import { MAX_BODY_BYTES, requestGuard } from '#lib/http/request-guard.ts';

/** A request as `@middy/core` builds it: `response` starts `undefined` (its types say `null`). */
function middyRequest<TEvent>(event: TEvent, error?: unknown): Request<TEvent> {
  const request = { event, context: {} as Context, response: undefined, error, internal: {} };
  return request as unknown as Request<TEvent>;
}

/** Runs a middleware's `before` and returns what it threw, or `undefined`. */
async function thrownBy<TEvent>(
  middleware: MiddlewareObj<TEvent>,
  event: TEvent,
): Promise<unknown> {
  try {
    await middleware.before?.(middyRequest(event));
    return undefined;
  } catch (error) {
    return error;
  }
}

const bodyOf = (error: unknown) => JSON.parse(toErrorResponse(error).response.body);
const detailPaths = (error: unknown) =>
  (bodyOf(error).details as { path: string }[]).map((d) => d.path);

describe('toErrorResponse', () => {
  it('answers a ValidationError with 400, its code, message and details', () => {
    const details = [{ path: 'items.0.price', message: 'too small' }];
    const { response, unexpected } = toErrorResponse(new ValidationError('invalid', details));
    expect(unexpected).toBe(false);
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({
      error: 'validation_error',
      message: 'invalid',
      details,
    });
  });

  it.each([
    [new PayloadTooLargeError('too big'), 413, 'payload_too_large'],
    [new UnsupportedMediaTypeError('not json'), 415, 'unsupported_media_type'],
    [new NotFoundError('no such checkout'), 404, 'not_found'],
  ])('answers %s with its status %s and code %s, without details', (error, status, code) => {
    const { response } = toErrorResponse(error);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual({ error: code, message: error.message });
  });

  it('answers a Middy JSON body parser error with 400 validation_error', () => {
    const error = new Error('Invalid or malformed JSON was provided', {
      cause: { package: '@middy/http-json-body-parser', data: '{bad' },
    });
    const { response, unexpected } = toErrorResponse(error);
    expect(unexpected).toBe(false);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      error: 'validation_error',
      details: [{ path: '(body)' }],
    });
  });

  it('answers the real body parser’s error for malformed JSON with 400, without echoing the body', async () => {
    const error = await thrownBy(httpJsonBodyParser(), {
      headers: { 'content-type': 'application/json' },
      body: '{"card_number":"4111111111111111",',
    } as unknown as APIGatewayProxyEvent);
    const { response } = toErrorResponse(error);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toBe('validation_error');
    expect(response.body).not.toContain('4111111111111111');
  });

  it('maps a Middy validator error’s Ajv errors to body-relative detail paths', () => {
    const error = new Error('Event object failed validation', {
      cause: {
        package: '@middy/validator',
        data: [
          {
            instancePath: '/body/items/0/price',
            keyword: 'exclusiveMinimum',
            message: 'must be > 0',
            params: { comparison: '>', limit: 0 },
          },
          {
            instancePath: '/body',
            keyword: 'additionalProperties',
            message: 'must NOT have additional properties',
            params: { additionalProperty: 'a' },
          },
          {
            instancePath: '/body/shipping_address',
            keyword: 'required',
            message: "must have required property 'city'",
            params: { missingProperty: 'city' },
          },
        ],
      },
    });
    const { response } = toErrorResponse(error);
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      error: 'validation_error',
      message: 'The checkout request is invalid',
      details: [
        { path: 'items.0.price', message: 'must be > 0' },
        { path: 'a', message: 'unknown field' },
        { path: 'shipping_address.city', message: 'required' },
      ],
    });
  });

  it('maps the real validator middleware’s error the same way', async () => {
    const eventSchema = transpileSchema(
      {
        type: 'object',
        required: ['body'],
        properties: {
          body: {
            type: 'object',
            properties: {
              items: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { price: { type: 'number', exclusiveMinimum: 0 } },
                },
              },
            },
            additionalProperties: false,
          },
        },
      },
      { coerceTypes: false, useDefaults: false },
    );
    const error = await thrownBy(validator({ eventSchema }), {
      body: { items: [{ price: 0 }], a: 1 },
    });
    expect(toErrorResponse(error).response.statusCode).toBe(400);
    expect(detailPaths(error).sort()).toEqual(['a', 'items.0.price']);
  });

  it('answers DatabaseUnavailableError with 503 and a Retry-After header', () => {
    const { response, unexpected } = toErrorResponse(new DatabaseUnavailableError());
    expect(unexpected).toBe(false);
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(response.body).error).toBe('service_unavailable');
  });

  it('answers a Middy router error with 404 not_found', () => {
    const error = new Error('Route does not exist', { cause: { package: '@middy/http-router' } });
    const { response } = toErrorResponse(error);
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body).error).toBe('not_found');
  });

  it('answers an unknown error with a bare 500 that leaks neither SQL nor URLs', () => {
    const error = new Error('SELECT * FROM secret at http://internal');
    const { response, unexpected } = toErrorResponse(error);
    expect(unexpected).toBe(true);
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body)).toEqual({
      error: 'internal_error',
      message: 'Internal server error',
    });
    expect(response.body).not.toContain('SELECT');
    expect(response.body).not.toContain('http://internal');
    expect(response.headers).not.toHaveProperty('retry-after');
  });

  it.each([
    ['a string', 'boom'],
    ['undefined', undefined],
    ['null', null],
  ])('answers a thrown %s with 500', (_what, thrown) => {
    const { response, unexpected } = toErrorResponse(thrown);
    expect(response.statusCode).toBe(500);
    expect(unexpected).toBe(true);
  });
});

describe('errorResponse middleware', () => {
  function recordingLog() {
    const lines: Array<{ message: string; extra: Record<string, unknown>[] }> = [];
    return {
      lines,
      error: (message: string, ...extra: Record<string, unknown>[]) =>
        lines.push({ message, extra }),
    };
  }

  it('sets the response and logs an unexpected error with its stack', async () => {
    const log = recordingLog();
    const request = middyRequest({}, new Error('SELECT * FROM secret'));
    await errorResponse(log).onError?.(request);
    expect(request.response).toMatchObject({ statusCode: 500 });
    expect(log.lines).toHaveLength(1);
    expect(JSON.stringify(log.lines[0]?.extra)).toContain('SELECT * FROM secret');
  });

  it('does not log an error it expected', async () => {
    const log = recordingLog();
    const request = middyRequest({}, new ValidationError('invalid'));
    await errorResponse(log).onError?.(request);
    expect(request.response).toMatchObject({ statusCode: 400 });
    expect(log.lines).toHaveLength(0);
  });

  it('keeps a response another middleware already set', async () => {
    const request = middyRequest({}, new Error('late'));
    const earlier = { statusCode: 418, body: '' };
    request.response = earlier;
    await errorResponse(recordingLog()).onError?.(request);
    expect(request.response).toBe(earlier);
  });
});

describe('requestGuard', () => {
  const event = (headers: Record<string, string>, body: string | null, isBase64Encoded = false) =>
    ({ headers, body, isBase64Encoded }) as unknown as APIGatewayProxyEvent;
  const guard = (e: APIGatewayProxyEvent) => thrownBy(requestGuard(), e);

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/jsonp',
    'multipart/form-data; boundary=x',
  ])('refuses the content type %s as unsupported media', async (contentType) => {
    const error = await guard(event({ 'content-type': contentType }, '{}'));
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(error).toMatchObject({ statusCode: 415, code: 'unsupported_media_type' });
  });

  it('refuses a request without a content type', async () => {
    expect(await guard(event({}, '{}'))).toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it.each([
    'application/json',
    'application/json;charset=utf-8',
    'application/json; charset=UTF-8',
    'Application/JSON',
    'application/vnd.api+json',
  ])('lets %s through', async (contentType) => {
    expect(await guard(event({ 'content-type': contentType }, '{}'))).toBeUndefined();
  });

  it('refuses a body over 64 KiB as too large', async () => {
    const error = await guard(
      event({ 'content-type': 'application/json' }, 'x'.repeat(MAX_BODY_BYTES + 1)),
    );
    expect(MAX_BODY_BYTES).toBe(64 * 1024);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ statusCode: 413, code: 'payload_too_large' });
  });

  it('lets a body of exactly 64 KiB through', async () => {
    const body = 'x'.repeat(MAX_BODY_BYTES);
    expect(await guard(event({ 'content-type': 'application/json' }, body))).toBeUndefined();
  });

  it('counts bytes, not characters', async () => {
    const body = 'é'.repeat(MAX_BODY_BYTES / 2 + 1);
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    const error = await guard(event({ 'content-type': 'application/json' }, body));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
  });

  it('measures a base64 body by its decoded size', async () => {
    // 65537 and 65536 bytes both need padding, where a length × 3/4 estimate goes wrong.
    const over = Buffer.alloc(MAX_BODY_BYTES + 1).toString('base64');
    const under = Buffer.alloc(MAX_BODY_BYTES - 1).toString('base64');
    const json = { 'content-type': 'application/json' };
    expect(await guard(event(json, over, true))).toBeInstanceOf(PayloadTooLargeError);
    expect(await guard(event(json, under, true))).toBeUndefined();
  });

  it('lets a base64 body that decodes to exactly 64 KiB through', async () => {
    const exact = Buffer.alloc(MAX_BODY_BYTES).toString('base64');
    const json = { 'content-type': 'application/json' };
    expect(await guard(event(json, exact, true))).toBeUndefined();
  });
});
