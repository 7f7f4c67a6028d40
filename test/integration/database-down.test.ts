import { describe, expect, it } from 'vitest';
import { freePort } from '#dev/local/wiremock-process.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';
import { receivedRequests } from '../support/wiremock-journal.ts';

// A PostgreSQL URL on a port nobody listens on: every connection is refused.
process.env.DATABASE_URL = `postgres://postgres@127.0.0.1:${await freePort()}/checkout`;

const api = useLocalApi();

describe('when the database is unreachable', () => {
  it('health answers 503 with the database check failing', async () => {
    const res = await api.request('/health');
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ status: 'unavailable', checks: { database: 'error' } });
  });

  it('a checkout answers 503 with Retry-After and calls no step of the saga', async () => {
    const marker = newMarker();
    const res = await api.postCheckout(seedRequest(marker));

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(res.json).toEqual({
      error: 'service_unavailable',
      message: 'The service is temporarily unavailable, please retry',
    });
    expect(res.text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|postgres/);
    // The cart was priced (a catalog quote changes nothing); no step was called.
    for (const service of ['payment', 'inventory', 'order'] as const) {
      const calls = await receivedRequests(service, marker);
      expect(calls.filter((c) => !c.url.startsWith('/catalog/'))).toEqual([]);
    }
  });

  it('reading a checkout answers 503', async () => {
    const res = await api.request('/checkout/00000000-0000-4000-8000-000000000000');
    expect(res.status).toBe(503);
  });
});
