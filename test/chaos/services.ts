import { createHash, randomUUID } from 'node:crypto';
import { ASYNC_PAYMENT_DEFAULTS } from '#lib/checkout/checkout.ts';
import { boletoExpiresAt } from '#lib/checkout/payment-deadlines.ts';
import { type Endpoint, SERVICE_OF } from './fault-schedule.ts';
import {
  type AsyncCharge,
  type Authorization,
  fromMinor,
  type ItemQuantity,
  type Ledger,
  toMinor,
} from './ledger.ts';
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
  /** The transaction a refund, capture or void is for (from its path). */
  transactionId?: string;
}

/** How long an authorization holds, as its answer says (`expiresAt`); the simulator never lapses one on its own. */
const AUTHORIZATION_DAYS = 7;

/** The endpoint a request is for, by service, method and path (design §3). */
export function routeOf(service: string, method: string, path: string): Route | undefined {
  if (service === 'payment') {
    if (method === 'POST' && path === '/payments/process') return { method, endpoint: 'charge' };
    if (method === 'POST' && path === '/payments/authorize') {
      return { method, endpoint: 'authorize' };
    }
    if (method === 'POST' && path === '/payments/pix') return { method, endpoint: 'pix' };
    if (method === 'POST' && path === '/payments/boleto') return { method, endpoint: 'boleto' };
    const onTransaction = /^\/payments\/([^/]+)\/(refund|capture|void|cancel)$/.exec(path);
    if (method === 'POST' && onTransaction?.[1] && onTransaction[2]) {
      return {
        method,
        endpoint: onTransaction[2] as 'refund' | 'capture' | 'void' | 'cancel',
        transactionId: decodeURIComponent(onTransaction[1]),
      };
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
 * carried them (a void carries no amount), and a refund, capture or void answer the transaction
 * id of its path; an inventory or order answer the checkout id. A client checks these against its own request: an answer that does not
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

/** A webhook event the payment service sends when a Pix or boleto changes (design §4a). */
export type PaymentEventType =
  | 'payment.paid'
  | 'payment.expired'
  | 'payment.cancelled'
  | 'payment.refunded';

/** Called when a Pix or boleto changes state: the service's webhook is queued. */
export type EmitEvent = (type: PaymentEventType, charge: AsyncCharge) => void;

/**
 * The payment service's own expiry: every Pix or boleto still pending at its `serviceExpiresAt`
 * is `expired` (and its `payment.expired` event queued). Applied before each request the
 * service answers and each payment, so its state is as of `now`.
 */
export function expireDue(ledger: Ledger, now: number, emit?: EmitEvent) {
  for (const charge of ledger.asyncCharges) {
    if (charge.status === 'pending' && charge.serviceExpiresAt <= now) {
      charge.status = 'expired';
      emit?.('payment.expired', charge);
    }
  }
}

/** A Pix's QR code (copy and paste, EMV): made up, of its own per transaction. */
const pixCode = (transactionId: string) =>
  `00020126580014br.gov.bcb.pix0136${createHash('sha256').update(transactionId).digest('hex').slice(0, 36)}5204000053039865802BR6009SAO PAULO6304`;
/** A boleto's 44-digit barcode, from its transaction. */
const barcodeOf = (transactionId: string) =>
  BigInt(`0x${createHash('sha256').update(transactionId).digest('hex').slice(0, 36)}`)
    .toString()
    .padStart(44, '0')
    .slice(0, 44);

/** Issues a Pix or a boleto: pending, expiring at its own expiry (the app's, with no lag). */
function issueAsync(ledger: Ledger, route: Route, body: JsonObject): Answer {
  const checkoutId = String(body.checkout_id);
  const transactionId = `txn_${randomUUID()}`;
  const method = route.endpoint === 'pix' ? 'pix' : 'boleto';
  const appExpiresAt =
    method === 'pix'
      ? Date.parse(String(body.expires_at))
      : Date.parse(boletoExpiresAt(String(body.due_date), ASYNC_PAYMENT_DEFAULTS.boletoGraceDays));
  const amount = toMinor(body.amount, 'BRL') ?? 0;
  const code = method === 'pix' ? pixCode(transactionId) : barcodeOf(transactionId);
  ledger.asyncCharges.push({
    transactionId,
    checkoutId,
    method,
    customerEmail: String(body.customer_email),
    amount,
    currency: 'BRL',
    status: 'pending',
    paidAmount: 0,
    refunded: 0,
    appExpiresAt,
    serviceExpiresAt: appExpiresAt,
    code,
  });
  if (method === 'pix') {
    return json(200, {
      status: 'pending',
      transactionId,
      qr_code: code,
      expires_at: body.expires_at,
    });
  }
  return json(200, {
    status: 'pending',
    transactionId,
    barcode: code,
    digitable_line: `${code.slice(0, 5)}.${code.slice(5, 10)} ${code.slice(10, 15)}.${code.slice(15, 21)} ${code.slice(21, 26)}.${code.slice(26, 32)} ${code.slice(32, 33)} ${code.slice(33)}`,
    url: `https://boleto.example.com/${transactionId}`,
    due_date: body.due_date,
  });
}

/**
 * A cancel of an unpaid Pix or boleto: a pending one is cancelled (its `payment.cancelled`
 * queued), one already cancelled or expired by the service says so again (nothing left to
 * collect); a paid or refunded one is refused (422 `charge_paid`: it needs a refund).
 */
function cancelAsync(
  ledger: Ledger,
  route: Route,
  body: JsonObject,
  now: number,
  emit?: EmitEvent,
): Answer {
  const charge = ledger.asyncCharges.find((c) => c.transactionId === route.transactionId);
  if (!charge) {
    if (ledger.authorizations.some((a) => a.transactionId === route.transactionId)) {
      return json(422, { status: 'failed', error: 'not_a_pix_or_boleto' });
    }
    return json(404, { status: 'failed', error: 'transaction_not_found' });
  }
  if (charge.checkoutId !== body.checkout_id) {
    return json(400, { status: 'failed', error: 'cancel_does_not_match_charge' });
  }
  if (charge.status === 'paid' || charge.status === 'refunded') {
    return json(422, {
      status: 'failed',
      error: 'charge_paid',
      message: 'A paid charge cannot be cancelled: refund it',
    });
  }
  ledger.cancels.push({
    transactionId: charge.transactionId,
    checkoutId: charge.checkoutId,
    at: now,
    appExpiresAt: charge.appExpiresAt,
    before: charge.status,
  });
  if (charge.status === 'pending') {
    charge.status = 'cancelled';
    emit?.('payment.cancelled', charge);
  }
  return json(200, { status: 'cancelled', transactionId: charge.transactionId });
}

/** A refund of a paid Pix or boleto: of what was paid, in BRL, for its checkout. */
function refundAsync(ledger: Ledger, charge: AsyncCharge, body: JsonObject, emit?: EmitEvent) {
  if (charge.checkoutId !== body.checkout_id || body.currency !== charge.currency) {
    return json(400, { status: 'failed', error: 'refund_does_not_match_charge' });
  }
  const amount = toMinor(body.amount, 'BRL') ?? 0;
  if (charge.status !== 'paid' || amount > charge.paidAmount - charge.refunded) {
    return json(422, { status: 'failed', error: 'refund_exceeds_charge' });
  }
  const refundId = `rf_${randomUUID()}`;
  charge.refunded += amount;
  if (charge.refunded === charge.paidAmount) {
    charge.status = 'refunded';
    emit?.('payment.refunded', charge);
  }
  ledger.refunds.push({
    refundId,
    transactionId: charge.transactionId,
    checkoutId: charge.checkoutId,
    amount,
  });
  return json(200, { status: 'refunded', refundId, transactionId: charge.transactionId });
}

/**
 * The service acts on a valid request: the ledgers change, and its answer comes back. `emit`
 * hears of each Pix or boleto that changes (the service's webhooks).
 */
export function act(
  ledger: Ledger,
  route: Route,
  body: JsonObject,
  emit?: EmitEvent,
  now = Date.now(),
): Answer {
  const checkoutId = String(body.checkout_id);
  const currency = String(body.currency ?? '');
  switch (route.endpoint) {
    case 'pix':
    case 'boleto':
      return issueAsync(ledger, route, body);
    case 'cancel':
      return cancelAsync(ledger, route, body, now, emit);
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
    case 'authorize': {
      const transactionId = `txn_${randomUUID()}`;
      const method = paymentMethodOf(body);
      ledger.authorizations.push({
        transactionId,
        checkoutId,
        customerEmail: String(body.customer_email),
        amount: toMinor(body.amount, currency) ?? 0,
        currency,
        status: 'authorized',
        captured: 0,
        refunded: 0,
        method: String(method.type),
        installments: installmentsOf(body) ?? 1,
      });
      const expiresAt = new Date(Date.now() + AUTHORIZATION_DAYS * 86_400_000).toISOString();
      return json(200, {
        status: 'authorized',
        transactionId,
        amount: body.amount,
        currency,
        expiresAt,
        card: cardOf(method),
      });
    }
    case 'capture':
      return capture(ledger, route, body);
    case 'void':
      return voidAuthorization(ledger, route, body);
    case 'refund': {
      const paid = ledger.asyncCharges.find((c) => c.transactionId === route.transactionId);
      if (paid) return refundAsync(ledger, paid, body, emit);
      const charge = ledger.charges.find((c) => c.transactionId === route.transactionId);
      const auth = ledger.authorizations.find((a) => a.transactionId === route.transactionId);
      if (!charge && auth) return refundCapture(ledger, auth, body);
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
        ...(typeof body.payment_status === 'string' ? { paymentStatus: body.payment_status } : {}),
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
    case 'authorize': {
      const transactionId = `txn_${randomUUID()}`;
      const currency = String(body.currency);
      ledger.authorizations.push({
        transactionId,
        checkoutId: String(body.checkout_id),
        customerEmail: String(body.customer_email),
        amount: toMinor(body.amount, currency) ?? 0,
        currency,
        status: 'failed',
        captured: 0,
        refunded: 0,
        method: String(paymentMethodOf(body).type),
        installments: installmentsOf(body) ?? 1,
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

/**
 * What an `authorization_expired` fault does to a capture: the authorization lapsed before it,
 * so this capture and every later one is refused (422 `authorization_expired`), nothing taken.
 * Undefined when the capture is not of an open authorization of its checkout: the service then
 * answers as it would anyway (and the fault is not counted).
 */
export function expire(ledger: Ledger, route: Route, body: JsonObject): Answer | undefined {
  const auth = ledger.authorizations.find((a) => a.transactionId === route.transactionId);
  if (auth?.status !== 'authorized' || auth.checkoutId !== body.checkout_id) {
    return undefined;
  }
  auth.expired = true;
  return expiredAnswer();
}

const expiredAnswer = () =>
  json(422, {
    status: 'failed',
    error: 'authorization_expired',
    message: 'The authorization expired before it was captured',
  });

/**
 * A capture: of an open authorization of the same checkout and currency, for at most the amount
 * authorized (a real provider takes less, never more). Refused: an authorization declined,
 * voided, lapsed or already captured (another key; the same key gets its stored answer).
 */
function capture(ledger: Ledger, route: Route, body: JsonObject): Answer {
  const auth = ledger.authorizations.find((a) => a.transactionId === route.transactionId);
  if (!auth) return notAnAuthorization(ledger, route);
  const currency = String(body.currency);
  if (auth.checkoutId !== body.checkout_id || auth.currency !== currency) {
    return json(400, { status: 'failed', error: 'capture_does_not_match_authorization' });
  }
  const refused = (error: string, message: string) =>
    json(422, { status: 'failed', error, message });
  switch (auth.status) {
    case 'failed':
      return refused(
        'authorization_declined',
        'The authorization was declined: nothing to capture',
      );
    case 'voided':
      return refused('authorization_voided', 'The authorization was voided: nothing to capture');
    case 'captured':
    case 'refunded':
      return refused('already_captured', 'The authorization was already captured');
    default:
      break;
  }
  if (auth.expired) return expiredAnswer();
  const amount = toMinor(body.amount, currency) ?? 0;
  if (amount > auth.amount) {
    return refused('capture_exceeds_authorization', 'The capture exceeds the amount authorized');
  }
  auth.status = 'captured';
  auth.captured = amount;
  const captureId = `cap_${randomUUID()}`;
  ledger.captures.push({
    captureId,
    transactionId: auth.transactionId,
    checkoutId: auth.checkoutId,
    amount,
    currency,
  });
  return json(200, { status: 'captured', transactionId: auth.transactionId, captureId });
}

/**
 * A void: releases an open authorization of the same checkout. A second void (another key) finds
 * it voided and says so again; a captured one needs a refund, a declined one holds nothing.
 */
function voidAuthorization(ledger: Ledger, route: Route, body: JsonObject): Answer {
  const auth = ledger.authorizations.find((a) => a.transactionId === route.transactionId);
  if (!auth) return notAnAuthorization(ledger, route);
  if (auth.checkoutId !== body.checkout_id) {
    return json(400, { status: 'failed', error: 'void_does_not_match_authorization' });
  }
  if (auth.status === 'captured' || auth.status === 'refunded') {
    return json(422, {
      status: 'failed',
      error: 'authorization_captured',
      message: 'A captured payment cannot be voided: refund it',
    });
  }
  if (auth.status === 'failed') {
    return json(422, {
      status: 'failed',
      error: 'authorization_declined',
      message: 'The authorization was declined: nothing to void',
    });
  }
  if (auth.status === 'authorized') {
    auth.status = 'voided';
    ledger.voids.push({
      voidId: `void_${randomUUID()}`,
      transactionId: auth.transactionId,
      checkoutId: auth.checkoutId,
      reason: String(body.reason),
    });
  }
  return json(200, { status: 'voided', transactionId: auth.transactionId });
}

/**
 * A refund of an authorization: only of what was captured (an authorization only authorized is
 * voided, not refunded), in its currency, for its checkout.
 */
function refundCapture(ledger: Ledger, auth: Authorization, body: JsonObject): Answer {
  const currency = String(body.currency);
  if (auth.checkoutId !== body.checkout_id || auth.currency !== currency) {
    return json(400, { status: 'failed', error: 'refund_does_not_match_charge' });
  }
  if (auth.status === 'authorized') {
    return json(422, {
      status: 'failed',
      error: 'refund_requires_capture',
      message: 'Nothing was captured: void the authorization instead',
    });
  }
  const amount = toMinor(body.amount, currency) ?? 0;
  if (auth.captured === 0 || amount > auth.captured - auth.refunded) {
    return json(422, { status: 'failed', error: 'refund_exceeds_charge' });
  }
  const refundId = `rf_${randomUUID()}`;
  auth.refunded += amount;
  if (auth.refunded === auth.captured) auth.status = 'refunded';
  ledger.refunds.push({
    refundId,
    transactionId: auth.transactionId,
    checkoutId: auth.checkoutId,
    amount,
  });
  return json(200, { status: 'refunded', refundId, transactionId: auth.transactionId });
}

/** A capture or void of a transaction that is no authorization: a one-shot charge, or none. */
function notAnAuthorization(ledger: Ledger, route: Route): Answer {
  if (ledger.charges.some((c) => c.transactionId === route.transactionId)) {
    return json(422, {
      status: 'failed',
      error: 'not_an_authorization',
      message: 'A one-shot charge is neither captured nor voided',
    });
  }
  return json(404, { status: 'failed', error: 'transaction_not_found' });
}

/** An outcome lookup (design §3), answered from the ledgers. */
export function lookup(ledger: Ledger, endpoint: Endpoint, checkoutId: string): Answer {
  if (endpoint === 'find_payments') {
    const entry = (p: {
      transactionId: string;
      checkoutId: string;
      status: string;
      amount: number;
      currency: string;
    }) => ({
      transactionId: p.transactionId,
      checkout_id: p.checkoutId,
      status: p.status,
      amount: fromMinor(p.amount, p.currency),
      currency: p.currency,
    });
    // A Pix or boleto: its amount is what was paid once paid (another amount, rarely), and
    // `paid_at` says when.
    const asyncEntry = (c: AsyncCharge) => ({
      ...entry({
        ...c,
        amount: c.status === 'paid' || c.status === 'refunded' ? c.paidAmount : c.amount,
      }),
      ...(c.paidAt === undefined ? {} : { paid_at: c.paidAt }),
    });
    return json(200, {
      payments: [
        ...ledger.charges.filter((c) => c.checkoutId === checkoutId).map(entry),
        ...ledger.authorizations.filter((a) => a.checkoutId === checkoutId).map(entry),
        ...ledger.asyncCharges.filter((c) => c.checkoutId === checkoutId).map(asyncEntry),
      ],
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

function paymentMethodOf(body: JsonObject): JsonObject {
  const method = body.payment_method;
  return method && typeof method === 'object' ? (method as JsonObject) : {};
}

/** The installments asked for: a whole number, or an object with a whole `count`. */
export function installmentsOf(body: JsonObject): number | undefined {
  const value = body.installments;
  const count =
    value && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject).count
      : value;
  return Number.isInteger(count) ? (count as number) : undefined;
}

/**
 * The card an authorization was for, as a provider tells it: the brand from the number's first
 * digit and its last four, or for a token the card it stands for (made up from the token,
 * the same for the same token).
 */
function cardOf(method: JsonObject): { brand: string; last4: string } {
  if (method.type === 'card_token') {
    const digest = createHash('sha256').update(String(method.token)).digest();
    return { brand: 'visa', last4: String(digest.readUInt16BE(0) % 10_000).padStart(4, '0') };
  }
  const number = String(method.card_number ?? '');
  const brands: Record<string, string> = { '3': 'amex', '4': 'visa', '5': 'mastercard' };
  return { brand: brands[number[0] ?? ''] ?? 'unknown', last4: number.slice(-4) };
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
