import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCheckoutRepository } from '../../lib/db/checkout-repository.ts';
import { createPgliteDatabase } from '../../lib/db/drivers/pglite.ts';
import { migrate } from '../../lib/db/migrate.ts';
import { migrations } from '../../lib/db/migrations/index.ts';
import { seedRequest } from '../support/local-api.ts';

describe('claiming abandoned checkouts an older release wrote', () => {
  it('sets a row it cannot read to requires_attention and still claims the others', async () => {
    const db = await createPgliteDatabase('memory://');
    try {
      await migrate(db, migrations.slice(0, 2));
      // The release before exact currencies accepted 2 decimals in any currency: 99.90 yen
      // cannot be held in yen's minor units.
      const rows = [
        { id: randomUUID(), currency: 'JPY', total: '99.90', price: '99.90' },
        { id: randomUUID(), currency: 'BRL', total: '99.90', price: '99.90' },
      ];
      for (const row of rows) {
        await db.query(
          `insert into checkouts (id, status, customer_email, currency, total_amount, items,
             shipping_address, card_brand, card_last4, payment_id, locked_until)
           values (:id::uuid, 'payment_processed', 'old@example.com', :currency, :total::numeric,
             :items::jsonb, :address::jsonb, 'visa', '1111', 'txn_old', now() - interval '1 hour')`,
          {
            ...row,
            items: JSON.stringify([{ product_id: 'prod_001', quantity: 1, price: row.price }]),
            address: JSON.stringify(seedRequest().shipping_address),
          },
        );
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
