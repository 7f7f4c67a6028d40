import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The payment mappings read as files (`wiremock/payment/mappings`): every trigger of the
 * one-shot charge (`process-*`) has an authorization twin (`authorize-*`) that matches the same
 * requests and answers the same way, so each test value answers alike under both payment flows
 * (`PAYMENT_CAPTURE`); every answer repeats what its request sent; and every transaction id a
 * capture, void or refund mapping waits for is one that some charge or authorization answers.
 * The integration tests (`wiremock-card-payments.test.ts`) send the same over HTTP.
 */

interface Mapping {
  file: string;
  name: string;
  priority: number;
  request: {
    method: string;
    urlPath?: string;
    urlPathPattern?: string;
    bodyPatterns?: unknown[];
  };
  response: {
    status?: number;
    fault?: string;
    body?: string;
    fixedDelayMilliseconds?: number;
    transformers?: string[];
  };
  serveEventListeners?: { name: string; parameters: { body: string } }[];
}

const DIR = path.resolve(import.meta.dirname, '../../wiremock/payment/mappings');
const mappings: Mapping[] = readdirSync(DIR).map((file) => ({
  file: file.replace(/\.json$/, ''),
  ...JSON.parse(readFileSync(path.join(DIR, file), 'utf8')),
}));
const byFile = (file: string) => mappings.find((m) => m.file === file);

/** The `error` an answer's body gives, if any. */
const errorOf = (m: Mapping) => /\\?"error\\?":\\?"([a-z_]+)/.exec(m.response.body ?? '')?.[1];

/** The transaction an answer names (its template), or the one the checkout id gives. */
const transactionOf = (m: Mapping) =>
  /"transactionId":"([^"]+)"/.exec(m.response.body ?? '')?.[1] ??
  "txn_{{jsonPath request.body '$.checkout_id'}}";

/**
 * What a mapping's webhook registers for the lookup (its template), with what differs between
 * the twins by design left out: the transaction, the mapping's name, and what a payment that
 * stands is called in each flow (a charge's `success`, an authorization's `authorized`).
 */
const registeredLookup = (m: Mapping) =>
  m.serveEventListeners?.map((l) =>
    l.parameters.body
      .replaceAll(transactionOf(m).replaceAll('request.', 'originalRequest.'), '<transaction>')
      .replaceAll(m.file, '<mapping>')
      .replace(/\b(success|authorized)\b/g, '<stands>'),
  );

/** What the checkout can tell apart in an answer: everything but ids and the success body. */
const behaviour = (m: Mapping) => ({
  priority: m.priority,
  method: m.request.method,
  bodyPatterns: m.request.bodyPatterns,
  status: m.response.status,
  fault: m.response.fault,
  error: errorOf(m),
  delay: m.response.fixedDelayMilliseconds,
  webhooks: m.serveEventListeners?.map((l) => l.name),
});

const processTriggers = mappings.filter((m) => m.file.startsWith('process-') && m.priority < 10);

describe('the payment mappings', () => {
  it.each(processTriggers.map((m) => [m.file, m] as const))(
    '%s has an authorization twin that matches the same requests and answers alike',
    (file, original) => {
      const twin = byFile(file.replace(/^process-/, 'authorize-'));
      expect(twin, `authorize twin of ${file}`).toBeDefined();
      expect(twin?.request.urlPath).toBe('/payments/authorize');
      expect(behaviour(twin as Mapping)).toEqual(behaviour(original));
    },
  );

  it('register the same lookup as their twin: nothing where it registers nothing, else what it holds', () => {
    for (const original of processTriggers) {
      const twin = byFile(original.file.replace(/^process-/, 'authorize-')) as Mapping;
      expect(registeredLookup(twin), twin.file).toEqual(registeredLookup(original));
    }
  });

  it.each(mappings.filter((m) => m.response.body).map((m) => [m.file, m] as const))(
    '%s repeats what its request sent, through response templating',
    (_file, m) => {
      const body = m.response.body as string;
      expect(m.response.transformers).toEqual(['response-template']);
      const sent = m.request.method === 'GET' ? '{{request.query.checkout_id}}' : "'$.checkout_id'";
      expect(body).toContain(sent);
      // A void or a cancel sends no amount, and a lookup has none to repeat; every other call
      // repeats both, but a boleto, which sends no currency and answers BRL.
      const url = m.request.urlPath ?? m.request.urlPathPattern ?? '';
      const hasAmount = !/\/void$|\/cancel$|^\/payments$/.test(url);
      if (hasAmount) {
        expect(body).toContain('"amount":{{jsonPath request.body \'$.amount\'}}');
        expect(body).toContain(
          url === '/payments/boleto'
            ? '"currency":"BRL"'
            : '"currency":"{{jsonPath request.body \'$.currency\'}}"',
        );
      }
      // An answer about a transaction names the one of its path.
      if (m.request.urlPathPattern || /\/payments\/[^/]+\//.test(m.request.urlPath ?? '')) {
        expect(body).toContain('"transactionId":"{{request.pathSegments.[1]}}"');
      }
    },
  );

  it('mark only transaction ids that a capture, void or refund mapping waits for, and the reverse', () => {
    const marked = mappings
      .filter((m) => m.priority < 10 && m.response.status === 200)
      .flatMap(
        (m) =>
          /"transactionId":"((?:txn|auth)_[a-z_]+?)_?(?:\{\{|")/.exec(m.response.body ?? '')?.[1] ??
          [],
      )
      .filter((id) => id !== 'txn' && id !== 'auth');
    const awaited = mappings
      .filter((m) => m.priority < 10)
      .flatMap(
        (m) =>
          /^\/payments\/((?:txn|auth)_[a-z_]+?)_?(?:\[|\/)/.exec(
            m.request.urlPath ?? m.request.urlPathPattern ?? '',
          )?.[1] ?? [],
      );
    expect(new Set(marked)).toEqual(new Set(awaited));
    expect(new Set(marked)).toEqual(
      new Set([
        'txn_refund_fails',
        'auth_void_fails',
        'auth_capture_timeout',
        'auth_capture_refused',
      ]),
    );
  });
});
