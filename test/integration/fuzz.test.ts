import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getApp } from '#lib/app.ts';
import {
  caseMarker,
  type FuzzCase,
  type FuzzResult,
  fuzzCase,
  markersIn,
  newRunId,
  type PostCheckout,
  ROWS_OF_RUN,
  sendCase,
  sideEffectProblems,
  summarize,
} from '../../scripts/fuzz.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { receivedRequests } from '../support/wiremock-journal.ts';

const api = useLocalApi();

/** Cases per run of the suite (FUZZ_RUNS to change it); FUZZ_SEED replays a failing run. */
const CASES = Number(process.env.FUZZ_RUNS ?? 2_000);
/** Requests sent at once by one property run: a little concurrency keeps the file fast. */
const BATCH = 4;
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

const runId = newRunId();
const results: FuzzResult[] = [];
const sentCases: FuzzCase[] = [];
let sent = 0;

const post: PostCheckout = async (body, contentType) => {
  const res = await api.request('/checkout/process', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: res.status, text: res.text };
};

describe('POST /checkout/process under fuzzed bodies (fast-check, real handler, WireMock, DB)', () => {
  it(`answers ${CASES} fuzzed bodies with no 5xx, a JSON object, and 400/413/415 for every invalid one`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzCase, { minLength: BATCH, maxLength: BATCH }),
        async (batch) => {
          const answers = await Promise.all(
            batch.map((c) => sendCase(post, c, caseMarker(runId, sent++))),
          );
          sentCases.push(...batch);
          results.push(...answers);
          const problems = answers.flatMap((a, i) =>
            a.problems.map((p) => ({ problem: p, case: batch[i] })),
          );
          expect(problems).toEqual([]);
        },
      ),
      { numRuns: Math.ceil(CASES / BATCH), seed },
    );
    const summary = summarize(results);
    if (process.env.FUZZ_SUMMARY) console.log(JSON.stringify({ seed, ...summary }));
    if (summary.networkErrors.length > 0) {
      console.warn(
        `fuzz: ${summary.networkErrors.length} request(s) sent twice after`,
        summary.networkErrors,
      );
    }
    expect(results.length).toBeGreaterThanOrEqual(CASES);
  }, 180_000);

  it('wrote no row and called no service for any invalid body', async () => {
    expect(results.length).toBeGreaterThan(0);
    const { db } = await getApp();
    const rows = await db.query(
      `select customer_email || shipping_address::text || items::text as t
       from checkouts where ${ROWS_OF_RUN}`,
      { m: `%${runId}%` },
    );
    const inRows = new Set(rows.flatMap((row) => markersIn(String(row.t), runId)));
    const downstream = new Set<string>();
    for (const service of ['payment', 'inventory', 'order'] as const) {
      for (const request of await receivedRequests(service, runId)) {
        for (const marker of markersIn(request.body, runId)) downstream.add(marker);
      }
    }

    const problems = sideEffectProblems(results, inRows, downstream, { checkRows: true });
    if (problems.length > 0) {
      const bad = results.findIndex((r) => problems.some((p) => p.includes(r.marker)));
      console.log(seed, JSON.stringify(sentCases[bad]), JSON.stringify(results[bad]));
    }
    expect(problems).toEqual([]);
    // The check above proves something only if it saw marked bodies of both kinds.
    const marked = results.filter((r) => r.marked);
    expect(marked.filter((r) => !r.expected.valid).length).toBeGreaterThan(CASES / 10);
    expect(marked.filter((r) => r.expected.valid && r.status === 200).length).toBeGreaterThan(0);
  });

  it('let no fuzzed __proto__ or constructor key pollute Object.prototype', () => {
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

type SeedBody = ReturnType<typeof seedRequest>;

/**
 * Inputs the fuzzer found mishandled. `fuzzCase` leaves them out (`knownBug` in
 * scripts/fuzz.ts) so the property above stays meaningful; `npx tsx scripts/fuzz.ts` reports
 * them apart. Each test passes once the bug is fixed: then drop `.fails` and the exclusion.
 */
describe('known bugs found by fuzzing', () => {
  async function expectNoServerError(body: unknown, marker: string) {
    const res = await api.postCheckout(body);
    expect(res.json).toBeTypeOf('object');
    expect(res.status, res.text).toBeLessThan(500);
    if (res.status === 400) {
      expect(await receivedRequests('payment', marker)).toEqual([]);
    }
  }

  // BUG: a NUL character passes the zod schema (text fields only trim and cap the length) but
  // PostgreSQL stores it neither in `text` nor in `jsonb`: the insert fails and the API answers
  // 500 internal_error. Fix: refuse control characters (at least U+0000) in the schema → 400.
  it.each([
    [
      'shipping_address.street',
      (b: SeedBody) => {
        b.shipping_address.street += '\u0000';
      },
    ],
    [
      'items.0.product_id',
      (b: SeedBody) => {
        (b.items[0] as { product_id: string }).product_id += '\u0000';
      },
    ],
  ])('answers a valid body with a NUL character in %s without a 5xx', async (_path, change) => {
    const marker = newMarker();
    const body = seedRequest(marker);
    change(body);
    await expectNoServerError(body, marker);
  });

  // BUG: a lone surrogate (JSON "\ud800") passes the schema; jsonb refuses the escape
  // ("Unicode low surrogate must follow a high surrogate"): 500. Fix: require well-formed
  // strings in the schema (`s.isWellFormed()`) → 400.
  it('answers a valid body with a lone surrogate in the street without a 5xx', async () => {
    const marker = newMarker();
    const body = seedRequest(marker);
    body.shipping_address.street += '\ud800';
    await expectNoServerError(body, marker);
  });

  // BUG: media types are case-insensitive (RFC 9110 §8.3.1) and the request guard accepts
  // `Application/JSON`, but @middy/http-json-body-parser's own check is case-sensitive (and
  // wants a parameter after `;`): a valid body is answered 400 "The request body is not valid
  // JSON". Fix: normalise the content type before the parser, or pass it
  // `disableContentTypeCheck: true` since requestGuard already checks it.
  it.each(['Application/JSON', 'application/json;'])(
    'processes a valid body sent as %s',
    async (contentType) => {
      const res = await api.postCheckout(seedRequest(), { 'content-type': contentType });
      expect(res.status, res.text).toBe(200);
    },
  );
});
