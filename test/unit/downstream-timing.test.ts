import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureDownstream } from '#dev/local/downstream-timing.ts';
import { createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import { freePort } from '#dev/local/wiremock-process.ts';
import { exchange } from '#lib/clients/http-exchange.ts';

/*
 * The `downstream` of the local server's Server-Timing: every outgoing request's time counts,
 * answered or not. A request cut short by its timeout waited that long on the service.
 */

/** A loopback service: `/slow` answers after 100 ms, `/silent` never answers. */
const service = http.createServer((req, res) => {
  if (req.url === '/slow') setTimeout(() => res.end('{}'), 100);
});
let base = '';
beforeAll(async () => {
  base = await listen(service, 0, '127.0.0.1');
});
afterAll(() => {
  service.closeAllConnections();
  service.close();
});

const get = (url: string, signal: AbortSignal) =>
  exchange(url, { method: 'GET', headers: {}, signal });

describe('downstream time', () => {
  it('counts an answered request from its start to its answer', async () => {
    const { downstreamMs } = await measureDownstream(() =>
      get(`${base}/slow`, AbortSignal.timeout(5_000)),
    );
    expect(downstreamMs).toBeGreaterThanOrEqual(90);
    expect(downstreamMs).toBeLessThan(2_000);
  });

  it('counts a request that timed out: the time it waited', async () => {
    const { downstreamMs } = await measureDownstream(async () => {
      await expect(get(`${base}/silent`, AbortSignal.timeout(300))).rejects.toThrow();
    });
    expect(downstreamMs).toBeGreaterThanOrEqual(290);
  });

  it('counts a refused connection, and sums every attempt', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { downstreamMs } = await measureDownstream(async () => {
      await expect(get(closed, AbortSignal.timeout(1_000))).rejects.toThrow();
      await get(`${base}/slow`, AbortSignal.timeout(5_000));
      await expect(get(`${base}/silent`, AbortSignal.timeout(200))).rejects.toThrow();
    });
    expect(downstreamMs).toBeGreaterThanOrEqual(290);
  });

  it('counts a request still waiting when the work ends, up to then', async () => {
    const controller = new AbortController();
    let pending: Promise<unknown> = Promise.resolve();
    const { downstreamMs } = await measureDownstream(async () => {
      pending = get(`${base}/silent`, controller.signal).catch(() => 'aborted');
      await sleep(150);
    });
    controller.abort();
    expect(await pending).toBe('aborted');
    expect(downstreamMs).toBeGreaterThanOrEqual(140);
    expect(downstreamMs).toBeLessThan(1_000);
  });

  it('records nothing outside a measured request', async () => {
    await get(`${base}/slow`, AbortSignal.timeout(5_000));
    const { downstreamMs } = await measureDownstream(async () => 'no call');
    expect(downstreamMs).toBe(0);
  });
});

describe('the local gateway’s Server-Timing', () => {
  it('shows the downstream time of a checkout whose service call timed out', async () => {
    const gateway = createLocalGateway([
      {
        method: 'GET',
        resource: '/timed-out',
        functionName: 'checkout',
        handler: async (): Promise<APIGatewayProxyResult> => {
          await get(`${base}/silent`, AbortSignal.timeout(400)).catch(() => {});
          return { statusCode: 503, body: '{"error":"checkout_incomplete"}' };
        },
      },
    ]);
    const url = await listen(gateway, 0, '127.0.0.1');
    try {
      const res = await fetch(`${url}/timed-out`);
      await res.text();
      expect(res.status).toBe(503);
      const timing = res.headers.get('server-timing') ?? '';
      const downstream = Number(/downstream;dur=([\d.]+)/.exec(timing)?.[1]);
      const handler = Number(/handler;dur=([\d.]+)/.exec(timing)?.[1]);
      expect(downstream).toBeGreaterThanOrEqual(390);
      expect(downstream).toBeLessThanOrEqual(handler);
    } finally {
      gateway.close();
    }
  });
});
