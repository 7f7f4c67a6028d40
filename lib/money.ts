/**
 * Money is held as integer minor units (cents) everywhere inside the service, so sums are exact.
 * Conversions to and from the decimal forms used on the wire live here and nowhere else.
 */
export type MinorUnits = number;

/**
 * Converts a JSON number with at most two decimals to minor units, or returns `undefined` when
 * the number has more precision than cents (19.999, 1e-11) or is not a finite number.
 * Works on the number's shortest round-trip decimal text (what the client sent), never on
 * float arithmetic, so 19.99 → 1999 exactly.
 */
export function toMinorUnits(amount: number): MinorUnits | undefined {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(String(amount));
  if (!match) return undefined;
  const [, sign, whole, fraction = ''] = match;
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  if (!Number.isSafeInteger(cents)) return undefined;
  return sign === '-' ? -cents : cents;
}

/** Formats minor units as a decimal string with two places: 34970 → "349.70". */
export function formatMinorUnits(cents: MinorUnits): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The JSON number sent to downstream services (2 decimals by construction). */
export function toWireAmount(cents: MinorUnits): number {
  return Number(formatMinorUnits(cents));
}

/** Parses a `numeric(12,2)` value read from PostgreSQL ("349.70") back to minor units. */
export function parseDecimal(value: string | number): MinorUnits {
  const text = typeof value === 'number' ? value.toFixed(2) : value;
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a 2-decimal amount: ${text}`);
  const [, sign, whole, fraction = ''] = match;
  const cents = Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  return sign === '-' ? -cents : cents;
}

/** Σ quantity × unit price, in minor units. */
export function orderTotal(
  items: readonly { quantity: number; priceCents: MinorUnits }[],
): MinorUnits {
  return items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0);
}
