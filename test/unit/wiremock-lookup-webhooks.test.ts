import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The outcome lookups of the WireMock mappings, read as files (wiremock/README.md, "Outcome
 * lookups"): the default lookups answer "nothing held", after every other mapping; each mapping
 * that acts carries a webhook registering, for the checkout of its request, the lookup stub of
 * what its service now holds; no other mapping does. The webhook bodies are rendered here for a
 * sample request, as WireMock's templating would, and read as the admin API would.
 * (`test/integration/wiremock-lookups.test.ts` sends the calls to the real WireMocks.)
 */

interface Listener {
  name: string;
  parameters: { method: string; url: string; headers: Record<string, string>; body: string };
}
interface Mapping {
  key: string;
  service: Service;
  file: string;
  priority: number;
  request: { method: string; urlPath?: string; urlPathPattern?: string };
  response: { status?: number; fault?: string; body?: string; jsonBody?: unknown };
  serveEventListeners?: Listener[];
}

type Service = 'payment' | 'inventory' | 'order';
const SERVICES: Service[] = ['payment', 'inventory', 'order'];
const ROOT = path.resolve(import.meta.dirname, '../../wiremock');
const mappings: Mapping[] = SERVICES.flatMap((service) =>
  readdirSync(path.join(ROOT, service, 'mappings')).map((name) => {
    const file = name.replace(/\.json$/, '');
    return {
      key: `${service}/${file}`,
      service,
      file,
      ...JSON.parse(readFileSync(path.join(ROOT, service, 'mappings', name), 'utf8')),
    };
  }),
);

const LOOKUPS: Record<Service, { path: string; list: string; file: string }> = {
  payment: { path: '/payments', list: 'payments', file: 'payment/lookup-payments' },
  inventory: {
    path: '/inventory/deductions',
    list: 'deductions',
    file: 'inventory/lookup-deductions',
  },
  order: { path: '/orders', list: 'orders', file: 'order/lookup-orders' },
};

/** The first thing a service holds for a checkout: added once, never replacing a stub. */
const FIRST = 'IGNORE';
/** What happens to it later: replaces the checkout's stub. */
const LATER = 'OVERWRITE';

const CHECKOUT = '5d0c7a52-7c39-4b6b-9a62-8f1c3e2b9a10';
const PATH_TRANSACTION = 'txn_from_the_path';
const ITEMS = [{ product_id: 'prod_001', quantity: 2 }];

/** Every mapping that registers, with what the lookup then lists and how it is registered. */
const REGISTERS: Record<string, { status: string; policy: string; transactionId?: string }> = {
  'payment/process-success': { status: 'success', policy: FIRST },
  'payment/process-timeout': { status: 'success', policy: FIRST },
  'payment/process-connection-reset': { status: 'success', policy: FIRST },
  'payment/process-refund-error-transaction': {
    status: 'success',
    policy: FIRST,
    transactionId: 'txn_refund_fails',
  },
  'payment/process-card-declined': { status: 'failed', policy: FIRST },
  'payment/process-insufficient-funds': { status: 'failed', policy: FIRST },
  'payment/authorize-success': { status: 'authorized', policy: FIRST },
  'payment/authorize-timeout': { status: 'authorized', policy: FIRST },
  'payment/authorize-connection-reset': { status: 'authorized', policy: FIRST },
  'payment/authorize-capture-timeout-transaction': {
    status: 'authorized',
    policy: FIRST,
    transactionId: `auth_capture_timeout_${CHECKOUT}`,
  },
  'payment/authorize-capture-refused-transaction': {
    status: 'authorized',
    policy: FIRST,
    transactionId: `auth_capture_refused_${CHECKOUT}`,
  },
  'payment/authorize-void-fails-transaction': {
    status: 'authorized',
    policy: FIRST,
    transactionId: `auth_void_fails_${CHECKOUT}`,
  },
  'payment/authorize-refund-error-transaction': {
    status: 'authorized',
    policy: FIRST,
    transactionId: `auth_void_fails_${CHECKOUT}`,
  },
  'payment/authorize-card-declined': { status: 'failed', policy: FIRST },
  'payment/authorize-token-declined': { status: 'failed', policy: FIRST },
  'payment/authorize-insufficient-funds': { status: 'failed', policy: FIRST },
  'payment/capture-success': { status: 'captured', policy: LATER, transactionId: PATH_TRANSACTION },
  'payment/capture-timeout': { status: 'captured', policy: LATER, transactionId: PATH_TRANSACTION },
  'payment/void-success': { status: 'voided', policy: LATER, transactionId: PATH_TRANSACTION },
  'payment/refund-success': { status: 'refunded', policy: LATER, transactionId: PATH_TRANSACTION },
  'payment/pix-success': { status: 'pending', policy: FIRST, transactionId: `pix_${CHECKOUT}` },
  'payment/pix-timeout': { status: 'pending', policy: FIRST, transactionId: `pix_${CHECKOUT}` },
  'payment/pix-connection-reset': {
    status: 'pending',
    policy: FIRST,
    transactionId: `pix_${CHECKOUT}`,
  },
  'payment/boleto-success': { status: 'pending', policy: FIRST, transactionId: `bol_${CHECKOUT}` },
  'payment/boleto-timeout': { status: 'pending', policy: FIRST, transactionId: `bol_${CHECKOUT}` },
  'payment/boleto-connection-reset': {
    status: 'pending',
    policy: FIRST,
    transactionId: `bol_${CHECKOUT}`,
  },
  'payment/cancel-success': {
    status: 'cancelled',
    policy: LATER,
    transactionId: PATH_TRANSACTION,
  },
  'inventory/deduct-success': { status: 'deducted', policy: FIRST },
  'inventory/deduct-timeout': { status: 'deducted', policy: FIRST },
  'inventory/deduct-connection-reset': { status: 'deducted', policy: FIRST },
  'inventory/release-success': { status: 'released', policy: LATER },
  'order/create-success': { status: 'created', policy: FIRST },
  'order/create-timeout': { status: 'created', policy: FIRST },
  'order/create-connection-reset': { status: 'created', policy: FIRST },
};

const SELF =
  "{{val (systemValue type='ENVIRONMENT' key='WIREMOCK_SELF_URL') or=originalRequest.baseUrl}}";

/** A webhook body as WireMock renders it for a request of checkout CHECKOUT, 349.7 BRL, ITEMS. */
function render(template: string): unknown {
  const text = template
    .replaceAll("{{jsonPath originalRequest.body '$.checkout_id'}}", CHECKOUT)
    .replaceAll("{{jsonPath originalRequest.body '$.amount'}}", '349.7')
    .replaceAll("{{jsonPath originalRequest.body '$.currency'}}", 'BRL')
    .replaceAll('{{originalRequest.pathSegments.[1]}}', PATH_TRANSACTION)
    .replaceAll(
      "{{{jsonPath originalRequest.body '$.items' default='[]'}}}",
      JSON.stringify(ITEMS),
    );
  expect(text).not.toContain('{{');
  return JSON.parse(text);
}

/** The entry the lookup lists once the mapping's webhook registered it. */
function entry(m: Mapping, status: string, transactionId = `txn_${CHECKOUT}`) {
  if (m.service === 'inventory') return { checkout_id: CHECKOUT, status, items: ITEMS };
  if (m.service === 'order') return { orderId: `ord_${CHECKOUT}`, checkout_id: CHECKOUT, status };
  // A void or a cancel sends no amount: its entry has none to repeat.
  const money = ['voided', 'cancelled'].includes(status) ? {} : { amount: 349.7, currency: 'BRL' };
  return { transactionId, checkout_id: CHECKOUT, status, ...money };
}

describe('the outcome lookups of the mappings', () => {
  it.each(SERVICES)(
    '%s: the default lookup answers nothing held, after every other mapping',
    (service) => {
      const { path: urlPath, list, file } = LOOKUPS[service];
      const lookup = mappings.find((m) => m.key === file);
      expect(lookup).toMatchObject({
        priority: 12,
        request: {
          method: 'GET',
          urlPath,
          queryParameters: { checkout_id: { matches: '^[A-Za-z0-9_-]+$' } },
        },
        response: { status: 200, jsonBody: { [list]: [] } },
      });
      // Every other mapping comes before the registered lookups (11), so only a lookup is matched
      // against them.
      const lookups = SERVICES.map((s) => LOOKUPS[s].file);
      const others = mappings.filter((m) => !lookups.includes(m.key));
      expect(Math.max(...others.map((m) => m.priority))).toBeLessThanOrEqual(10);
    },
  );

  it('every mapping that acts registers what its service now holds, and no other mapping does', () => {
    const withWebhooks = mappings.filter((m) => m.serveEventListeners?.length).map((m) => m.key);
    expect(withWebhooks.sort()).toEqual(Object.keys(REGISTERS).sort());
    // A success answers 2xx; the faults that acted are the timeouts and resets that register.
    for (const m of mappings) {
      const acts = (m.response.status ?? 0) >= 200 && (m.response.status ?? 0) < 300;
      const lookupOrCatalog = m.request.method === 'GET' || m.file.startsWith('catalog-');
      if (acts && !lookupOrCatalog) expect(Object.keys(REGISTERS), m.key).toContain(m.key);
    }
  });

  it.each(Object.entries(REGISTERS))(
    '%s registers %o',
    (key, { status, policy, transactionId }) => {
      const m = mappings.find((candidate) => candidate.key === key) as Mapping;
      const { path: urlPath, list } = LOOKUPS[m.service];
      expect(m.serveEventListeners).toHaveLength(1);
      const [webhook] = m.serveEventListeners as Listener[];
      expect(webhook).toMatchObject({
        name: 'webhook',
        parameters: {
          method: 'POST',
          url: `${SELF}/__admin/mappings/import`,
          headers: { 'Content-Type': 'application/json' },
        },
      });

      const posted = render(webhook?.parameters.body as string) as {
        mappings: Record<string, unknown>[];
        importOptions: unknown;
      };

      expect(posted.importOptions).toEqual({
        duplicatePolicy: policy,
        deleteAllNotInImport: false,
      });
      expect(posted.mappings).toHaveLength(1);
      expect(posted.mappings[0]).toEqual({
        id: CHECKOUT,
        name: expect.stringContaining(`registered by the webhook of ${m.file}`),
        priority: 11,
        request: {
          method: 'GET',
          urlPath,
          queryParameters: { checkout_id: { equalTo: CHECKOUT } },
        },
        response: {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          jsonBody: { [list]: [entry(m, status, transactionId)] },
        },
        metadata: { registeredBy: 'webhook' },
      });
    },
  );

  it('a payment registration names the transaction the answer gave', () => {
    for (const key of Object.keys(REGISTERS).filter((k) => k.startsWith('payment/'))) {
      const m = mappings.find((candidate) => candidate.key === key) as Mapping;
      const answered = /"transactionId":"([^"]+)"/.exec(m.response.body ?? '')?.[1];
      if (!answered) continue; // a refusal or a reset names none
      const body = m.serveEventListeners?.[0]?.parameters.body ?? '';
      const listed = /"transactionId":"([^"]+)"/.exec(body)?.[1];
      expect(listed, key).toBe(answered.replaceAll('request.', 'originalRequest.'));
    }
  });
});
