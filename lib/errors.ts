/** A problem with a stable machine-readable `code` and the HTTP status it maps to. */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly statusCode: number;
}

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The request is malformed or breaks a rule; nothing was written or called. */
export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly code = 'validation_error';
  readonly statusCode = 400;
  constructor(
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends AppError {
  override readonly name = 'PayloadTooLargeError';
  readonly code = 'payload_too_large';
  readonly statusCode = 413;
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'unsupported_media_type';
  readonly statusCode = 415;
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  readonly code = 'not_found';
  readonly statusCode = 404;
}

/** The database did not answer (refused, timed out, dropped); safe to retry later. */
export class DatabaseUnavailableError extends AppError {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'service_unavailable';
  readonly statusCode = 503;
  constructor(options?: ErrorOptions) {
    super('The service is temporarily unavailable, please retry', options);
  }
}

/** Two writers claimed the same unique value (e.g. an idempotency key). */
export class UniqueViolationError extends Error {
  override readonly name = 'UniqueViolationError';
  constructor(
    readonly constraint: string | undefined,
    options?: ErrorOptions,
  ) {
    super(`unique constraint violated${constraint ? `: ${constraint}` : ''}`, options);
  }
}
