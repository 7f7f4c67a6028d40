import type { Queryable } from '#lib/db/database.ts';
import { markersIn } from './markers.ts';
import type { FuzzResult } from './send-case.ts';

/**
 * Side effects of invalid cases: markers of invalid bodies found in rows or downstream
 * requests (must be none), and marked valid, completed cases missing from either (must be none
 * too, or the check would prove nothing).
 */
export function sideEffectProblems(
  results: FuzzResult[],
  inRows: Set<string>,
  sentDownstream: Set<string>,
  options: { checkRows: boolean },
): string[] {
  const problems: string[] = [];
  for (const r of results) {
    if (!r.marked) continue;
    if (!r.expected.valid) {
      if (options.checkRows && inRows.has(r.marker)) {
        problems.push(`invalid case ${r.marker} (${r.expected.why}) wrote a row`);
      }
      if (sentDownstream.has(r.marker)) {
        problems.push(`invalid case ${r.marker} (${r.expected.why}) called a service`);
      }
    } else if (r.status === 200) {
      if (options.checkRows && !inRows.has(r.marker)) {
        problems.push(`completed case ${r.marker} has no row`);
      }
      if (!sentDownstream.has(r.marker)) {
        problems.push(`completed case ${r.marker} called no service`);
      }
    }
  }
  return problems;
}

/** Markers of `runId` in the bodies a WireMock received (its request journal). */
export async function markersInJournal(wiremockUrl: string, runId: string): Promise<string[]> {
  const res = await fetch(`${wiremockUrl}/__admin/requests/find`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ method: 'ANY', urlPattern: '.*', bodyPatterns: [{ contains: runId }] }),
  });
  if (!res.ok) throw new Error(`WireMock journal query at ${wiremockUrl} failed: ${res.status}`);
  const { requests } = (await res.json()) as { requests: { body: string }[] };
  return requests.flatMap((r) => markersIn(r.body, runId));
}

/** Markers of `runId` in the rows of `checkouts`: its email, address and items. */
export async function markersInRows(db: Queryable, runId: string): Promise<string[]> {
  const rows = await db.query(
    `select customer_email || shipping_address::text || items::text as t from checkouts
     where customer_email like :m or shipping_address::text like :m or items::text like :m`,
    { m: `%${runId}%` },
  );
  return rows.flatMap((row) => markersIn(String(row.t), runId));
}
