/**
 * Money is held as integer minor units everywhere inside the service (cents of BRL, yen, fils of
 * KWD), so sums are exact. How many decimals a currency has comes from ISO 4217 through `Intl`;
 * conversions to and from the decimal forms used on the wire and in the database live here and
 * nowhere else.
 */
export type MinorUnits = number;

/**
 * The most decimals a stored amount can have: `total_amount` is `numeric(15, 3)` (migration
 * 0003). A currency with more (ISO's CLF and UYW have 4; `Intl` does not list them) is refused.
 */
export const STORED_SCALE = 3;

/**
 * Units of account that ISO 4217 gives no minor unit ("N.A."): nothing a card is charged in.
 * ICU lists them with 2 decimals, so `Intl` alone would let them through.
 */
const UNITS_OF_ACCOUNT: ReadonlySet<string> = new Set(['XDR', 'XSU']);

/**
 * Codes ISO 4217 has withdrawn that the runtime's ICU still lists (the same on Node 20 and 22),
 * each with the code that replaced it: a payment service cannot charge them any more. Rows
 * recorded in one still read back: only new checkouts are refused.
 */
const WITHDRAWN: ReadonlyMap<string, string> = new Map([
  ['ANG', 'XCG'], // Netherlands Antillean guilder → Caribbean guilder (2025)
  ['BGN', 'EUR'], // Bulgarian lev → euro (2026)
  ['CUC', 'CUP'], // Cuban convertible peso, merged into the peso (2021)
  ['HRK', 'EUR'], // Croatian kuna → euro (2023)
  ['SLL', 'SLE'], // Sierra Leonean leone, redenominated (2022; withdrawn 2024)
  ['ZWL', 'ZWG'], // Zimbabwe dollar → Zimbabwe Gold (2024)
]);

let supportedCurrencies: ReadonlySet<string> | undefined;
const digitsByCurrency = new Map<string, number>();

/**
 * Whether `code` is a currency a checkout may be paid in: one `Intl` knows (ISO 4217, as the
 * runtime's ICU data has it) and ISO has not withdrawn, with a minor unit that the database
 * column holds exactly.
 */
export function isKnownCurrency(code: string): boolean {
  supportedCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return (
    supportedCurrencies.has(code) &&
    !UNITS_OF_ACCOUNT.has(code) &&
    !WITHDRAWN.has(code) &&
    minorUnitDigits(code) <= STORED_SCALE
  );
}

/** The code that replaced a withdrawn currency (`HRK` → `EUR`); `undefined` for any other. */
export function replacementOf(code: string): string | undefined {
  return WITHDRAWN.get(code);
}

/**
 * The decimals of a currency's minor unit, from `Intl` (BRL 2, JPY 0, KWD 3), cached per code.
 * A well-formed code `Intl` does not know gets 2 (ECMA-402's rule): rows written before unknown
 * codes were refused hold such amounts with 2 decimals, so they still read back as written.
 */
export function minorUnitDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/**
 * Minor units of a decimal text with at most `digits` significant decimals (trailing zeros do
 * not count: "150.000" is 150 yen), or `undefined` when it has more, is not a plain decimal or
 * does not fit a safe integer.
 */
function decimalToMinorUnits(text: string, digits: number): MinorUnits | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', decimals = ''] = match;
  const fraction = decimals.replace(/0+$/, '');
  if (fraction.length > digits) return undefined;
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  if (!Number.isSafeInteger(minor)) return undefined;
  return sign === '-' ? -minor : minor;
}

/**
 * Converts a JSON number to minor units of `currency`, or returns `undefined` when it has more
 * decimals than the currency's minor unit (150.5 JPY, 19.999 BRL, 1e-11) or is not finite.
 * Works on the number's shortest round-trip decimal text (what the client sent), never on
 * float arithmetic, so 19.99 BRL → 1999 exactly.
 */
export function toMinorUnits(amount: number, currency: string): MinorUnits | undefined {
  return decimalToMinorUnits(String(amount), minorUnitDigits(currency));
}

/** Writes minor units with the currency's decimals: 34970 BRL → "349.70", 150 JPY → "150", 1234 KWD → "1.234". */
export function formatMinorUnits(minor: MinorUnits, currency: string): string {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`not an amount in minor units: ${minor}`);
  const digits = minorUnitDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  if (digits === 0) return `${sign}${text}`;
  return `${sign}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/**
 * The JSON number sent to downstream services: exactly the decimal `formatMinorUnits` writes
 * (349.7 BRL, 150 JPY, 1.234 KWD). Exact because amounts stay under 15 significant digits (the
 * price cap), which a double always round-trips.
 */
export function toWireAmount(minor: MinorUnits, currency: string): number {
  return Number(formatMinorUnits(minor, currency));
}

/**
 * Parses a stored amount of `currency` back to minor units: `numeric(15,3)` text ("1.234",
 * "150.000") and the 2-decimal text older rows and item prices were written with ("349.70").
 * Throws rather than round when the text holds a fraction the currency's minor unit cannot.
 */
export function parseDecimal(value: string | number, currency: string): MinorUnits {
  const text = String(value).trim();
  const minor = decimalToMinorUnits(text, minorUnitDigits(currency));
  if (minor === undefined) throw new RangeError(`not an amount in ${currency}: ${text}`);
  return minor;
}

/** Σ quantity × unit price, in minor units. */
export function orderTotal(
  items: readonly { quantity: number; priceCents: MinorUnits }[],
): MinorUnits {
  return items.reduce((sum, item) => sum + item.quantity * item.priceCents, 0);
}
