import { randomUUID } from 'node:crypto';

/**
 * What the simulated services hold: one-shot charges, authorizations with their captures and
 * voids, and refunds (payment), stock movements (inventory) and orders. The chaos oracle judges
 * every checkout against these ledgers, never against our own rows. Amounts are integer minor
 * units of the payment's currency.
 */

export interface ItemQuantity {
  productId: string;
  quantity: number;
}

export interface Charge {
  transactionId: string;
  checkoutId: string;
  customerEmail: string;
  amount: number;
  currency: string;
  /** `failed`: declined, no money moved. */
  status: 'success' | 'failed' | 'refunded';
  refunded: number;
}

/**
 * An authorization (`PAYMENT_CAPTURE=after_order`): an amount held on the card, taken only by a
 * capture, released by a void. `failed`: declined, nothing held. A captured authorization is
 * undone by a refund (`refunded` once refunded in full); an authorized one only by a void.
 */
export interface Authorization {
  transactionId: string;
  checkoutId: string;
  customerEmail: string;
  amount: number;
  currency: string;
  status: 'authorized' | 'captured' | 'voided' | 'refunded' | 'failed';
  /** What was captured (0 until then). */
  captured: number;
  /** What was refunded of the capture. */
  refunded: number;
  /** How the customer paid: `credit_card`, `debit_card` or `card_token`. */
  method: string;
  /** The installments the authorization was asked for. */
  installments: number;
  /**
   * It lapsed before any capture (an `authorization_expired` fault): every capture is refused.
   * Its lookup still says `authorized` (nothing was taken), until it is voided.
   */
  expired?: true;
}

/** A capture of an authorization (at most one per authorization). */
export interface Capture {
  captureId: string;
  transactionId: string;
  checkoutId: string;
  amount: number;
  currency: string;
}

/** A void of an authorization: the hold released, nothing taken. */
export interface Void {
  voidId: string;
  transactionId: string;
  checkoutId: string;
  reason: string;
  /** Made in the payment console, outside any checkout (an `external_undo`). */
  byOperator?: true;
}

export interface Refund {
  refundId: string;
  transactionId: string;
  checkoutId: string;
  amount: number;
  /** Made in the payment console, outside any checkout (an `external_undo`). */
  byOperator?: true;
}

/** One deduction and whether a release has given its stock back. */
export interface Deduction {
  checkoutId: string;
  items: ItemQuantity[];
  released: boolean;
}

export interface Order {
  orderId: string;
  checkoutId: string;
  customerEmail: string;
  totalAmount: number;
  currency: string;
  paymentId: string;
  /** The items as ordered, each at the unit price the order service was sent. */
  items: (ItemQuantity & { priceMinor: number })[];
  /** The `payment_status` it was sent (`authorized` under after_order; absent under immediate). */
  paymentStatus?: string;
  status: 'created';
}

/**
 * A Pix or boleto issued: pending until the customer pays (`paid`, with `paidAmount` and
 * `paidAt`), cancelled on request (`cancelled`: a cancel refuses a paid or refunded one), expired
 * by the service itself at `serviceExpiresAt` (`expired`), or refunded once paid. A bank's late
 * clearing may still turn an `expired` one `paid` (a boleto paid at the counter on its last day);
 * a `cancelled` one never is (the customer's bank refuses it).
 */
export interface AsyncCharge {
  transactionId: string;
  checkoutId: string;
  method: 'pix' | 'boleto';
  customerEmail: string;
  /** The amount asked, in minor units of BRL. */
  amount: number;
  currency: 'BRL';
  status: 'pending' | 'paid' | 'cancelled' | 'expired' | 'refunded';
  /** What the customer paid (minor units; `amount` unless they paid another amount). */
  paidAmount: number;
  refunded: number;
  /** When it was paid, as the service reports it (ISO 8601). */
  paidAt?: string;
  /**
   * The expiry the app computed for the checkout (epoch ms): sent with a Pix (`expires_at`), the
   * end of the boleto's grace for a boleto. Moved together with the row's `payment_expires_at`
   * when the harness makes time pass.
   */
  appExpiresAt: number;
  /** When the service expires it by itself, if still pending (epoch ms): `appExpiresAt` + a lag. */
  serviceExpiresAt: number;
  /** The code the customer pays with (a Pix's QR code, a boleto's barcode). */
  code: string;
}

/** A cancel the service carried out, and when: the oracle checks none came too early. */
export interface CancelRecord {
  transactionId: string;
  checkoutId: string;
  /** Epoch ms. */
  at: number;
  /** The charge's `appExpiresAt` then (epoch ms). */
  appExpiresAt: number;
  /** The charge's status when the cancel came (`pending`: it cancelled a payable charge). */
  before: AsyncCharge['status'];
}

export interface LedgerSnapshot {
  charges: Charge[];
  /** Pix and boletos (absent: none). */
  asyncCharges?: AsyncCharge[];
  /** The cancels of Pix and boletos (absent: none). */
  cancels?: CancelRecord[];
  authorizations: Authorization[];
  captures: Capture[];
  voids: Void[];
  refunds: Refund[];
  deductions: Deduction[];
  orders: Order[];
}

export class Ledger implements LedgerSnapshot {
  charges: Charge[] = [];
  asyncCharges: AsyncCharge[] = [];
  cancels: CancelRecord[] = [];
  authorizations: Authorization[] = [];
  captures: Capture[] = [];
  voids: Void[] = [];
  refunds: Refund[] = [];
  deductions: Deduction[] = [];
  orders: Order[] = [];

  clear() {
    this.charges = [];
    this.asyncCharges = [];
    this.cancels = [];
    this.authorizations = [];
    this.captures = [];
    this.voids = [];
    this.refunds = [];
    this.deductions = [];
    this.orders = [];
  }

  /**
   * What an operator does in the payment console to a stuck checkout (the runbook): every charge
   * of the checkout that still holds money, and every captured authorization, is refunded in
   * full. Returns how many were.
   */
  refundOutside(checkoutId: string): number {
    let refunded = 0;
    const refund = (transactionId: string, amount: number) =>
      this.refunds.push({
        refundId: `rf_console_${randomUUID()}`,
        transactionId,
        checkoutId,
        amount,
        byOperator: true,
      });
    for (const charge of this.charges) {
      if (charge.checkoutId !== checkoutId || charge.status !== 'success') continue;
      refund(charge.transactionId, charge.amount - charge.refunded);
      charge.refunded = charge.amount;
      charge.status = 'refunded';
      refunded++;
    }
    for (const auth of this.authorizations) {
      if (auth.checkoutId !== checkoutId || auth.status !== 'captured') continue;
      refund(auth.transactionId, auth.captured - auth.refunded);
      auth.refunded = auth.captured;
      auth.status = 'refunded';
      refunded++;
    }
    return refunded;
  }

  /**
   * The console's void: every authorization of the checkout still open (not captured) is
   * voided, its hold released. Returns how many were.
   */
  voidOutside(checkoutId: string): number {
    let voided = 0;
    for (const auth of this.authorizations) {
      if (auth.checkoutId !== checkoutId || auth.status !== 'authorized') continue;
      auth.status = 'voided';
      this.voids.push({
        voidId: `void_console_${randomUUID()}`,
        transactionId: auth.transactionId,
        checkoutId,
        reason: 'operator',
        byOperator: true,
      });
      voided++;
    }
    return voided;
  }

  /** The inventory console's twin: every deduction of the checkout still standing is released. */
  releaseOutside(checkoutId: string): number {
    const standing = this.deductions.filter((d) => d.checkoutId === checkoutId && !d.released);
    for (const deduction of standing) deduction.released = true;
    return standing.length;
  }

  snapshot(): LedgerSnapshot {
    return structuredClone({
      charges: this.charges,
      asyncCharges: this.asyncCharges,
      cancels: this.cancels,
      authorizations: this.authorizations,
      captures: this.captures,
      voids: this.voids,
      refunds: this.refunds,
      deductions: this.deductions,
      orders: this.orders,
    });
  }
}

/** Money and stock the ledgers hold for one checkout, net of undos. */
export interface NetPosition {
  /**
   * Payments that moved money, with what is left of each: charges (success or refunded) and
   * captured authorizations (the amount captured).
   */
  charges: { transactionId: string; amount: number; left: number; currency: string }[];
  /** Σ charged or captured − Σ refunded. */
  netCharge: number;
  /** Authorizations still open (held on the card, neither captured nor voided). */
  openAuthorizations: Authorization[];
  /** Product → deducted − released (only products with a non-zero balance). */
  netStock: Map<string, number>;
  orders: Order[];
}

export function netPosition(ledger: LedgerSnapshot, checkoutId: string): NetPosition {
  const authorizations = ledger.authorizations.filter((a) => a.checkoutId === checkoutId);
  const charges = [
    ...ledger.charges
      .filter((c) => c.checkoutId === checkoutId && c.status !== 'failed')
      .map((c) => ({
        transactionId: c.transactionId,
        amount: c.amount,
        left: c.amount - c.refunded,
        currency: c.currency,
      })),
    ...(ledger.asyncCharges ?? [])
      .filter(
        (a) => a.checkoutId === checkoutId && (a.status === 'paid' || a.status === 'refunded'),
      )
      .map((a) => ({
        transactionId: a.transactionId,
        amount: a.paidAmount,
        left: a.paidAmount - a.refunded,
        currency: a.currency,
      })),
    ...authorizations
      .filter((a) => a.captured > 0)
      .map((a) => ({
        transactionId: a.transactionId,
        amount: a.captured,
        left: a.captured - a.refunded,
        currency: a.currency,
      })),
  ];
  const netStock = new Map<string, number>();
  for (const deduction of ledger.deductions.filter((d) => d.checkoutId === checkoutId)) {
    if (deduction.released) continue;
    for (const { productId, quantity } of deduction.items) {
      netStock.set(productId, (netStock.get(productId) ?? 0) + quantity);
    }
  }
  for (const [product, quantity] of netStock) if (quantity === 0) netStock.delete(product);
  return {
    charges,
    netCharge: charges.reduce((sum, c) => sum + c.left, 0),
    openAuthorizations: authorizations.filter((a) => a.status === 'authorized'),
    netStock,
    orders: ledger.orders.filter((o) => o.checkoutId === checkoutId),
  };
}

/** The decimals of a currency's minor unit (ISO 4217 through `Intl`: BRL 2, JPY 0, KWD 3). */
export function currencyDigits(currency: string): number {
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

/**
 * A decimal (a JSON number or a string such as "349.70") as integer minor units, or undefined
 * when it has more significant decimals than the currency allows or is not a plain decimal.
 */
export function toMinor(value: unknown, currency: string): number | undefined {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : '';
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const digits = currencyDigits(currency);
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return undefined;
  const minor = Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : undefined;
}

/** Minor units as the JSON number a client sends (shortest decimal text, exact). */
export function fromMinor(minor: number, currency: string): number {
  const digits = currencyDigits(currency);
  if (digits === 0) return minor;
  const text = String(minor).padStart(digits + 1, '0');
  return Number(`${text.slice(0, -digits)}.${text.slice(-digits)}`);
}
