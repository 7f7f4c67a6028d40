import { randomUUID } from 'node:crypto';

/**
 * What the simulated services hold: charges and refunds (payment), stock movements (inventory)
 * and orders. The chaos oracle judges every checkout against these ledgers, never against our
 * own rows. Amounts are integer minor units of the charge's currency.
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
  status: 'created';
}

export interface LedgerSnapshot {
  charges: Charge[];
  refunds: Refund[];
  deductions: Deduction[];
  orders: Order[];
}

export class Ledger implements LedgerSnapshot {
  charges: Charge[] = [];
  refunds: Refund[] = [];
  deductions: Deduction[] = [];
  orders: Order[] = [];

  clear() {
    this.charges = [];
    this.refunds = [];
    this.deductions = [];
    this.orders = [];
  }

  /**
   * What an operator does in the payment console to a stuck checkout (the runbook): every charge
   * of the checkout that still holds money is refunded in full. Returns how many were.
   */
  refundOutside(checkoutId: string): number {
    let refunded = 0;
    for (const charge of this.charges) {
      if (charge.checkoutId !== checkoutId || charge.status !== 'success') continue;
      this.refunds.push({
        refundId: `rf_console_${randomUUID()}`,
        transactionId: charge.transactionId,
        checkoutId,
        amount: charge.amount - charge.refunded,
        byOperator: true,
      });
      charge.refunded = charge.amount;
      charge.status = 'refunded';
      refunded++;
    }
    return refunded;
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
      refunds: this.refunds,
      deductions: this.deductions,
      orders: this.orders,
    });
  }
}

/** Money and stock the ledgers hold for one checkout, net of undos. */
export interface NetPosition {
  /** Charges that moved money (success or refunded), with what is left of each. */
  charges: { transactionId: string; amount: number; left: number; currency: string }[];
  /** Σ charged − Σ refunded. */
  netCharge: number;
  /** Product → deducted − released (only products with a non-zero balance). */
  netStock: Map<string, number>;
  orders: Order[];
}

export function netPosition(ledger: LedgerSnapshot, checkoutId: string): NetPosition {
  const charges = ledger.charges
    .filter((c) => c.checkoutId === checkoutId && c.status !== 'failed')
    .map((c) => ({
      transactionId: c.transactionId,
      amount: c.amount,
      left: c.amount - c.refunded,
      currency: c.currency,
    }));
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
