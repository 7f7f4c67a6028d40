import { randomUUID } from 'node:crypto';
import { type Endpoint, SERVICE_OF } from './fault-schedule.ts';
import { fromMinor, type ItemQuantity, type Ledger, toMinor } from './ledger.ts';
import type { JsonObject } from './request-checks.ts';

/**
 * What each simulated endpoint does to the ledgers once a request is accepted (well-formed,
 * its Idempotency-Key new): the business of the payment, inventory and order services,
 * without the HTTP, idempotency and fault layer of `simulator.ts`.
 */

export interface Answer {
  status: number;
  body: string;
}

export const json = (status: number, body: unknown): Answer => ({
  status,
  body: JSON.stringify(body),
});

export interface Route {
  method: 'GET' | 'POST';
  endpoint: Endpoint;
  /** The transaction a refund is for (from its path). */
  transactionId?: string;
}

/** The endpoint a request is for, by service, method and path (design §3). */
export function routeOf(service: string, method: string, path: string): Route | undefined {
  if (service === 'payment') {
    if (method === 'POST' && path === '/payments/process') return { method, endpoint: 'charge' };
    const refund = /^\/payments\/([^/]+)\/refund$/.exec(path);
    if (method === 'POST' && refund?.[1]) {
      return { method, endpoint: 'refund', transactionId: decodeURIComponent(refund[1]) };
    }
    if (method === 'GET' && path === '/payments') return { method, endpoint: 'find_payments' };
  }
  if (service === 'inventory') {
    if (method === 'POST' && path === '/inventory/deduct') return { method, endpoint: 'deduct' };
    if (method === 'POST' && path === '/inventory/release') return { method, endpoint: 'release' };
    if (method === 'GET' && path === '/inventory/deductions') {
      return { method, endpoint: 'find_deductions' };
    }
    // The catalog, at its default address (design §3): a read, sent as a POST.
    if (method === 'POST' && path === '/catalog/quote') return { method, endpoint: 'quote' };
  }
  if (service === 'order') {
    if (method === 'POST' && path === '/orders') return { method, endpoint: 'order' };
    if (method === 'GET' && path === '/orders') return { method, endpoint: 'find_orders' };
  }
  return undefined;
}

/**
 * What an answer to `body` echoes of it (design §3), success or refusal alike: a payment answer
 * the checkout id, the amount (the JSON number as sent) and the currency, where the request
 * carried them, and a refund answer the transaction id of its path; an inventory or order answer
 * the checkout id. A client checks these against its own request: an answer that does not
 * belong to it (a duplicate on a kept-alive connection) is then an unknown outcome.
 */
export function echoOf(route: Route, body: JsonObject): JsonObject {
  const echo: JsonObject = {};
  if (body.checkout_id !== undefined) echo.checkout_id = body.checkout_id;
  if (SERVICE_OF[route.endpoint] === 'payment') {
    if (body.amount !== undefined) echo.amount = body.amount;
    if (body.currency !== undefined) echo.currency = body.currency;
    if (route.transactionId !== undefined) echo.transactionId = route.transactionId;
  }
  return echo;
}

/** The answer with the echo of its request added to its JSON object body. */
export function withEcho(answer: Answer, echo: JsonObject): Answer {
  let value: unknown;
  try {
    value = JSON.parse(answer.body);
  } catch {
    return answer;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return answer;
  return { status: answer.status, body: JSON.stringify({ ...value, ...echo }) };
}

/** The service acts on a valid request: the ledgers change, and its answer comes back. */
export function act(ledger: Ledger, route: Route, body: JsonObject): Answer {
  const checkoutId = String(body.checkout_id);
  const currency = String(body.currency ?? '');
  switch (route.endpoint) {
    case 'charge': {
      const transactionId = `txn_${randomUUID()}`;
      ledger.charges.push({
        transactionId,
        checkoutId,
        customerEmail: String(body.customer_email),
        amount: toMinor(body.amount, currency) ?? 0,
        currency,
        status: 'success',
        refunded: 0,
      });
      return json(200, { status: 'success', transactionId, amount: body.amount, currency });
    }
    case 'refund': {
      const charge = ledger.charges.find((c) => c.transactionId === route.transactionId);
      if (!charge) return json(404, { status: 'failed', error: 'transaction_not_found' });
      if (charge.checkoutId !== checkoutId || charge.currency !== currency) {
        return json(400, { status: 'failed', error: 'refund_does_not_match_charge' });
      }
      const amount = toMinor(body.amount, currency) ?? 0;
      if (charge.status === 'failed' || amount > charge.amount - charge.refunded) {
        return json(422, { status: 'failed', error: 'refund_exceeds_charge' });
      }
      const refundId = `rf_${randomUUID()}`;
      charge.refunded += amount;
      if (charge.refunded === charge.amount) charge.status = 'refunded';
      ledger.refunds.push({ refundId, transactionId: charge.transactionId, checkoutId, amount });
      return json(200, { status: 'refunded', refundId, transactionId: charge.transactionId });
    }
    case 'deduct':
      ledger.deductions.push({ checkoutId, items: itemsOf(body), released: false });
      return json(200, { success: true, checkout_id: checkoutId });
    case 'release': {
      const items = itemsOf(body);
      const deduction = ledger.deductions.find(
        (d) => d.checkoutId === checkoutId && !d.released && sameItems(d.items, items),
      );
      if (!deduction) return json(409, { success: false, error: 'nothing_to_release' });
      deduction.released = true;
      return json(200, { success: true, checkout_id: checkoutId });
    }
    case 'order': {
      const orderId = `ord_${randomUUID()}`;
      ledger.orders.push({
        orderId,
        checkoutId,
        customerEmail: String(body.customer_email),
        totalAmount: toMinor(body.total_amount, currency) ?? 0,
        currency,
        paymentId: String(body.payment_id),
        items: itemsOf(body).map((item, i) => ({
          ...item,
          priceMinor: toMinor((body.items as JsonObject[])[i]?.price, currency) ?? 0,
        })),
        status: 'created',
      });
      return json(201, { orderId, status: 'created' });
    }
    default:
      return json(404, { error: 'not_found' });
  }
}

/** A refusal the fault schedule asked for: a declined charge is on the ledger, as `failed`. */
export function refuse(
  ledger: Ledger,
  endpoint: Endpoint,
  body: JsonObject,
  reason: string,
): Answer {
  const message = `refused by the simulated ${endpoint} service`;
  switch (endpoint) {
    case 'charge': {
      const transactionId = `txn_${randomUUID()}`;
      const currency = String(body.currency);
      ledger.charges.push({
        transactionId,
        checkoutId: String(body.checkout_id),
        customerEmail: String(body.customer_email),
        amount: toMinor(body.amount, currency) ?? 0,
        currency,
        status: 'failed',
        refunded: 0,
      });
      return json(422, { status: 'failed', error: reason, message, transactionId });
    }
    case 'deduct':
    case 'release':
      return json(409, {
        success: false,
        error: reason,
        product_id: itemsOf(body)[0]?.productId,
        message,
      });
    default:
      return json(422, { status: 'failed', error: reason, message });
  }
}

/** An outcome lookup (design §3), answered from the ledgers. */
export function lookup(ledger: Ledger, endpoint: Endpoint, checkoutId: string): Answer {
  if (endpoint === 'find_payments') {
    return json(200, {
      payments: ledger.charges
        .filter((c) => c.checkoutId === checkoutId)
        .map((c) => ({
          transactionId: c.transactionId,
          checkout_id: c.checkoutId,
          status: c.status,
          amount: fromMinor(c.amount, c.currency),
          currency: c.currency,
        })),
    });
  }
  if (endpoint === 'find_deductions') {
    return json(200, {
      deductions: ledger.deductions
        .filter((d) => d.checkoutId === checkoutId)
        .map((d) => ({
          checkout_id: d.checkoutId,
          status: d.released ? 'released' : 'deducted',
          items: d.items.map((i) => ({ product_id: i.productId, quantity: i.quantity })),
        })),
    });
  }
  return json(200, {
    orders: ledger.orders
      .filter((o) => o.checkoutId === checkoutId)
      .map((o) => ({ orderId: o.orderId, checkout_id: o.checkoutId, status: o.status })),
  });
}

function itemsOf(body: JsonObject): ItemQuantity[] {
  const items = Array.isArray(body.items) ? (body.items as JsonObject[]) : [];
  return items.map((i) => ({ productId: String(i.product_id), quantity: Number(i.quantity) }));
}

function sameItems(a: ItemQuantity[], b: ItemQuantity[]): boolean {
  const key = (items: ItemQuantity[]) =>
    items
      .map((i) => `${i.productId}:${i.quantity}`)
      .sort()
      .join(',');
  return key(a) === key(b);
}
