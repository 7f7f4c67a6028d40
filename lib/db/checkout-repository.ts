import type { Checkout, CheckoutFailure, CheckoutStatus, LineItem } from '../checkout/checkout.ts';
import { failureCode } from '../checkout/checkout.ts';
import type { CheckoutRepository } from '../checkout/ports.ts';
import { formatMinorUnits, parseDecimal } from '../money.ts';
import type { Database } from './database.ts';

interface CheckoutRow {
  [column: string]: unknown;
  id: string;
  status: CheckoutStatus;
  customer_email: string;
  currency: string;
  total_amount: string;
  items: string;
  shipping_address: string;
  card_brand: string;
  card_last4: string;
  payment_id: string | null;
  order_id: string | null;
  failed_step: CheckoutFailure['step'] | null;
  error: string | null;
  reason: string | null;
  message: string | null;
  undo_failures: string | null;
  created_at: string;
  updated_at: string;
}

/** Columns read back, cast to text so every driver returns the same shapes. */
const SELECT_COLUMNS = `id::text, status, customer_email, currency, total_amount::text,
  items::text, shipping_address::text, card_brand, card_last4, payment_id, order_id,
  failed_step, error, reason, message, undo_failures::text,
  to_json(created_at)#>>'{}' as created_at, to_json(updated_at)#>>'{}' as updated_at`;

/** The `CheckoutRepository` port over the driver-neutral `Database`. */
export function createCheckoutRepository(db: Database): CheckoutRepository {
  return {
    async insert(checkout, lockedUntil) {
      await db.query(
        `insert into checkouts (id, status, customer_email, currency, total_amount, items,
           shipping_address, card_brand, card_last4, locked_until, created_at, updated_at)
         values (:id::uuid, :status, :email, :currency, :total::numeric, :items::jsonb,
           :address::jsonb, :brand, :last4, :lockedUntil::timestamptz, :now::timestamptz,
           :now::timestamptz)`,
        {
          id: checkout.id,
          status: checkout.status,
          email: checkout.customerEmail,
          currency: checkout.currency,
          total: formatMinorUnits(checkout.totalCents),
          items: JSON.stringify(checkout.items.map(toStoredItem)),
          address: JSON.stringify(checkout.shippingAddress),
          brand: checkout.card.brand,
          last4: checkout.card.last4,
          lockedUntil: lockedUntil.toISOString(),
          now: checkout.createdAt,
        },
      );
    },

    async update(id, changes) {
      const { failure } = changes;
      // coalesce keeps a column as it is when this step does not change it.
      await db.query(
        `update checkouts set
           status = :status,
           payment_id = coalesce(:paymentId, payment_id),
           order_id = coalesce(:orderId, order_id),
           failed_step = coalesce(:failedStep, failed_step),
           error = coalesce(:error, error),
           reason = coalesce(:reason, reason),
           message = coalesce(:message, message),
           undo_failures = coalesce(:undoFailures::jsonb, undo_failures),
           response_status = coalesce(:responseStatus::integer, response_status),
           response_body = coalesce(:responseBody, response_body),
           locked_until = case when :final::boolean then null else locked_until end,
           updated_at = now()
         where id = :id::uuid`,
        {
          id,
          status: changes.status,
          paymentId: changes.paymentId ?? null,
          orderId: changes.orderId ?? null,
          failedStep: failure?.step ?? null,
          error: failure ? failureCode(failure) : null,
          reason: failure?.reason ?? null,
          message: failure?.message ?? null,
          undoFailures: changes.undoFailures ? JSON.stringify(changes.undoFailures) : null,
          responseStatus: changes.response?.statusCode ?? null,
          responseBody: changes.response?.body ?? null,
          final: changes.response !== undefined,
        },
      );
    },

    async findById(id) {
      const rows = await db.query<CheckoutRow>(
        `select ${SELECT_COLUMNS} from checkouts where id = :id::uuid`,
        { id },
      );
      return rows[0] && toCheckout(rows[0]);
    },
  };
}

interface StoredItem {
  product_id: string;
  quantity: number;
  price: string;
}

function toStoredItem(item: LineItem): StoredItem {
  return {
    product_id: item.productId,
    quantity: item.quantity,
    price: formatMinorUnits(item.priceCents),
  };
}

function toCheckout(row: CheckoutRow): Checkout {
  const items = JSON.parse(row.items) as StoredItem[];
  return {
    id: row.id,
    status: row.status,
    customerEmail: row.customer_email,
    currency: row.currency,
    totalCents: parseDecimal(row.total_amount),
    items: items.map((i) => ({
      productId: i.product_id,
      quantity: i.quantity,
      priceCents: parseDecimal(i.price),
    })),
    shippingAddress: JSON.parse(row.shipping_address),
    card: { brand: row.card_brand, last4: row.card_last4 },
    paymentId: row.payment_id,
    orderId: row.order_id,
    failure:
      row.failed_step && row.error
        ? {
            step: row.failed_step,
            kind: row.error.endsWith('_unavailable') ? 'unavailable' : 'refused',
            reason: row.reason ?? 'unknown',
            message: row.message ?? '',
          }
        : null,
    undoFailures: row.undo_failures ? (JSON.parse(row.undo_failures) as string[]) : [],
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
