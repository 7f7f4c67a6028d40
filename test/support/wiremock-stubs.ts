import { inject } from 'vitest';
import type { ServiceName } from '#dev/local/wiremock-process.ts';

/**
 * Adds a stub to a running WireMock for one test (matched on something only that test sends,
 * so parallel tests are unaffected) and returns a function that removes it again.
 */
export async function addStub(service: ServiceName, mapping: Record<string, unknown>) {
  const base = inject('wiremock')[service];
  const res = await fetch(`${base}/__admin/mappings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(mapping),
  });
  if (!res.ok) throw new Error(`WireMock refused the stub: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  return async () => {
    await fetch(`${base}/__admin/mappings/${id}`, { method: 'DELETE' });
  };
}
