import { type FuzzCase, renderCase } from './fuzz-case.ts';
import { type Expectation, expectation, problemsWith } from './oracle.ts';

/** One fuzzed request and what came of it. */
export interface FuzzResult {
  generator: string;
  marker: string;
  marked: boolean;
  expected: Expectation;
  status: number;
  problems: string[];
  /** Set when a send got no answer (and was retried once). */
  networkError?: string;
}

/** Sends a body to `POST /checkout/process` and reads the answer. */
export type PostCheckout = (
  body: string | Uint8Array,
  contentType: string,
) => Promise<{ status: number; text: string }>;

/** A `PostCheckout` against the API at `baseUrl`. */
export function postTo(baseUrl: string): PostCheckout {
  return async (body, contentType) => {
    const res = await fetch(`${baseUrl}/checkout/process`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return { status: res.status, text: await res.text() };
  };
}

/** An error and its causes, e.g. `fetch failed ← other side closed (UND_ERR_SOCKET)`. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e && parts.length < 4; e = (e as { cause?: unknown }).cause) {
    const { message, code } = e as { message?: string; code?: string };
    parts.push(code ? `${message} (${code})` : String(message ?? e));
  }
  return parts.join(' ← ');
}

/** Sends one case and checks the answer. */
export async function sendCase(
  post: PostCheckout,
  c: FuzzCase,
  marker: string,
): Promise<FuzzResult> {
  const { body, serverText, marked } = renderCase(c, marker);
  const expected = expectation(serverText, c.contentType);
  let status = 0;
  let problems: string[] = [];
  let networkError: string | undefined;
  // A request that got no answer at all is sent once more: under load a pooled keep-alive
  // connection can be closed by the server just as it is reused. An input that really breaks
  // the connection breaks it again and is reported; the retry is counted in the summary.
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const answer = await post(body, c.contentType);
      status = answer.status;
      problems = problemsWith(expected, status, answer.text);
      break;
    } catch (error) {
      networkError = describeError(error);
      problems = [`the request failed twice: ${networkError}`];
    }
  }
  return {
    generator: c.generator,
    marker,
    marked,
    expected,
    status,
    problems,
    ...(networkError ? { networkError } : {}),
  };
}

/** Counts by generator and by answer, for the summary. */
export function summarize(results: FuzzResult[]) {
  const count = (key: (r: FuzzResult) => string) =>
    results.reduce<Record<string, number>>((acc, r) => {
      acc[key(r)] = (acc[key(r)] ?? 0) + 1;
      return acc;
    }, {});
  return {
    cases: results.length,
    byGenerator: count((r) => r.generator),
    byExpectation: count((r) => r.expected.why),
    byStatus: count((r) => String(r.status)),
    marked: results.filter((r) => r.marked).length,
    networkErrors: results.flatMap((r) => (r.networkError ? [r.networkError] : [])),
    failing: results.filter((r) => r.problems.length > 0).length,
  };
}
