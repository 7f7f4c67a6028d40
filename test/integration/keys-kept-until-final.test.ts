import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { IdempotencyClaim } from '#lib/checkout/ports.ts';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { databaseBefore } from '../support/database-before.ts';

const CALLER = 'api-key:shop';
const claim = (key: string): IdempotencyClaim => ({
  key,
  caller: CALLER,
  requestHash: 'hash',
  ttlHours: 24,
});

describe('migration 0009: keys claimed before it', () => {
  it('keeps the key of an unfinished checkout until it is final, then for the TTL it was claimed with; a finished one keeps its expiry', async () => {
    const older = await databaseBefore('0009-async-payments');
    try {
      const { db } = older;
      // As the release before claimed them: a 2 h TTL from the insert, run out an hour ago.
      const insert = (id: string, status: string, key: string) =>
        db.query(
          `insert into checkouts (id, caller, status, customer_email, currency, total_amount,
             items, shipping_address, card_brand, card_last4, payment_id, idempotency_key,
             request_hash, idempotency_expires_at, created_at)
           values (:id::uuid, :caller, :status, 'old@example.com', 'BRL', 10,
             '[{"product_id":"prod_001","quantity":1,"price":"10.00"}]', '{}', 'visa', '1111',
             'txn_old', :key, 'hash', now() - interval '1 hour', now() - interval '3 hours')`,
          { id, caller: CALLER, status, key: `${CALLER}\u001f${key}` },
        );
      const [unfinished, completed] = [randomUUID(), randomUUID()];
      await insert(unfinished, 'payment_processed', 'k-unfinished');
      await insert(completed, 'completed', 'k-completed');

      expect(await older.upgrade()).toContain('0009-async-payments');

      const repository = createCheckoutRepository(db);
      expect(await repository.findKeyHolder(claim('k-unfinished'))).toMatchObject({
        checkout: { id: unfinished },
      });
      expect(await repository.findKeyHolder(claim('k-completed'))).toBeUndefined();
      await repository.update(
        { id: unfinished, attempt: 1 },
        { status: 'failed', cause: 'refunded', response: { code: 502, body: '{}' } },
      );
      const [row] = await db.query<{ hours: string }>(
        `select round(extract(epoch from idempotency_expires_at - now()) / 3600)::text as hours
         from checkouts where id = :id::uuid`,
        { id: unfinished },
      );
      expect(row?.hours).toBe('2');
    } finally {
      await older.stop();
    }
  });
});
