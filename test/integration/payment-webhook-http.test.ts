import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { WorkBudget } from '#lib/checkout/lease.ts';
import type { PaymentEvent, PaymentEventOutcome } from '#lib/checkout/payment-event.ts';

/**
 * `POST /webhooks/payments` over HTTP, through the local API Gateway adapter and the real
 * handler, mostly in front of a fake `App`: what the HTTP layer answers, what it hands the use
 * case, and that a refused request reaches nothing (the use case is never called, so nothing
 * can be written). A few run on the real `App` and its database. Applying a real Pix end to end
 * is the lead's suite.
 */

// Powertools fixes its level when the logger is created: on before the handler is imported,
// so the refusals' log lines can be read.
process.env.LOG_LEVEL = 'DEBUG';

const SECRET = 'whsec_http_test';
// The real App's secret (lib/config.ts), for the tests that run on it.
process.env.PAYMENT_WEBHOOK_SECRET = SECRET;
const received: { event: PaymentEvent; budget: WorkBudget }[] = [];
let outcome: PaymentEventOutcome = { kind: 'applied', status: 'completed' };
let webhookKey = async () => SECRET;
/** The real `App` instead of the fake, for the tests that need its database. */
let realApp = false;

vi.mock('#lib/app.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('#lib/app.ts')>();
  const fake = {
    config: { leaseMs: 60_000 },
    webhookKey: () => webhookKey(),
    receivePaymentEvent: async (event: PaymentEvent, budget: WorkBudget) => {
      received.push({ event, budget });
      return outcome;
    },
  };
  return { ...real, getApp: async () => (realApp ? real.getApp() : fake) };
});

const { createLocalGateway, listen } = await import('#dev/local/local-gateway.ts');
const { localRoutes } = await import('#dev/local/routes.ts');
const { localContext } = await import('#dev/local/api-gateway-event.ts');
const { handler } = await import('#functions/webhooks/handler.ts');
const { signWebhook, WEBHOOK_SIGNATURE_HEADER } = await import('#lib/http/webhook-signature.ts');
const { webhookMetrics } = await import('#lib/observability/metrics.ts');
const { closeApp, getApp } = await import('#lib/app.ts');

let server: Server;
let base = '';
beforeAll(async () => {
  server = createLocalGateway(localRoutes);
  base = await listen(server, 0, '127.0.0.1');
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await closeApp();
});
afterEach(() => {
  realApp = false;
  received.length = 0;
  outcome = { kind: 'applied', status: 'completed' };
  webhookKey = async () => SECRET;
  vi.restoreAllMocks();
});

const now = () => Math.floor(Date.now() / 1000);

function paidEvent(overrides: Record<string, unknown> = {}) {
  return {
    event_id: `evt_${randomUUID()}`,
    type: 'payment.paid',
    transactionId: 'pix_http_1',
    checkout_id: randomUUID(),
    occurred_at: '2026-01-15T12:00:00Z',
    ...overrides,
  };
}

/** Posts `rawBody` as the payment service would, signed as `signature` says (`null`: unsigned). */
async function post(
  rawBody: string,
  signature: string | null = signWebhook(SECRET, rawBody, now()),
) {
  const res = await fetch(`${base}/webhooks/payments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature === null ? {} : { [WEBHOOK_SIGNATURE_HEADER]: signature }),
    },
    body: rawBody,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: JSON.parse(text) as unknown };
}

/** Everything written to stdout and stderr (where Powertools logs) while `work` runs. */
async function captureLogs<T>(work: () => Promise<T>): Promise<{ result: T; logs: string }> {
  const lines: string[] = [];
  const capture = (chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(capture),
    vi.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    return { result: await work(), logs: lines.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('a signed payment event', () => {
  it('is handed to the use case as a PaymentEvent, under a webhook worker’s budget', async () => {
    const event = paidEvent({ provider_extra: { any: 'thing' } });
    const res = await post(JSON.stringify(event));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, status: 'completed' });
    expect(received).toHaveLength(1);
    expect(received[0]?.event).toEqual({
      eventId: event.event_id,
      type: 'payment.paid',
      transactionId: 'pix_http_1',
      checkoutId: event.checkout_id,
      occurredAt: '2026-01-15T12:00:00Z',
    });
    expect(received[0]?.budget.worker).toMatch(/^webhook:/);
    expect(received[0]?.budget.leaseMs).toBeGreaterThan(0);
  });

  it.each([
    [{ kind: 'duplicate' }, { received: true, duplicate: true }],
    [{ kind: 'ignored' }, { received: true, ignored: true }],
  ] as const)('answers 200 for %o', async (given, answer) => {
    outcome = given;
    const res = await post(JSON.stringify(paidEvent()));
    expect(res.status).toBe(200);
    expect(res.json).toEqual(answer);
  });

  it('answers 503 with Retry-After when the event cannot be applied yet, so it comes again', async () => {
    outcome = { kind: 'not_yet', reason: 'held', retryInMs: 4_200 };
    const res = await post(JSON.stringify(paidEvent()));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.json).toMatchObject({ error: 'not_applied_yet' });
  });

  it('answers 200 ignored, without the use case, when its checkout_id is not a UUID', async () => {
    const res = await post(JSON.stringify(paidEvent({ checkout_id: 'ord_12345' })));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, ignored: true });
    expect(received).toEqual([]);
  });

  it('is verified on the bytes API Gateway base64-encoded, not on their base64 text', async () => {
    const raw = JSON.stringify(paidEvent({ type: 'payment.paid', note: 'ação' }));
    const apiEvent = {
      httpMethod: 'POST',
      path: '/webhooks/payments',
      resource: '/webhooks/payments',
      // As API Gateway passes it: the header's name as the service spelled it.
      headers: { [WEBHOOK_SIGNATURE_HEADER.toUpperCase()]: signWebhook(SECRET, raw, now()) },
      body: Buffer.from(raw, 'utf8').toString('base64'),
      isBase64Encoded: true,
      requestContext: { identity: { sourceIp: '198.51.100.7' } },
    } as unknown as APIGatewayProxyEvent;
    const result = await handler(apiEvent, localContext('webhooks'));
    expect(result.statusCode).toBe(200);
    expect(received).toHaveLength(1);
  });
});

describe('a refused webhook reaches nothing and echoes nothing', () => {
  const body = JSON.stringify(paidEvent({ event_id: 'evt_must_not_echo' }));
  const signed = signWebhook(SECRET, body, now());

  it.each([
    ['missing', null],
    ['malformed', 'v1=abc'],
    // Far outside the 300 s window: these are signed when the file loads, seconds before use.
    ['stale', signWebhook(SECRET, body, now() - 3600)],
    ['from the future', signWebhook(SECRET, body, now() + 3600)],
    ['signed with another secret', signWebhook('someone else', body, now())],
    ['signed for another body', signWebhook(SECRET, `${body} `, now())],
  ])(
    '401 when the signature is %s: counted and logged with its reason, never the body or header',
    async (_, signature) => {
      const counted = vi.spyOn(webhookMetrics, 'signatureRejected');
      const { result: res, logs } = await captureLogs(() => post(body, signature));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'invalid_signature' });
      expect(received).toEqual([]);
      expect(counted).toHaveBeenCalledTimes(1);
      const line = logs
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.message === 'payment webhook refused: signature');
      expect(line?.reason).toMatch(/^(missing|malformed|stale|mismatch)$/);
      expect(logs).not.toContain('evt_must_not_echo');
      if (signature) expect(logs).not.toContain(signature.split('v1=')[1]);
      expect(res.text).not.toContain('evt_must_not_echo');
    },
  );

  it('401 for a signature that is not ours, before the body is read as JSON', async () => {
    const res = await post(
      'not json at all',
      signWebhook('someone else', 'not json at all', now()),
    );
    expect(res.status).toBe(401);
  });

  it('413 for a body over 64 KiB, even signed, without checking it further', async () => {
    const counted = vi.spyOn(webhookMetrics, 'signatureRejected');
    const big = JSON.stringify(paidEvent({ padding: 'x'.repeat(64 * 1024) }));
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({ error: 'payload_too_large' });
    expect(received).toEqual([]);
    expect(counted).not.toHaveBeenCalled();
  });

  it('400 for a signed body that is not JSON (the bytes are wrong, not their label)', async () => {
    const res = await post('event_id=evt_must_not_echo');
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'validation_error' });
    expect(res.text).not.toContain('evt_must_not_echo');
    expect(received).toEqual([]);
  });

  it('400 for signed JSON that is not a payment event, naming the fields', async () => {
    const { event_id: _, ...withoutId } = paidEvent({ transactionId: 'x'.repeat(300) });
    const res = await post(JSON.stringify(withoutId));
    expect(res.status).toBe(400);
    const paths = (res.json as { details: { path: string }[] }).details.map((d) => d.path);
    expect(paths.sort()).toEqual(['event_id', 'transactionId']);
    expect(res.text).not.toContain('x'.repeat(300));
    expect(received).toEqual([]);
  });

  it('503 with Retry-After and no detail when the signing secret cannot be read', async () => {
    webhookKey = async () => {
      throw new Error('AccessDeniedException: arn:aws:secretsmanager:eu-west-1:123:secret:whsec');
    };
    const { result: res, logs } = await captureLogs(() => post(body, signed));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    expect(res.json).toEqual({
      error: 'service_unavailable',
      message: 'The service is temporarily unavailable, please retry',
    });
    expect(logs).toContain('no signing secret');
    expect(received).toEqual([]);
  });
});

describe('on the real App and its database', () => {
  const checkoutCount = async () => {
    const { db } = await getApp();
    const [row] = await db.query<{ n: string }>('select count(*)::text as n from checkouts');
    return Number(row?.n);
  };

  it('answers 200 ignored for a checkout id nobody has, and writes nothing', async () => {
    realApp = true;
    const before = await checkoutCount();
    const res = await post(JSON.stringify(paidEvent()));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ received: true, ignored: true });
    expect(await checkoutCount()).toBe(before);
  });

  it('refuses a webhook signed with another secret than lib/config.ts gives, writing nothing', async () => {
    realApp = true;
    const before = await checkoutCount();
    const body = JSON.stringify(paidEvent());
    const res = await post(body, signWebhook('not the configured secret', body, now()));
    expect(res.status).toBe(401);
    expect(await checkoutCount()).toBe(before);
  });
});
