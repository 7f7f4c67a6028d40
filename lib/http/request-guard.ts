import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '#lib/errors.ts';

/** Bodies above this are refused before parsing (API Gateway itself allows 10 MB). */
export const MAX_BODY_BYTES = 64 * 1024;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Checks what the JSON body parser takes for granted: the body is JSON by its content type
 * (415 otherwise) and no larger than 64 KiB (413). Runs after the header normalizer.
 */
export function requestGuard(maxBytes = MAX_BODY_BYTES): MiddlewareObj<APIGatewayProxyEvent> {
  return {
    before: async ({ event }) => {
      const contentType = event.headers?.['content-type'] ?? '';
      if (!JSON_MEDIA_TYPE.test(contentType)) {
        throw new UnsupportedMediaTypeError('Content-Type must be application/json');
      }
      const body = event.body ?? '';
      const bytes = Buffer.byteLength(body, event.isBase64Encoded ? 'base64' : 'utf8');
      if (bytes > maxBytes) {
        throw new PayloadTooLargeError(`The request body must not exceed ${maxBytes} bytes`);
      }
    },
  };
}
