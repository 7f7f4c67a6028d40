import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import { FUZZ_CARD } from './seed-body.ts';

/** What the API must answer, decided by the zod schema the handler validates with. */
export type Expectation =
  | { valid: false; status: 400 | 413 | 415; why: string }
  | { valid: true; why: 'valid' };

/** A JSON media type: any case, parameters optional (RFC 9110 §8.3.1). */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/** What the API must answer for `serverText`, the body as the handler reads it. */
export function expectation(serverText: string, contentType: string): Expectation {
  if (!JSON_MEDIA_TYPE.test(contentType)) return { valid: false, status: 415, why: 'media type' };
  if (Buffer.byteLength(serverText, 'utf8') > 64 * 1024) {
    return { valid: false, status: 413, why: 'too large' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(serverText);
  } catch {
    return { valid: false, status: 400, why: 'malformed JSON' };
  }
  try {
    parseCheckoutRequest(parsed); // every rule, the currency's decimals included
    return { valid: true, why: 'valid' };
  } catch {
    return { valid: false, status: 400, why: 'schema' };
  }
}

/**
 * Answers a valid body may get: done, refused (or an unknown product), a price that changed
 * (the catalog's), or (a downstream fault) unavailable/incomplete.
 */
const VALID_ANSWERS = [200, 409, 422, 502, 503];

/** Everything wrong with an answer, or nothing. */
export function problemsWith(expected: Expectation, status: number, text: string): string[] {
  const problems: string[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    problems.push(`the answer is not a JSON object: ${text.slice(0, 200)}`);
  }
  if (expected.valid) {
    if (!VALID_ANSWERS.includes(status)) problems.push(`a valid body got ${status}`);
  } else if (status !== expected.status) {
    problems.push(`an invalid body (${expected.why}) got ${status}, not ${expected.status}`);
  }
  if (status >= 500 && !(expected.valid && (status === 502 || status === 503))) {
    problems.push(`a ${status}: ${text.slice(0, 200)}`);
  }
  if (text.includes(FUZZ_CARD)) problems.push('the answer contains the card number');
  if (/\n\s+at .+:\d+:\d+/.test(text)) problems.push('the answer contains a stack trace');
  return problems;
}
