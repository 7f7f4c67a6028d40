import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortRun } from '#dev/local/wiremock-process.ts';
import type { CheckoutNeedingAttention } from '../support/requires-attention.ts';
import { startSharedDatabase } from '../support/shared-database.ts';
import { header, receivedRequests } from '../support/wiremock-journal.ts';
import { addStub } from '../support/wiremock-stubs.ts';

/*
 * `npm run checkouts` against a real database (a PGlite served over the wire, or a schema of
 * its own on TEST_DATABASE_URL) and the run's WireMocks: the CLI is spawned as an operator
 * runs it, and run in-process for the bad command lines.
 */
const shared = await startSharedDatabase({ ownSchema: true });
process.env.DATABASE_URL = shared.url;

const { closeApp, getApp } = await import('#lib/app.ts');
const { seedRequest, useLocalApi } = await import('../support/local-api.ts');
const { checkoutNeedingAttention } = await import('../support/requires-attention.ts');
const { runCli } = await import('../support/checkouts-cli.ts');

const api = useLocalApi();
afterAll(async () => {
  await closeApp();
  await shared.stop();
});

const exec = promisify(execFile);

/** `npm run checkouts -- ...args` in a child process: its exit code and output. */
async function spawnCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = await exec('npm', ['run', '--silent', 'checkouts', '--', ...args], { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  return { code: child.code, stdout: child.stdout, stderr: child.stderr };
}

const CARD_NUMBER = '4111111111111111';

async function stored(id: string) {
  const app = await getApp();
  const [checkout, history] = await Promise.all([
    app.readCheckout(id),
    app.operations.show(id).then((report) => report?.history ?? []),
  ]);
  return { checkout, history };
}

describe('npm run checkouts against a checkout that requires attention', () => {
  let stuck: CheckoutNeedingAttention;
  beforeAll(async () => {
    stuck = await checkoutNeedingAttention(api);
  });

  it('list --status requires_attention lists it, with its age, failure and the undo that failed', async () => {
    const { code, stdout } = await spawnCli(['list', '--status', 'requires_attention']);

    expect(code).toBe(0);
    const line = stdout.split('\n').find((l) => l.startsWith(stuck.id));
    expect(line).toMatch(
      /requires_attention\s+\d+s\s+inventory_failed \(out_of_stock\)\s+refund_payment\s+499\.60 BRL/,
    );
    expect(stdout).toMatch(/\d+ checkouts?, oldest first/);
  });

  it('list --json: by default what needs a person, oldest first; --older-than leaves young ones out', async () => {
    const all = await runCli(['list', '--json']);
    expect(all.code).toBe(0);
    const listed = JSON.parse(all.stdout) as { checkouts: { id: string; status: string }[] };
    expect(listed.checkouts).toContainEqual(
      expect.objectContaining({
        id: stuck.id,
        status: 'requires_attention',
        undoFailures: ['refund_payment'],
      }),
    );
    expect(listed.checkouts.map((c) => c.status)).not.toContain('completed');

    const old = await runCli(['list', '--older-than', '1d', '--json']);
    expect(JSON.parse(old.stdout)).toEqual({
      command: 'list',
      checkouts: [],
      unreadable: [],
    });
  });

  it('show prints the checkout, its history with each worker, and what the services hold; no card number', async () => {
    const { code, stdout } = await spawnCli(['show', stuck.id]);

    expect(code).toBe(0);
    expect(stdout).toContain(`Checkout ${stuck.id}`);
    expect(stdout).toMatch(/status\s+requires_attention/);
    expect(stdout).toMatch(/payment\s+credit_card, visa ending 1111/);
    expect(stdout).toMatch(/\(new\) -> pending\s+request:/);
    expect(stdout).toMatch(/compensating -> requires_attention\s+recovery:test/);
    // What the mocks hold: the charge made, the stock refused, no order (wiremock/README.md).
    expect(stdout).toMatch(
      new RegExp(`payment\\s+txn_${stuck.marker} success \\(charge, taken, 499\\.60 BRL\\)`),
    );
    expect(stdout).toMatch(/inventory\s+nothing/);
    expect(stdout).toMatch(/order\s+nothing/);
    expect(stdout).not.toContain(CARD_NUMBER);

    const json = await runCli(['show', stuck.id, '--json']);
    const report = JSON.parse(json.stdout);
    expect(report.history.at(-1)).toMatchObject({
      from: 'compensating',
      to: 'requires_attention',
      by: 'recovery:test',
    });
    expect(report.services.payment).toEqual({
      records: [
        {
          transactionId: `txn_${stuck.marker}`,
          status: 'success',
          amountCents: 49_960,
          currency: 'BRL',
        },
      ],
    });
    expect(json.stdout).not.toContain(CARD_NUMBER);
  });

  it('show asks the WireMocks where WIREMOCK_BASE_PORT puts them when no service URL is set', async () => {
    const base = await freePortRun();
    const {
      PAYMENT_SERVICE_URL: _p,
      INVENTORY_SERVICE_URL: _i,
      ORDER_SERVICE_URL: _o,
      ...env
    } = process.env;
    const { code, stdout, stderr } = await spawnCli(['show', stuck.id], {
      ...env,
      WIREMOCK_BASE_PORT: String(base),
    });
    expect(code).toBe(0);
    expect(stdout).toContain(`Checkout ${stuck.id}`);
    // Nothing listens there: each is named.
    expect(stderr).toContain(
      `Not answered: payment http://127.0.0.1:${base}, inventory http://127.0.0.1:${base + 1}, order http://127.0.0.1:${base + 2}.`,
    );
  });

  it.each([
    [['refund', 'x'], /unknown command: refund/],
    [['list', '--older-than', '15 minutes'], /--older-than: must be like 30s, 15m, 2h or 1d/],
    [['resolve', 'ID', '--as', 'failed'], /--note: a resolution needs a note/],
    [['resolve', 'ID', '--as', 'failed', '--note', '   '], /--note: a resolution needs a note/],
    [['resolve', 'ID', '--as', 'lost', '--note', 'n'], /--as: must be failed or completed/],
    [['retry', 'not-a-uuid'], /<id>: must be a checkout id/],
    [['retry'], /retry needs a checkout id/],
    [['list', '--note', 'x'], /list takes no --note/],
  ])('%j exits 2 with the reason, and changes nothing', async (args, reason) => {
    const before = await stored(stuck.id);

    const { code, stdout, stderr } = await runCli(args.map((a) => (a === 'ID' ? stuck.id : a)));

    expect(code).toBe(2);
    expect(stderr).toMatch(reason);
    expect(stdout).toBe('');
    expect(await stored(stuck.id)).toEqual(before);
  });

  it('show and retry of an unknown checkout, and retry of a finished one, are refused with exit 1', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await runCli(['show', unknown])).toMatchObject({
      code: 1,
      stdout: expect.stringContaining('refused: there is no checkout with this id'),
    });
    const completed = await api.postCheckout(seedRequest());
    const id = String(completed.json.checkout_id);
    expect(await runCli(['retry', id, '--by', 'jane'])).toMatchObject({
      code: 1,
      stdout: expect.stringContaining('refused: it is completed or failed already'),
    });
    expect((await stored(id)).checkout?.status).toBe('completed');
  });

  it('retry undoes it again: the refund goes out to the payment service and the checkout ends failed', async () => {
    const refundsBefore = await receivedRequests('payment', stuck.id, stuck.refundPath);
    await stuck.repairRefund();

    const { code, stdout } = await spawnCli(['retry', stuck.id, '--by', 'jane']);

    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`retry ${stuck.id}: failed (inventory_failed: out_of_stock)`);
    const refunds = await receivedRequests('payment', stuck.id, stuck.refundPath);
    expect(refunds.length).toBe(refundsBefore.length + 1);
    expect(header(refunds.at(-1), 'Idempotency-Key')).toBe(`${stuck.id}:refund`);
    expect(await receivedRequests('payment', stuck.id, '/payments/process')).toHaveLength(1);
    const { checkout, history } = await stored(stuck.id);
    expect(checkout).toMatchObject({ status: 'failed', undoFailures: [] });
    expect(history.filter((t) => t.by === 'operator:jane').at(-1)).toMatchObject({
      from: 'compensating',
      to: 'failed',
    });
  });
});

describe('npm run checkouts retry while the service still does not answer', () => {
  it('says the checkout is still unfinished and exits 3, not 0', async () => {
    const stuck = await checkoutNeedingAttention(api);

    const { code, stdout } = await runCli(['retry', stuck.id, '--by', 'jane']);

    expect(code).toBe(3);
    expect(stdout).toContain(`retry ${stuck.id}: still unfinished (compensating)`);
    expect((await stored(stuck.id)).checkout?.status).toBe('compensating');
  });
});

describe('npm run checkouts resolve', () => {
  it('records the end state with the note and the operator; a same-key replay gets the resolved answer', async () => {
    const key = `operator-cli-${Date.now()}`;
    const stuck = await checkoutNeedingAttention(api, { 'Idempotency-Key': key });
    const replay = () => api.postCheckout(stuck.request, { 'Idempotency-Key': key });
    expect((await replay()).json).toMatchObject({ status: 'requires_attention' });
    const note = 'refunded txn by hand in the payment console, ticket OPS-42';
    const resolve = () =>
      spawnCli(['resolve', stuck.id, '--as', 'failed', '--note', note, '--by', 'jane']);

    // The charge still stands at the payment service: calling it failed would keep the money.
    const early = await resolve();
    expect(early.code).toBe(1);
    expect(early.stdout).toContain(`charge txn_${stuck.marker} still stands`);
    expect((await stored(stuck.id)).checkout).toMatchObject({ status: 'requires_attention' });

    // A person refunds it in the provider's console (the mocks have none: its lookup is stubbed
    // to say so); no stock is held and no order was made, as the services' records say.
    const lookup = (service: 'payment' | 'inventory' | 'order', urlPath: string, body: unknown) =>
      addStub(service, {
        priority: 1,
        request: {
          method: 'GET',
          urlPath,
          queryParameters: { checkout_id: { equalTo: stuck.id } },
        },
        response: { status: 200, jsonBody: body },
      });
    await lookup('payment', '/payments', {
      payments: [{ transactionId: `txn_${stuck.marker}`, status: 'refunded' }],
    });
    await lookup('inventory', '/inventory/deductions', { deductions: [] });
    await lookup('order', '/orders', { orders: [] });
    const { code, stdout } = await resolve();

    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`resolve ${stuck.id}: failed (inventory_failed: out_of_stock)`);
    const { checkout, history } = await stored(stuck.id);
    expect(checkout).toMatchObject({ status: 'failed', undoFailures: [] });
    expect(history.at(-1)).toMatchObject({
      from: 'requires_attention',
      to: 'failed',
      by: 'operator:jane',
      cause: expect.stringContaining(note),
    });
    const replayed = await replay();
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.status).toBe(422);
    expect(replayed.json).toMatchObject({
      checkout_id: stuck.id,
      status: 'failed',
      error: 'inventory_failed',
    });
    expect(String(replayed.json.message)).not.toContain('needs attention');
    // Resolved by hand: nothing more was sent to the payment service.
    expect(await receivedRequests('payment', stuck.id, '/payments/process')).toHaveLength(1);
  });
});

describe('npm run checkouts on the embedded database of npm start', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'checkouts-cli-'));
  const embedded = Object.fromEntries(
    Object.entries({ ...process.env, PGLITE_DATA_DIR: dataDir }).filter(
      ([k]) => k !== 'DATABASE_URL',
    ),
  );
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  // Each spawns `npm run` and opens PGlite on a new folder: seconds alone, far more on a busy
  // machine, so they get more than the default 30 s.
  it('says clearly that the folder is in use while another process has it open', {
    timeout: 120_000,
  }, async () => {
    const holder = await PGlite.create(dataDir);
    try {
      const { code, stderr } = await spawnCli(['list'], embedded);
      expect(code).toBe(1);
      expect(stderr).toContain(`the embedded database ${dataDir} is open in another process`);
      expect(stderr).toContain('Stop `npm start`');
    } finally {
      await holder.close();
    }
  });

  it('lists from the folder once it is free', { timeout: 120_000 }, async () => {
    const { code, stdout, stderr } = await spawnCli(['list'], embedded);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('No checkouts match.');
  });
});
