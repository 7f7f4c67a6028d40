import { inject } from 'vitest';
import type { ServiceName } from '#dev/local/wiremock-process.ts';

export interface JournalRequest {
  url: string;
  method: string;
  body: string;
  headers: Record<string, string>;
}

/**
 * Requests a WireMock received whose body contains `marker` (a checkout id or a test's unique
 * value), oldest first, optionally only those to `urlPath`. Tests share the WireMocks, so
 * they always filter by something only they sent.
 */
export async function receivedRequests(
  service: ServiceName,
  marker: string,
  urlPath?: string,
): Promise<JournalRequest[]> {
  const base = inject('wiremock')[service];
  const res = await fetch(`${base}/__admin/requests/find`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      method: 'ANY',
      ...(urlPath ? { urlPath } : { urlPattern: '.*' }),
      bodyPatterns: [{ contains: marker }],
    }),
  });
  if (!res.ok) throw new Error(`WireMock journal query failed: ${res.status}`);
  const { requests } = (await res.json()) as {
    requests: (JournalRequest & { loggedDate: number })[];
  };
  return requests.sort((a, b) => a.loggedDate - b.loggedDate);
}

export const jsonBody = (request: JournalRequest) =>
  JSON.parse(request.body) as Record<string, unknown>;

/** A request header by name, whatever case the client sent it in. */
export function header(request: JournalRequest | undefined, name: string): string | undefined {
  const entry = Object.entries(request?.headers ?? {}).find(
    ([key]) => key.toLowerCase() === name.toLowerCase(),
  );
  return entry?.[1];
}
