import type { Database } from '#lib/db/database.ts';
import { createPgliteDatabase } from '#lib/db/drivers/pglite.ts';
import { migrate } from '#lib/db/migrate.ts';
import { migrations } from '#lib/db/migrations/index.ts';
import { seedRequest } from './local-api.ts';

/** An embedded database as the release before exact currencies left it (migrations 0001–0002). */
export async function databaseBeforeMoneyScale(): Promise<Database> {
  const db = await createPgliteDatabase('memory://');
  await migrate(db, migrations.slice(0, 2));
  return db;
}

/**
 * A row as that release wrote it: every amount with 2 decimals whatever the currency, any
 * well-formed code accepted. An unfinished one holds a lease that expired an hour ago.
 */
export async function insertOldRow(
  db: Database,
  row: {
    id: string;
    status: 'completed' | 'payment_processed';
    currency: string;
    total: string;
    items: { quantity: number; price: string }[];
  },
): Promise<void> {
  const unfinished = row.status !== 'completed';
  await db.query(
    `insert into checkouts (id, status, customer_email, currency, total_amount, items,
       shipping_address, card_brand, card_last4, payment_id, locked_until)
     values (:id::uuid, :status, 'old@example.com', :currency, :total::numeric,
       :items::jsonb, :address::jsonb, 'visa', '1111', :paymentId,
       case when :unfinished::boolean then now() - interval '1 hour' end)`,
    {
      id: row.id,
      status: row.status,
      currency: row.currency,
      total: row.total,
      items: JSON.stringify(
        row.items.map((item, i) => ({ product_id: `prod_00${i + 1}`, ...item })),
      ),
      address: JSON.stringify(seedRequest().shipping_address),
      paymentId: unfinished ? 'txn_old' : null,
      unfinished,
    },
  );
}
