import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startSharedDatabase } from '../support/shared-database.ts';

/*
 * The operator function, invoked in-process as `aws lambda invoke` would, against a real
 * database of this file's own and the run's WireMocks.
 */
const shared = await startSharedDatabase({ ownSchema: true });
process.env.DATABASE_URL = shared.url;

const { closeApp, getApp } = await import('#lib/app.ts');
const { localContext } = await import('#dev/local/api-gateway-event.ts');
const { handler } = await import('#functions/operator/handler.ts');
const { useLocalApi } = await import('../support/local-api.ts');
const { checkoutNeedingAttention, refundedInConsole } = await import(
  '../support/requires-attention.ts'
);

const api = useLocalApi();
afterAll(async () => {
  await closeApp();
  await shared.stop();
});

const invoke = (event: unknown) => handler(event, localContext('operator'));

describe('the operator function', () => {
  it('lists a checkout that requires attention and resolves it, recording who and why', async () => {
    const stuck = await checkoutNeedingAttention(api);

    const listed = await invoke({ command: 'list', status: 'requires_attention' });
    expect(listed).toMatchObject({
      command: 'list',
      checkouts: [{ id: stuck.id, status: 'requires_attention', undoFailures: ['refund_payment'] }],
    });

    await refundedInConsole(stuck);
    const resolved = await invoke({
      command: 'resolve',
      id: stuck.id,
      by: 'jane',
      as: 'failed',
      note: 'refund confirmed in the payment console',
    });

    expect(resolved).toMatchObject({
      command: 'resolve',
      finished: true,
      checkout: { id: stuck.id, status: 'failed' },
    });
    const report = await (await getApp()).operations.show(stuck.id);
    expect(report?.checkout.status).toBe('failed');
    expect(report?.history.at(-1)).toMatchObject({
      from: 'requires_attention',
      to: 'failed',
      by: 'operator:jane',
      cause: expect.stringContaining('refund confirmed in the payment console'),
    });
    expect(await invoke({ command: 'list', status: 'requires_attention' })).toEqual({
      command: 'list',
      checkouts: [],
      unreadable: [],
    });
  });

  it('retry reopens a requires_attention checkout: a same-key POST then gets where it stands, not the old answer', async () => {
    const key = `reopen-${randomUUID()}`;
    const stuck = await checkoutNeedingAttention(api, { 'Idempotency-Key': key });
    const repeat = () => api.postCheckout(stuck.request, { 'Idempotency-Key': key });
    const given = await repeat();
    expect(given.status).toBe(409);
    expect(given.json.error).toBe('checkout_requires_attention');

    // The refund still fails: the retry reopens it at compensating and leaves it unfinished.
    const retried = await invoke({ command: 'retry', id: stuck.id, by: 'jane' });
    expect(retried).toMatchObject({ finished: false, checkout: { status: 'compensating' } });

    const whileHeld = await repeat();
    expect(whileHeld.headers.get('idempotent-replayed')).toBeNull();
    expect(whileHeld.status).toBe(409);
    expect(whileHeld.json).toMatchObject({ error: 'checkout_in_progress', checkout_id: stuck.id });

    const { db } = await getApp();
    await db.query(
      `update checkouts set locked_until = now() - interval '1 hour' where id = :id::uuid`,
      {
        id: stuck.id,
      },
    );
    const leaseOver = await repeat();
    expect(leaseOver.headers.get('idempotent-replayed')).toBeNull();
    expect(leaseOver.status).toBe(503);
    expect(leaseOver.json).toMatchObject({
      checkout_id: stuck.id,
      status: 'compensating',
      error: 'checkout_incomplete',
    });

    // Once the refund goes through, the key replays the checkout's new end.
    await stuck.repairRefund();
    const undone = await invoke({ command: 'retry', id: stuck.id, by: 'jane' });
    expect(undone).toMatchObject({ finished: true, checkout: { status: 'failed' } });
    const ended = await repeat();
    expect(ended.status).toBe(422);
    expect(ended.headers.get('idempotent-replayed')).toBe('true');
    expect(ended.json).toMatchObject({ status: 'failed', error: 'inventory_failed' });
  });

  it('shows a checkout and refuses one it does not know', async () => {
    const stuck = await checkoutNeedingAttention(api);

    const shown = await invoke({ command: 'show', id: stuck.id });
    expect(shown).toMatchObject({
      command: 'show',
      checkout: {
        id: stuck.id,
        status: 'requires_attention',
        card: { brand: 'visa', last4: '1111' },
      },
      history: expect.arrayContaining([expect.objectContaining({ by: 'recovery:test' })]),
    });
    expect(JSON.stringify(shown)).not.toContain('4111111111111111');

    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await invoke({ command: 'show', id: unknown })).toEqual({
      command: 'show',
      id: unknown,
      refused: 'not_found',
    });
  });

  it.each([
    [{ command: 'resolve', id: 'ID', by: 'jane', as: 'failed' }, 'note'],
    [{ command: 'retry', id: 'ID' }, 'by'],
    [{ command: 'retry', id: 'not-a-uuid', by: 'jane' }, 'id'],
    [{ command: 'list', older_than: '1h' }, 'event'],
    [{ command: 'drop' }, 'command'],
  ])('answers %j with the reason, not an error, and changes nothing', async (event, path) => {
    const stuck = await checkoutNeedingAttention(api);
    const before = await (await getApp()).operations.show(stuck.id);
    const withId = 'id' in event && event.id === 'ID' ? { ...event, id: stuck.id } : event;

    const answer = await invoke(withId);

    expect(answer).toMatchObject({
      error: 'validation_error',
      details: [expect.objectContaining({ path })],
    });
    const after = await (await getApp()).operations.show(stuck.id);
    expect(after?.checkout).toEqual(before?.checkout);
    expect(after?.history).toEqual(before?.history);
  });
});
