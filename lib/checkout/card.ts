/** Luhn (mod 10) check of a string of digits. */
export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/**
 * Whether an `MM/YY` expiry is still valid at `now`: a card is good through the last day of its
 * expiry month (UTC). The caller has already checked the `MM/YY` shape.
 */
export function isExpiryCurrent(expiry: string, now: Date): boolean {
  const [mm, yy] = expiry.split('/');
  const month = Number(mm);
  const year = 2000 + Number(yy);
  const currentYear = now.getUTCFullYear();
  const currentMonth = now.getUTCMonth() + 1;
  return year > currentYear || (year === currentYear && month >= currentMonth);
}

/** What may be kept of a card: its brand (by prefix) and last four digits. Never the number. */
export function cardSummary(cardNumber: string): { brand: string; last4: string } {
  return { brand: cardBrand(cardNumber), last4: cardNumber.slice(-4) };
}

function cardBrand(n: string): string {
  if (n.startsWith('4')) return 'visa';
  if (/^5[1-5]/.test(n) || isInRange(n.slice(0, 4), 2221, 2720)) return 'mastercard';
  if (/^3[47]/.test(n)) return 'amex';
  if (/^(6011|65)/.test(n)) return 'discover';
  return 'other';
}

function isInRange(prefix: string, low: number, high: number): boolean {
  const value = Number(prefix);
  return value >= low && value <= high;
}
