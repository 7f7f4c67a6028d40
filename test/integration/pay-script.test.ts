import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_WEBHOOK_SECRET } from '#lib/config.ts';
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from '#lib/http/webhook-signature.ts';
import { runPay } from '../../scripts/pay.ts';
import { lookup, pollUntil, untilWebhooksDone } from '../support/wiremock-lookups.ts';

/**
 * `npm run pay` (scripts/pay.ts) against the run's payment WireMock and a tiny HTTP server
 * standing in for the API's webhook endpoint: the lookup says paid and the cancel is refused,
 * the webhook comes signed so that `verifyWebhookSignature` takes it (and refuses a forged
 * one), `--late` pays a cancelled Pix, `--duplicate` delivers one event twice. Run in this
 * process through `runPay`, and once as the child process `npm run pay` starts.
 */
const payment = inject('wiremock').payment;

interface Delivery {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
const deliveries: Delivery[] = [];
/** The stand-in endpoint: 200 for a webhook signed with the local secret, else 401. */
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    deliveries.push({ path: req.url ?? '', headers: req.headers, body });
    const header = req.headers[WEBHOOK_SIGNATURE_HEADER] as string | undefined;
    const check = verifyWebhookSignature(LOCAL_WEBHOOK_SECRET, header, body, Date.now() / 1000);
    res.writeHead(check.ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(check.ok ? { received: true } : { error: 'invalid_signature' }));
  });
});
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { PAYMENT_WEBHOOK_SECRET: _, ...rest } = process.env;
  env = {
    ...rest,
    APP_HOST: '127.0.0.1',
    APP_PORT: String((server.address() as AddressInfo).port),
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function pay(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runPay(argv, {
    env,
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
  });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

async function send(path: string, body: Record<string, unknown>) {
  const res = await fetch(`${payment}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A pending Pix for a new checkout, registered in the lookup. */
async function pendingPix() {
  const id = randomUUID();
  await send('/payments/pix', {
    checkout_id: id,
    amount: 349.7,
    currency: 'BRL',
    customer_email: 'customer@example.com',
    customer_document: '12345678909',
    expires_at: new Date(Date.now() + 30 * 60_000).toISOString(),
  });
  await untilWebhooksDone('payment', id);
  return { id, transactionId: `pix_${id}` };
}

/** A port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const deliveriesOf = (id: string) => deliveries.filter((d) => d.body.includes(id));

describe('npm run pay', () => {
  it('makes the lookup say paid, refuses the cancel, and posts a signed payment.paid', async () => {
    const { id, transactionId } = await pendingPix();
    const run = await pay(id);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('HTTP 200');
    expect(run.stdout).toContain(`curl -s http://127.0.0.1:${env.APP_PORT}/checkout/${id}`);
    expect(run.stdout).toContain(`/checkout/${id}`);

    const [entry] = await lookup('payment', id);
    expect(entry).toEqual({
      transactionId,
      checkout_id: id,
      status: 'paid',
      amount: 349.7,
      currency: 'BRL',
      paid_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
    expect(
      await send(`/payments/${transactionId}/cancel`, { checkout_id: id, reason: 'x' }),
    ).toEqual({
      status: 422,
      json: {
        status: 'failed',
        error: 'already_paid',
        message: expect.any(String),
        transactionId,
        checkout_id: id,
      },
    });

    const [delivery] = deliveriesOf(id);
    expect(delivery?.path).toBe('/webhooks/payments');
    expect(delivery?.headers['content-type']).toBe('application/json');
    const header = delivery?.headers[WEBHOOK_SIGNATURE_HEADER] as string;
    expect(
      verifyWebhookSignature(LOCAL_WEBHOOK_SECRET, header, delivery?.body ?? '', Date.now() / 1000),
    ).toEqual({ ok: true });
    expect(JSON.parse(delivery?.body ?? '')).toEqual({
      event_id: expect.stringMatching(/^evt_[0-9a-f]+$/),
      type: 'payment.paid',
      transactionId,
      checkout_id: id,
      occurred_at: entry?.paid_at,
    });
  });

  it('--forged changes nothing and signs so that the endpoint refuses it (401)', async () => {
    const { id } = await pendingPix();
    const run = await pay(id, '--forged');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('HTTP 401');
    expect(await lookup('payment', id)).toMatchObject([{ status: 'pending' }]);
    const [delivery] = deliveriesOf(id);
    const header = delivery?.headers[WEBHOOK_SIGNATURE_HEADER] as string;
    expect(
      verifyWebhookSignature(LOCAL_WEBHOOK_SECRET, header, delivery?.body ?? '', Date.now() / 1000),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('--duplicate delivers the very same event twice', async () => {
    const { id } = await pendingPix();
    const run = await pay(id, '--duplicate');
    expect(run.code).toBe(0);
    const [first, second] = deliveriesOf(id);
    expect(deliveriesOf(id)).toHaveLength(2);
    expect(second?.body).toBe(first?.body);
    expect(run.stdout.match(/HTTP 200/g)).toHaveLength(2);
  });

  it('pays a cancelled Pix only with --late', async () => {
    const { id, transactionId } = await pendingPix();
    await send(`/payments/${transactionId}/cancel`, {
      checkout_id: id,
      reason: 'checkout_expired',
    });
    await pollUntil(
      () => lookup('payment', id),
      (list) => list[0]?.status === 'cancelled',
    );

    const refused = await pay(id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${transactionId} cancelled`);
    expect(refused.stderr).toContain('--late');
    expect(deliveriesOf(id)).toEqual([]);

    expect((await pay(id, '--late')).code).toBe(0);
    expect(await lookup('payment', id)).toMatchObject([{ transactionId, status: 'paid' }]);
  });

  it('refuses a checkout with nothing pending, and a bad command line', async () => {
    const id = randomUUID();
    expect(await pay(id)).toMatchObject({
      code: 1,
      stderr: `checkout ${id}: the payment service holds no payment for it; npm run pay pays a pending Pix or boleto (add --late for a cancelled or expired one)`,
    });
    expect(await pay()).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
    expect(await pay(id, '--soon')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('unknown option --soon'),
    });
  });

  it('says when the API cannot be reached, once WireMock says paid', async () => {
    const { id } = await pendingPix();
    const saved = env.APP_PORT;
    env.APP_PORT = String(await closedPort());
    try {
      const run = await pay(id);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `cannot reach the checkout API at http://127.0.0.1:${env.APP_PORT} (ECONNREFUSED)`,
      );
      expect(run.stderr).toContain('the payment WireMock says paid already');
    } finally {
      env.APP_PORT = saved;
    }
  });

  it('runs as a script: exit codes and messages, no stack trace', async () => {
    const run = promisify(execFile);
    const { id } = await pendingPix();
    const done = await run('npx', ['tsx', 'scripts/pay.ts', id], { env });
    expect(done.stdout).toContain('HTTP 200');
    expect(await lookup('payment', id)).toMatchObject([{ status: 'paid' }]);

    const again = await run('npx', ['tsx', 'scripts/pay.ts', id], { env }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(again).toMatchObject({ code: 1 });
    // npx may warn first; the script's own message is the last line, with no stack trace.
    const stderr = (again as { stderr: string }).stderr.trim();
    expect(stderr.split('\n').at(-1)).toBe(
      `checkout ${id}: the payment service holds pix_${id} paid; npm run pay pays a pending Pix or boleto (add --late for a cancelled or expired one)`,
    );
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
