/**
 * The throughput yardstick: the simplest checkout that does the same I/O as ours. A Middy
 * handler with a JSON body parser, a `pg` pool, ONE insert into its own table, then the three
 * downstream calls (payment, inventory, order, one after the other, bodies shaped as our clients
 * send them) over the service's own `node:http` exchange and keep-alive agent. No saga, no
 * recovery points, no validation beyond the JSON parse, no logging, no metrics: what is left
 * when a checkout is only its I/O. `npm run bench` serves it through the same local gateway as our server
 * (reference-server.ts) and loads both the same way; the ratio between them is what our
 * orchestration costs.
 *
 *   DATABASE_URL, PAYMENT_SERVICE_URL, INVENTORY_SERVICE_URL, ORDER_SERVICE_URL
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import middy from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import pg from 'pg';
import { exchange } from '#lib/clients/http-exchange.ts';

export const REFERENCE_TABLE = 'bench_reference_checkout';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

// The same pool size and keep-alive as the service's own pool (lib/db/drivers/postgres.ts).
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 10, keepAlive: true });
pool.on('error', () => {});
const services = {
  payment: new URL(env('PAYMENT_SERVICE_URL')),
  inventory: new URL(env('INVENTORY_SERVICE_URL')),
  order: new URL(env('ORDER_SERVICE_URL')),
};

/** Creates the table once, before the first insert (and `npm run bench` calls it at start). */
let ready: Promise<unknown> | undefined;
export const prepare = () => {
  ready ??= pool.query(
    `create table if not exists ${REFERENCE_TABLE} (
       id uuid primary key,
       email text not null,
       total numeric(12, 2) not null,
       request jsonb not null,
       created_at timestamptz not null default now()
     )`,
  );
  return ready;
};

/**
 * Never aborts: the reference has no timeouts or retries. Shared by every call in flight, each
 * of which listens to it until it ends, so Node's leak warning at 11 listeners does not apply.
 */
const NO_ABORT = new AbortController().signal;
setMaxListeners(0, NO_ABORT);

/**
 * POSTs JSON with the service's own HTTP exchange (lib/clients/http-exchange.ts, the same
 * `node:http` transport and keep-alive agent), without its client's retries, timeouts and
 * checks; resolves with the parsed answer, rejects on a non-2xx status.
 */
async function post(base: URL, path: string, body: unknown, idempotencyKey: string) {
  const { status, text } = await exchange(new URL(path, base).href, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'idempotency-key': idempotencyKey,
    },
    body: JSON.stringify(body),
    signal: NO_ABORT,
  });
  if (status < 200 || status >= 300) throw new Error(`${path} answered ${status}`);
  return JSON.parse(text) as unknown;
}

interface SeedLikeBody {
  payment_method: Record<string, string>;
  customer_email: string;
  shipping_address: Record<string, string>;
  items: { product_id: string; quantity: number; price: number }[];
}

async function checkout(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const body = event.body as unknown as SeedLikeBody;
  const id = randomUUID();
  const total = Number(
    body.items.reduce((sum, item) => sum + item.price * item.quantity, 0).toFixed(2),
  );
  await prepare();
  await pool.query(
    `insert into ${REFERENCE_TABLE} (id, email, total, request) values ($1, $2, $3, $4)`,
    // Never the card: like the service, it keeps the order and sends the card to payment only.
    [id, body.customer_email, total, { ...body, payment_method: undefined }],
  );
  const payment = (await post(
    services.payment,
    '/payments/process',
    {
      amount: total,
      currency: 'BRL',
      payment_method: body.payment_method,
      customer_email: body.customer_email,
      checkout_id: id,
    },
    `${id}:charge`,
  )) as { transactionId?: string };
  await post(
    services.inventory,
    '/inventory/deduct',
    {
      checkout_id: id,
      items: body.items.map(({ product_id, quantity }) => ({ product_id, quantity })),
    },
    `${id}:deduct`,
  );
  const order = (await post(
    services.order,
    '/orders',
    {
      checkout_id: id,
      customer_email: body.customer_email,
      shipping_address: body.shipping_address,
      items: body.items,
      total_amount: total,
      currency: 'BRL',
      payment_id: payment.transactionId,
    },
    `${id}:order`,
  )) as { orderId?: string };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ checkout_id: id, status: 'completed', order_id: order.orderId }),
  };
}

export const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
  .use(httpJsonBodyParser())
  .handler(checkout);

/** Ends the pool (the reference server's shutdown; its process exit closes the sockets). */
export async function closeReference(): Promise<void> {
  await pool.end();
}
