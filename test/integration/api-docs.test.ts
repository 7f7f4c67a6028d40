import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDocs } from '#dev/api-docs/api-docs.ts';
import { createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import { localRoutes } from '#dev/local/routes.ts';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';

let server: Server;
let base = '';
beforeAll(async () => {
  server = createLocalGateway(localRoutes, apiDocs());
  base = await listen(server, 0, '127.0.0.1');
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('API documentation served by the local gateway', () => {
  it('serves an OpenAPI 3 document whose request schema is the one generated from zod', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/checkout/process',
      '/checkout/{id}',
      '/health',
    ]);
    expect(Object.keys(doc.paths['/checkout/process']?.post?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '413', '415', '422', '502', '503']),
    );
    expect(doc.components.schemas.CheckoutRequest).toEqual(
      checkoutRequestJsonSchema('openapi-3.0'),
    );
    const text = JSON.stringify(doc);
    expect(text).not.toContain('$defs');
    expect(text).not.toContain('"$schema"');
  });

  it('serves Swagger UI at /docs with its assets', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("url: '/openapi.json'");
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/docs/../package.json`)).status).toBe(404);
  });
});
