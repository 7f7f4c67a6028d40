import type { DatabaseError } from 'pg';

/**
 * The errors the double answers with: each is an error shape of the RDS Data API model, sent
 * with the HTTP status that shape's `httpError` trait gives it (read from the installed
 * `@aws-sdk/client-rds-data`, dist-es/schemas/schemas_0.js), so that the real SDK raises the
 * same exception class the service would make it raise.
 * ThrottlingException is not in the model: it is one of the errors common to all actions
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonErrors.html).
 */
export const ERROR_STATUS = {
  AccessDeniedException: 403,
  BadRequestException: 400,
  DatabaseErrorException: 400,
  DatabaseNotFoundException: 404,
  DatabaseResumingException: 400,
  DatabaseUnavailableException: 504,
  ForbiddenException: 403,
  HttpEndpointNotEnabledException: 400,
  InternalServerErrorException: 500,
  InvalidResourceStateException: 400,
  InvalidSecretException: 400,
  NotFoundException: 404,
  SecretsErrorException: 400,
  ServiceUnavailableError: 503,
  StatementTimeoutException: 400,
  ThrottlingException: 400,
  TransactionNotFoundException: 404,
  UnsupportedResultException: 400,
} as const;

export type DataApiErrorType = keyof typeof ERROR_STATUS;

/** An error the double answers with instead of a result. */
export class DataApiError extends Error {
  constructor(
    readonly type: DataApiErrorType,
    message: string,
  ) {
    super(message);
    this.name = type;
  }

  get status(): number {
    return ERROR_STATUS[this.type];
  }
}

/**
 * The message of each error when a test injects it without one. The resume message is the one
 * Aurora sends (the same as the driver's unit test records).
 */
export function defaultMessage(type: DataApiErrorType): string {
  switch (type) {
    case 'DatabaseResumingException':
      return 'The Aurora DB instance db-DATAAPIDOUBLE is resuming after being auto-paused. Please wait a few seconds and try again.';
    case 'StatementTimeoutException':
      return 'Request timed out';
    default:
      return `${type} injected by the Data API double`;
  }
}

/**
 * PostgreSQL's error as the Data API reports it: `DatabaseErrorException` whose message is the
 * server's (severity, message, then Detail, Hint and Position lines) followed by
 * `; SQLState: <code>`, the only place the SQLSTATE travels (the exception has no field for
 * it). The API reference names the exception ("There was an error in processing the SQL
 * statement", HTTP 400, https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html#API_ExecuteStatement_Errors).
 * No AWS page states the message layout: it is observed behaviour. The evidence: the answers
 * recorded in test/unit/rds-data-driver.test.ts; a service answer quoted with its Hint line
 * ("ERROR: operator does not exist: uuid = character varying\n  Hint: No operator matches
 * [...]", https://github.com/cloud-utils/aurora-data-api/pull/11) and one with its Position
 * and SQLState (https://github.com/jeremydaly/data-api-client/issues/144); Data API clients
 * that read the SQLSTATE from the message's end (https://github.com/aws-devtools-labs/aws-blocks/pull/511).
 */
export function databaseError(error: DatabaseError): DataApiError {
  const lines = [`${error.severity ?? 'ERROR'}: ${error.message}`];
  if (error.detail) lines.push(`  Detail: ${error.detail}`);
  if (error.hint) lines.push(`  Hint: ${error.hint}`);
  if (error.position) lines.push(`  Position: ${error.position}`);
  return new DataApiError('DatabaseErrorException', `${lines.join('\n')}; SQLState: ${error.code}`);
}

/** Whether `error` is one PostgreSQL sent (it has a SQLSTATE), not a broken connection. */
export function isPostgresError(error: unknown): error is DatabaseError {
  return error instanceof Error && /^[0-9A-Z]{5}$/.test(String((error as DatabaseError).code));
}
