import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { localContext } from '#dev/local/api-gateway-event.ts';
import { handler as operator } from '#functions/operator/handler.ts';
import { getApp } from '#lib/app.ts';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { databaseBefore } from '../support/database-before.ts';
import { newMarker, seedRequest, useLocalApi } from '../support/local-api.ts';

/*
 * `GET /checkout/{id}` answers a checkout to the caller that recorded it (the identity that
 * scopes idempotency keys: IAM principal, else API key id, else anonymous) and 404, as for an
 * unknown id, to anyone else. Locally a caller is told apart by its `x-api-key`. The operator
 * tools see every checkout.
 */
const api = useLocalApi();

const SHOP_A = { 'x-api-key': 'shop-a-api-key' };
const SHOP_B = { 'x-api-key': 'shop-b-api-key' };
const read = (id: unknown, headers: Record<string, string> = {}) =>
  api.request(`/checkout/${String(id)}`, { headers });

describe('GET /checkout/{id} is scoped to the caller that recorded the checkout', () => {
  it('answers shop A its checkout, and shop B and an anonymous caller 404 exactly as for an unknown id', async () => {
    const posted = await api.postCheckout(seedRequest(), SHOP_A);
    expect(posted.status).toBe(200);
    const id = posted.json.checkout_id;

    const own = await read(id, SHOP_A);
    const other = await read(id, SHOP_B);
    const anonymous = await read(id);
    const unknown = await read(randomUUID(), SHOP_B);

    expect(own.status).toBe(200);
    expect(own.json).toMatchObject({ checkout_id: id, status: 'completed' });
    expect([other.status, anonymous.status, unknown.status]).toEqual([404, 404, 404]);
    expect(other.text).toBe(unknown.text);
    expect(anonymous.text).toBe(unknown.text);
    expect(other.text).not.toContain(String(id));
  });

  it('records the caller in the insert that records the checkout, with or without a key', async () => {
    const marker = newMarker();
    const withKey = await api.postCheckout(seedRequest(marker), {
      ...SHOP_B,
      'Idempotency-Key': `key-${marker}`,
    });
    const anonymous = await api.postCheckout(seedRequest(marker));

    const { db } = await getApp();
    const rows = await db.query<{ id: string; caller: string | null }>(
      'select id::text, caller from checkouts where customer_email like :m order by caller',
      { m: `%${marker}%` },
    );
    expect(rows).toEqual([
      { id: anonymous.json.checkout_id, caller: 'anonymous' },
      { id: withKey.json.checkout_id, caller: expect.stringMatching(/^api-key:local-[0-9a-f]+$/) },
    ]);
    expect((await read(anonymous.json.checkout_id)).status).toBe(200);
    expect((await read(withKey.json.checkout_id, SHOP_B)).status).toBe(200);
  });

  it('lets the operator function show any checkout, while no shop reads one that has no caller', async () => {
    const posted = await api.postCheckout(seedRequest(), SHOP_A);
    const id = String(posted.json.checkout_id);
    const { db } = await getApp();
    const noCaller = await api.postCheckout(seedRequest());
    const orphan = String(noCaller.json.checkout_id);
    await db.query('update checkouts set caller = null where id = :id::uuid', { id: orphan });

    for (const shown of [id, orphan]) {
      const answer = await operator({ command: 'show', id: shown }, localContext('operator'));
      expect(answer).toMatchObject({ command: 'show', checkout: { id: shown } });
    }
    expect((await read(orphan)).status).toBe(404);
    expect((await read(orphan, SHOP_A)).status).toBe(404);
  });
});

describe('migration 0007: the caller of checkouts recorded before it', () => {
  it('is the caller its idempotency key was stored with; a row without one is left to the operator', async () => {
    const older = await databaseBefore('0007-checkout-caller');
    try {
      const { db } = older;
      const insert = (id: string, key: string | null) =>
        db.query(
          `insert into checkouts (id, status, customer_email, currency, total_amount, items,
             shipping_address, card_brand, card_last4, idempotency_key, request_hash,
             idempotency_expires_at)
           values (:id::uuid, 'completed', 'old@example.com', 'BRL', 10,
             '[{"product_id":"prod_001","quantity":1,"price":"10.00"}]', '{}', 'visa', '1111',
             :key, 'hash', now() + interval '1 day')`,
          { id, key },
        );
      const rows = {
        iam: 'iam:arn:aws:sts::123456789012:assumed-role/shop-a',
        apiKey: 'api-key:abc123',
        anonymous: 'anonymous',
      };
      const ids: Record<string, string> = {};
      for (const [name, caller] of Object.entries(rows)) {
        ids[name] = randomUUID();
        await insert(ids[name], `${caller}\u001forder-${name}`);
      }
      ids.bareKey = randomUUID();
      await insert(ids.bareKey, 'order-from-before-callers');
      ids.noKey = randomUUID();
      await insert(ids.noKey, null);

      expect(await older.upgrade()).toContain('0007-checkout-caller');

      const repository = createCheckoutRepository(db);
      const callerOf = async (name: string) => (await repository.findById(ids[name] ?? ''))?.caller;
      expect(await callerOf('iam')).toBe(rows.iam);
      expect(await callerOf('apiKey')).toBe(rows.apiKey);
      expect(await callerOf('anonymous')).toBe('anonymous');
      expect(await callerOf('bareKey')).toBeNull();
      expect(await callerOf('noKey')).toBeNull();
    } finally {
      await older.stop();
    }
  });
});
