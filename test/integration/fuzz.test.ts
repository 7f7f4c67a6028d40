import fc from 'fast-check';
import { describe, expect, inject, it } from 'vitest';
import { SERVICES } from '#dev/local/wiremock-process.ts';
import { getApp } from '#lib/app.ts';
import type { FuzzCase } from '../support/fuzz/fuzz-case.ts';
import { fuzzCase } from '../support/fuzz/generators.ts';
import { caseMarker, newRunId, PLACEHOLDER } from '../support/fuzz/markers.ts';
import { SEED_TEXT } from '../support/fuzz/seed-body.ts';
import {
  type FuzzResult,
  type PostCheckout,
  sendCase,
  summarize,
} from '../support/fuzz/send-case.ts';
import {
  markersInJournal,
  markersInRows,
  sideEffectProblems,
} from '../support/fuzz/side-effects.ts';
import { useLocalApi } from '../support/local-api.ts';

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

/** The seed body with `edit` applied to its JSON text, sent as `contentType`. */
const seedCase = (edit: (text: string) => string, contentType = 'application/json'): FuzzCase => ({
  generator: 'found-before',
  text: edit(SEED_TEXT),
  contentType,
});

/**
 * Inputs fuzzing once found mishandled, checked first on every run. A NUL character or a lone
 * surrogate in a text field passed validation, and PostgreSQL stores neither (500; now 400).
 * A media type in capitals or ending in `;` was refused by the JSON body parser (400; now
 * accepted, as RFC 9110 says).
 */
const FOUND_BEFORE: FuzzCase[] = [
  seedCase((t) => t.replace(`"Rua ${PLACEHOLDER}"`, `"Rua ${PLACEHOLDER}\\u0000"`)),
  seedCase((t) => t.replace(`"prod_001_${PLACEHOLDER}"`, `"prod_001_${PLACEHOLDER}\\u0000"`)),
  seedCase((t) => t.replace(`"Rua ${PLACEHOLDER}"`, `"Rua ${PLACEHOLDER}\\ud800"`)),
  seedCase((t) => t, 'Application/JSON'),
  seedCase((t) => t, 'application/json;'),
];

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
      { numRuns: Math.ceil(CASES / BATCH), seed, examples: [[FOUND_BEFORE]] },
    );
    const foundBefore = results.filter((r) => r.generator === 'found-before');
    expect(foundBefore.map((r) => [r.expected.why, r.status])).toEqual([
      ['schema', 400],
      ['schema', 400],
      ['schema', 400],
      ['valid', 200],
      ['valid', 200],
    ]);
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
    const inRows = new Set(await markersInRows((await getApp()).db, runId));
    const downstream = new Set<string>();
    for (const service of SERVICES) {
      for (const marker of await markersInJournal(inject('wiremock')[service], runId)) {
        downstream.add(marker);
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
