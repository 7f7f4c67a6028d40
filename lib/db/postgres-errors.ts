import { DatabaseUnavailableError, UniqueViolationError } from '#lib/errors.ts';

/**
 * SQLSTATE classes that mean "could not talk to the server in time", not "the SQL was wrong":
 * connection (08), resources (53), shutdown (57P) and statement timeout (57014).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P|57014)/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

/** Maps a `pg` / PGlite error to the data layer's own errors; anything else passes through. */
export function mapPostgresError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { code, constraint } = error as Error & { code?: string; constraint?: string };
  if (code === '23505') return new UniqueViolationError(constraint, { cause: error });
  if (code && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) {
    return new DatabaseUnavailableError({ cause: error });
  }
  if (
    /Connection terminated|timeout exceeded when trying to connect|connect ETIMEDOUT|Query read timeout/i.test(
      error.message,
    )
  ) {
    return new DatabaseUnavailableError({ cause: error });
  }
  return error;
}
