import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckoutBody, requestOf, TEST_VALUES } from '#dev/api-docs/test-values.ts';
import { parseCheckoutRequest } from '#lib/checkout/parse-checkout-request.ts';

/**
 * The test values against the WireMock mappings they name, read from `wiremock/`: each value
 * is matched by those mappings and by no other trigger of the same call, and every trigger
 * mapping is some value's. (`openapi-examples.test.ts` sends them to the real mocks.)
 */

interface Mapping {
  file: string;
  priority: number;
  request: { method: string; urlPath?: string; bodyPatterns?: BodyPattern[] };
}
type BodyPattern = {
  matchesJsonPath?: string | { expression: string; equalTo?: string; matches?: string };
};

const ROOT = path.resolve(import.meta.dirname, '../../wiremock');
const mappings: Mapping[] = ['payment', 'inventory', 'order'].flatMap((service) =>
  readdirSync(path.join(ROOT, service, 'mappings')).map((file) => ({
    file: `${service}/${file.replace(/\.json$/, '')}`,
    ...JSON.parse(readFileSync(path.join(ROOT, service, 'mappings', file), 'utf8')),
  })),
);
/**
 * The mappings that react to a test value; priority 10 is the default answer of a call. The
 * Pix and boleto calls' email triggers are left out: no test value pays that way yet.
 */
const triggers = mappings.filter((m) => m.priority < 10 && !/^payment\/(pix|boleto)-/.test(m.file));

/**
 * What the services receive of a checkout: its fields, and `amount` in major units. Every value
 * that reaches the payment service sends the catalog's prices (the integration test checks it
 * against the real mocks), so its prices are the ones charged.
 */
function serviceRequest(body: CheckoutBody) {
  const amount = body.items.reduce((sum, item) => sum + item.price * item.quantity, 0);
  return { ...body, amount };
}

/** The value at a `$.a.b` path. */
const at = (json: unknown, expression: string) =>
  expression
    .replace(/^\$\./, '')
    .split('.')
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], json);

/** Whether a body pattern matches; only the forms `wiremock/` uses, anything else fails. */
function matches(pattern: BodyPattern, request: ReturnType<typeof serviceRequest>): boolean {
  const jsonPath = pattern.matchesJsonPath;
  if (typeof jsonPath === 'object') {
    const value = at(request, jsonPath.expression);
    if (jsonPath.equalTo !== undefined) return value === jsonPath.equalTo;
    if (jsonPath.matches !== undefined) {
      return typeof value === 'string' && new RegExp(jsonPath.matches).test(value);
    }
  }
  if (typeof jsonPath === 'string') {
    const product = /^\$\.items\[\?\(@\.product_id == '([^']+)'\)\]$/.exec(jsonPath);
    if (product) return request.items.some((item) => item.product_id === product[1]);
    // Jayway's `=~` matches the whole value, as `^(?:…)$` does.
    const like = /^\$\.items\[\?\(@\.product_id =~ \/(.+)\/\)\]$/.exec(jsonPath);
    if (like) {
      const pattern = new RegExp(`^(?:${like[1]})$`);
      return request.items.some((item) => pattern.test(item.product_id));
    }
    const over = /^\$\[\?\(@\.amount > (\d+)\)\]$/.exec(jsonPath);
    if (over) return request.amount > Number(over[1]);
  }
  throw new Error(`a body pattern this test cannot read: ${JSON.stringify(pattern)}`);
}

const matchesAll = (mapping: Mapping, body: CheckoutBody) =>
  (mapping.request.bodyPatterns ?? []).every((p) => matches(p, serviceRequest(body)));

describe('the test values', () => {
  it('have unique names, the seed request first', () => {
    const names = TEST_VALUES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names[0]).toBe('seed');
  });

  it.each(TEST_VALUES.map((v) => [v.name, v] as const))(
    '%s is a valid request (Luhn-valid card, sane prices)',
    (_name, value) => {
      expect(() => parseCheckoutRequest(requestOf(value))).not.toThrow();
    },
  );

  it.each(TEST_VALUES.map((v) => [v.name, v] as const))(
    '%s is matched by the mappings it names and by no other trigger',
    (_name, value) => {
      const body = requestOf(value);
      for (const file of value.mappings) {
        const mapping = mappings.find((m) => m.file === file);
        expect(mapping, file).toBeDefined();
        expect(mapping && matchesAll(mapping, body), file).toBe(true);
      }
      // Mappings matched by URL alone (the refund of `txn_refund_fails`) react to the call, not the body.
      const others = triggers.filter(
        (m) => !value.mappings.includes(m.file) && m.request.bodyPatterns !== undefined,
      );
      expect(others.filter((m) => matchesAll(m, body)).map((m) => m.file)).toEqual([]);
    },
  );

  it('send every email in its +tag form too, as the tests do', () => {
    for (const value of TEST_VALUES) {
      const body = requestOf(value);
      body.customer_email = body.customer_email.replace('@', '+run42@');
      for (const file of value.mappings) {
        const mapping = mappings.find((m) => m.file === file);
        expect(mapping && matchesAll(mapping, body), `${value.name}: ${file}`).toBe(true);
      }
    }
  });

  it('leave no trigger mapping out', () => {
    const named = new Set(TEST_VALUES.flatMap((v) => v.mappings));
    expect(triggers.map((m) => m.file).filter((file) => !named.has(file))).toEqual([]);
  });
});
