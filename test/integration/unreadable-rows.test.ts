import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCheckoutRepository } from '#lib/db/checkout-repository.ts';
import { migrate } from '#lib/db/migrate.ts';
import { databaseBeforeMoneyScale, insertOldRow } from '../support/legacy-rows.ts';

const RECOVERY = 'recovery:run-1';

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

      const { claimed, unreadable } = await repository.claimAbandoned(10, 60_000, 0, RECOVERY);

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
      // Rows from before the history start with none; the claim and the giving up are its first.
      expect(
        (await repository.history(rows[0]?.id ?? '')).map(({ at: _, ...move }) => move),
      ).toEqual([
        {
          from: 'payment_processed',
          to: 'payment_processed',
          cause: 'claimed by recovery',
          by: RECOVERY,
        },
        {
          from: 'payment_processed',
          to: 'requires_attention',
          cause: 'its row cannot be read',
          by: RECOVERY,
        },
      ]);
      expect((await repository.claimAbandoned(10, 60_000, 0, RECOVERY)).claimed).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
