/**
 * `npm run fuzz [-- cases]`: fuzzes the body of `POST /checkout/process` of a running API
 * (`npm start`) and prints a summary. The generators and the oracle live in
 * `test/support/fuzz/`, where `test/integration/fuzz.test.ts` runs the same fuzzer through the
 * real handlers on every `npm test`; this script only sends many more cases.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { localServiceUrls } from '#dev/local/service-urls.ts';
import type { FuzzCase } from '../test/support/fuzz/fuzz-case.ts';
import { fuzzCase } from '../test/support/fuzz/generators.ts';
import { caseMarker, newRunId } from '../test/support/fuzz/markers.ts';
import {
  type FuzzResult,
  type PostCheckout,
  postTo,
  sendCase,
  summarize,
} from '../test/support/fuzz/send-case.ts';
import {
  markersInJournal,
  markersInRows,
  sideEffectProblems,
} from '../test/support/fuzz/side-effects.ts';

const USAGE = `usage: npm run fuzz -- [cases]      (default 20000)

Sends fuzzed bodies to POST /checkout/process of a running API (npm start) and checks every
answer: never a 5xx (502/503 only for a valid body), always a JSON object, an invalid body
refused with 400 (413 over 64 KiB, 415 when not JSON), and no downstream call (WireMock
journals) or row (with DATABASE_URL) for an invalid body. Exits 1 on any problem.

environment:
  API_URL              the API (default http://127.0.0.1:8005)
  FUZZ_SEED            replays a run (its seed is printed in the summary)
  FUZZ_CONCURRENCY     requests in flight (default 8)
  DATABASE_URL         PostgreSQL of the API, to check rows too
  PAYMENT_SERVICE_URL, INVENTORY_SERVICE_URL, ORDER_SERVICE_URL
                       the WireMocks whose journals are checked (default: those of npm start,
                       on WIREMOCK_BASE_PORT, 8081, and the next two)`;

/** The WireMocks of a running `npm start`, found as `npm run checkouts` finds them. */
const SERVICE_URLS = localServiceUrls(process.env);

/** The number of cases to send, or the process ends with the usage. */
function casesToSend(): number {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' } },
    });
  } catch {
    return usageError();
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  if (parsed.positionals.length > 1) return usageError();
  const runs = Number(parsed.positionals[0] ?? 20_000);
  return Number.isInteger(runs) && runs >= 1 ? runs : usageError();
}

function usageError(): never {
  console.error(USAGE);
  process.exit(2);
}

/** Sends every case, `concurrency` at a time, with progress on stderr. */
async function sendAll(
  post: PostCheckout,
  cases: FuzzCase[],
  runId: string,
  concurrency: number,
): Promise<FuzzResult[]> {
  const results: FuzzResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const n = next++;
      results[n] = await sendCase(post, cases[n] as FuzzCase, caseMarker(runId, n));
      if ((n + 1) % 1000 === 0) process.stderr.write(`${n + 1}/${cases.length}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** Markers the WireMocks received; a WireMock that cannot be asked is skipped, and said so. */
async function markersSentDownstream(runId: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (const url of Object.values(SERVICE_URLS)) {
    try {
      for (const marker of await markersInJournal(url, runId)) found.add(marker);
    } catch (error) {
      console.error(`(skipping the journal check: ${(error as Error).message})`);
    }
  }
  return found;
}

/** Markers in the API's rows, read with a connection of its own. */
async function markersWritten(databaseUrl: string, runId: string): Promise<Set<string>> {
  const { createPostgresDatabase } = await import('#lib/db/drivers/postgres.ts');
  const db = createPostgresDatabase({ url: databaseUrl, maxConnections: 1 });
  try {
    return new Set(await markersInRows(db, runId));
  } finally {
    await db.close();
  }
}

async function main() {
  const runs = casesToSend();
  const baseUrl = (process.env.API_URL ?? 'http://127.0.0.1:8005').replace(/\/$/, '');
  const concurrency = Number(process.env.FUZZ_CONCURRENCY ?? 8);
  const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() ^ 0;
  const databaseUrl = process.env.DATABASE_URL;
  const health = await fetch(`${baseUrl}/health`).catch(() => undefined);
  if (!health) {
    console.error(`No API at ${baseUrl}: start it with \`npm start\` (or set API_URL).`);
    process.exit(2);
  }

  const runId = newRunId();
  const cases = fc.sample(fuzzCase, { numRuns: runs, seed });
  const started = Date.now();
  const results = await sendAll(postTo(baseUrl), cases, runId, concurrency);
  const seconds = (Date.now() - started) / 1000;

  const downstream = await markersSentDownstream(runId);
  const rows = databaseUrl ? await markersWritten(databaseUrl, runId) : new Set<string>();
  const problems = [
    ...results.flatMap((r) => r.problems.map((p) => `${r.marker} [${r.generator}] ${p}`)),
    ...sideEffectProblems(results, rows, downstream, { checkRows: Boolean(databaseUrl) }),
  ];
  console.log(
    JSON.stringify(
      {
        baseUrl,
        seed,
        runId,
        seconds,
        requestsPerSecond: Math.round(results.length / seconds),
        ...summarize(results),
        rowsChecked: Boolean(databaseUrl),
        problems: problems.length,
      },
      null,
      2,
    ),
  );
  for (const p of problems.slice(0, 50)) console.log(`  - ${p}`);
  if (problems.length > 0) {
    const first = results.findIndex((r) => r.problems.length > 0);
    const c = cases[first];
    if (c) {
      console.log('first failing case:', JSON.stringify({ ...c, bytes: c.bytes && [...c.bytes] }));
    }
    process.exit(1);
  }
}

await main();
