import type { Server } from 'node:http';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDocs } from '#dev/api-docs/api-docs.ts';
import { TEST_VALUES } from '#dev/api-docs/test-values.ts';
import { createLocalGateway, listen } from '#dev/local/local-gateway.ts';
import { localRoutes } from '#dev/local/routes.ts';
import { checkoutRequestJsonSchema } from '#dev/schemas/json-schemas.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';
import checkoutEventValidator from '#lib/http/generated/checkout-event-validator.js';

interface MediaType {
  schema: { $ref?: string; oneOf?: { $ref: string }[] };
  examples: Record<string, { summary: string; value: unknown }>;
}
interface Operation {
  tags?: string[];
  operationId?: string;
  parameters?: { $ref?: string }[];
  requestBody?: { content: { 'application/json': MediaType } };
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content: { 'application/json': MediaType } }
  >;
}
interface Document {
  openapi: string;
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    headers: Record<string, unknown>;
    parameters: Record<string, { name: string; in: string }>;
  };
}

let server: Server;
let base = '';
let doc: Document;
beforeAll(async () => {
  server = createLocalGateway(localRoutes, apiDocs());
  base = await listen(server, 0, '127.0.0.1');
  doc = (await (await fetch(`${base}/openapi.json`)).json()) as Document;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

/** The properties of an item of the request schema. */
const itemProperties = (request: unknown) =>
  (
    request as {
      properties: { items: { items: { properties: Record<string, Record<string, unknown>> } } };
    }
  ).properties.items.items.properties;

/** A schema without its fields' `description` and `example`, which validate nothing. */
function withoutAnnotations(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutAnnotations);
  if (typeof schema !== 'object' || schema === null) return schema;
  const { properties, items, oneOf, ...rest } = schema as Record<string, unknown>;
  const strip = (field: unknown) => {
    const { description: _d, example: _e, ...validating } = field as Record<string, unknown>;
    return withoutAnnotations(validating);
  };
  return {
    ...rest,
    ...(properties !== undefined && {
      properties: Object.fromEntries(
        Object.entries(properties as Record<string, unknown>).map(([k, v]) => [k, strip(v)]),
      ),
    }),
    ...(items !== undefined && { items: strip(items) }),
    ...(oneOf !== undefined && { oneOf: withoutAnnotations(oneOf) }),
  };
}

/**
 * Every field of `schema` (an object's properties, an array's items, each member of a
 * `oneOf`), as `path` and its schema, at any depth.
 */
function fieldsOf(
  schema: Record<string, unknown>,
  path: string,
): [string, Record<string, unknown>][] {
  const { properties, items, oneOf, anyOf, allOf } = schema as Record<string, never>;
  return [
    ...Object.entries((properties ?? {}) as Record<string, Record<string, unknown>>).flatMap(
      ([name, field]): [string, Record<string, unknown>][] => [
        [`${path}.${name}`, field],
        ...fieldsOf(field, `${path}.${name}`),
      ],
    ),
    ...(items ? fieldsOf(items, `${path}[]`) : []),
    ...[...(oneOf ?? []), ...(anyOf ?? []), ...(allOf ?? [])].flatMap((member, i) =>
      fieldsOf(member, `${path}(${i})`),
    ),
  ];
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

/**
 * Ajv for the response schemas (OpenAPI 3.0 schema objects): `nullable` is built in, `example`
 * is an annotation. The request schema's draft-4 `exclusiveMinimum` is not for it.
 */
function validator() {
  const ajv = new Ajv.default({
    strict: true,
    allErrors: true,
    formats: {
      uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
      'date-time': (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)),
      email: /^[^@\s]+@[^@\s]+$/,
    },
  });
  ajv.addKeyword('example');
  const resolve = (schema: MediaType['schema']): Record<string, unknown> => {
    if (schema.oneOf) return { oneOf: schema.oneOf.map(resolve) };
    const name = schema.$ref?.replace('#/components/schemas/', '') ?? '';
    const resolved = doc.components.schemas[name];
    if (!resolved) throw new Error(`unresolved schema ${JSON.stringify(schema)}`);
    return resolved;
  };
  return (schema: MediaType['schema'], value: unknown) => {
    const validate = ajv.compile(resolve(schema));
    return validate(value) ? [] : (validate.errors ?? []);
  };
}

describe('API documentation served by the local gateway', () => {
  it('serves an OpenAPI 3 document whose request schema is the one generated from zod', async () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/checkout/process',
      '/checkout/{id}',
      '/health',
    ]);
    // The generated schema, with annotations only: each field's description and example.
    const request = doc.components.schemas.CheckoutRequest;
    expect(withoutAnnotations(request)).toEqual(checkoutRequestJsonSchema('openapi-3.0'));
    const { description } = itemProperties(request).price ?? {};
    expect(description).toMatch(/^The price the customer saw\b/);
    expect(description).toContain("the amount charged is the catalog's");
    expect(description).toContain('409 `price_changed`');
    const text = JSON.stringify(doc);
    expect(text).not.toContain('$defs');
    expect(text).not.toContain('"$schema"');
  });

  it('describes every field of every request and answer schema, with an example', () => {
    const fields = Object.entries(doc.components.schemas).flatMap(([name, schema]) =>
      fieldsOf(schema, name),
    );
    expect(fields.length).toBeGreaterThan(80);
    const undocumented = fields
      .filter(([, field]) => !(typeof field.description === 'string' && field.description.trim()))
      .map(([path]) => path);
    const withoutExample = fields
      .filter(([, field]) => !('example' in field))
      .map(([path]) => path);
    expect(undocumented, 'fields without a description').toEqual([]);
    expect(withoutExample, 'fields without an example').toEqual([]);
  });

  it('shows, for every field, an example its own schema accepts', () => {
    const ajv = new Ajv.default({ strict: false, validateFormats: false });
    // OpenAPI 3.0's boolean `exclusiveMinimum` (a price above 0) in JSON Schema's words.
    const jsonSchema = (schema: unknown) =>
      JSON.parse(
        JSON.stringify(schema).replace(
          /"minimum":(-?[\d.]+),"exclusiveMinimum":true/g,
          '"exclusiveMinimum":$1',
        ),
      );
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      for (const [path, field] of fieldsOf(schema, name)) {
        const { example, ...rest } = field;
        const valid = ajv.validate(jsonSchema(withoutAnnotations(rest)), example);
        expect(valid, `${path}: ${JSON.stringify(example)} ${ajv.errorsText()}`).toBe(true);
      }
    }
  });

  it('groups every operation under a declared tag and names it', () => {
    const tags = doc.tags.map((t) => t.name);
    for (const { operation } of operations()) {
      expect(operation.tags?.every((tag) => tags.includes(tag))).toBe(true);
      expect(operation.operationId).toMatch(/^[a-z][A-Za-z]+$/);
    }
    expect(doc.paths['/checkout/process']?.post?.tags).toEqual(['Checkout']);
    expect(doc.paths['/health']?.get?.tags).toEqual(['Health']);
  });

  it('documents every answer of POST /checkout/process, with the headers each may carry', () => {
    const post = doc.paths['/checkout/process']?.post as Operation;
    const codes = ['200', '202', '400', '409', '413', '415', '422', '500', '502', '503'];
    expect(Object.keys(post.responses)).toEqual(codes);
    const headers = Object.fromEntries(
      codes.map((code) => [code, Object.keys(post.responses[code]?.headers ?? {})]),
    );
    expect(headers).toMatchObject({
      200: ['Idempotent-Replayed'],
      409: ['Retry-After', 'Idempotent-Replayed'],
      422: ['Idempotent-Replayed'],
      502: ['Idempotent-Replayed'],
      503: ['Retry-After'],
    });
    expect(post.parameters).toEqual([{ $ref: '#/components/parameters/Idempotency-Key' }]);
    expect(doc.components.parameters['Idempotency-Key']).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
    });
    const errors = (code: string) =>
      Object.values(post.responses[code]?.content['application/json'].examples ?? {}).map(
        (example) => (example.value as { error?: string }).error,
      );
    expect(errors('409')).toEqual([
      'checkout_in_progress',
      'checkout_requires_attention',
      'price_changed',
      'checkout_requires_attention',
    ]);
    expect(errors('422')).toContain('idempotency_key_mismatch');
    expect(errors('422')).toContain('unknown_product');
    expect(errors('422')).toContain('payment_expired');
    expect(errors('503')).toEqual(
      expect.arrayContaining(['checkout_incomplete', 'pricing_unavailable', 'service_unavailable']),
    );
  });

  it('offers the seed request first and one request example per test value, each a valid request', () => {
    const post = doc.paths['/checkout/process']?.post as Operation;
    const examples = post.requestBody?.content['application/json'].examples ?? {};
    expect(Object.keys(examples)).toEqual(TEST_VALUES.map((v) => v.name));
    expect(Object.keys(examples)[0]).toBe('seed');
    for (const [name, example] of Object.entries(examples)) {
      // The validator the checkout function runs, then the rules JSON Schema cannot say.
      expect(checkoutEventValidator({ body: example.value }), name).toBe(true);
      expect(() => parseCheckoutRequest(example.value), name).not.toThrow();
    }
  });

  it('gives every answer examples, each valid against its schema', () => {
    const validate = validator();
    for (const { path, method, operation } of operations()) {
      for (const [code, response] of Object.entries(operation.responses)) {
        const { schema, examples } = response.content['application/json'];
        expect(Object.keys(examples).length, `${method} ${path} ${code}`).toBeGreaterThan(0);
        for (const [name, example] of Object.entries(examples)) {
          expect(validate(schema, example.value), `${method} ${path} ${code} ${name}`).toEqual([]);
        }
      }
    }
  });

  it('shows a health 503 example that says unavailable and amounts of a few digits', () => {
    const health = doc.paths['/health']?.get as Operation;
    const [unavailable] = Object.values(
      health.responses['503']?.content['application/json'].examples ?? {},
    );
    expect(unavailable?.value).toEqual({ status: 'unavailable', checks: { database: 'error' } });
    const amounts = JSON.stringify(doc).match(/"total_amount":"[^"]*"/g) ?? [];
    expect(amounts.length).toBeGreaterThan(0);
    for (const amount of amounts) expect(amount).toMatch(/"\d{1,6}\.\d{2}"/);
  });

  it('serves Swagger UI at /docs with its assets and deep links', async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("url: '/openapi.json'");
    expect(html).toContain('deepLinking: true');
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${base}/docs/../package.json`)).status).toBe(404);
  });

  it('redirects / to /docs', async () => {
    const res = await fetch(`${base}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/docs');
  });
});
