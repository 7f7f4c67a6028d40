import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { migrate } from '#lib/db/migrate.ts';
import { databaseBeforeMoneyScale, insertOldRow } from '../support/legacy-rows.ts';

describe('claiming abandoned checkouts an older release wrote', () => {
  it('sets a row it cannot read to requires_attention and still claims the others', async () => {
    const db = await databaseBeforeMoneyScale();
    try {
      // The release before exact currencies accepted 2 decimals in any currency: 99.90 yen
      // cannot be held in yen's minor units.
      const rows = [
        { id: randomUUID(), currency: 'JPY', total: '99.90' },
        { id: randomUUID(), currency: 'BRL', total: '99.90' },
      ];
      for (const row of rows) {
        const items = [{ quantity: 1, price: row.total }];
        await insertOldRow(db, { ...row, status: 'payment_processed', items });
      }
      await migrate(db);
      const repository = createCheckoutRepository(db);

      const { claimed, unreadable } = await repository.claimAbandoned(10, 60_000, 0);

      expect(unreadable).toEqual([rows[0]?.id]);
      expect(claimed.map((c) => c.id)).toEqual([rows[1]?.id]);
      const [jpy] = await db.query(
        `select status, reason, undo_failures::text, locked_until from checkouts where id = :id::uuid`,
        { id: rows[0]?.id ?? '' },
      );
      expect(jpy).toEqual({
        status: 'requires_attention',
        reason: 'unreadable_row',
        undo_failures: '["read_checkout"]',
        locked_until: null,
      });
      expect((await repository.claimAbandoned(10, 60_000, 0)).claimed).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
