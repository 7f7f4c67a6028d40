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

/**
 * The card brands the shop's acquirers route and report by name; `other` for the rest (the
 * payment service still decides whether it takes the card).
 */
export type CardBrand =
  | 'visa'
  | 'mastercard'
  | 'amex'
  | 'elo'
  | 'hipercard'
  | 'diners'
  | 'discover'
  | 'jcb'
  | 'other';

/** What may be kept of a card: its brand (by prefix) and last four digits. Never the number. */
export function cardSummary(cardNumber: string): { brand: string; last4: string } {
  return { brand: cardBrand(cardNumber), last4: cardNumber.slice(-4) };
}

/**
 * The brand of a card number, from its first six digits (the BIN).
 *
 * Some BINs of Brazil's own brands lie inside other brands' ranges (Elo's 4xxxxx ones inside
 * Visa's, its 65xxxx ones inside Discover's, Hipercard's 3841x0 inside Diners'), so a prefix
 * rule such as "4 is Visa" alone names a Brazilian card wrongly. The table is searched in order and the first range that holds the
 * BIN wins: Elo and Hipercard come first, then the international brands, whose ranges do not
 * overlap one another. A number of fewer than six digits has no BIN: `other`.
 */
export function cardBrand(cardNumber: string): CardBrand {
  const bin = /^\d{6}/.exec(cardNumber)?.[0];
  if (bin === undefined) return 'other';
  const value = Number(bin);
  return BIN_RANGES.find(([, low, high]) => value >= low && value <= high)?.[0] ?? 'other';
}

type BinRange = readonly [brand: CardBrand, low: number, high: number];

/**
 * The six-digit BINs from `first` to `last`, written as prefixes: `bins('4')` is 400000–499999,
 * `bins('300', '305')` is 300000–305999, `bins('606282')` is that BIN alone.
 */
function bins(brand: CardBrand, first: string, last = first): BinRange {
  return [brand, Number(first.padEnd(6, '0')), Number(last.padEnd(6, '9'))];
}

/**
 * Brand by BIN, first match wins. Elo's list is the one payment SDKs publish (Braintree's
 * credit-card-type among them). Hipercard's holds 606282 and 3841x0, and the 637xxx BINs that
 * some lists name Hiper (Itaú's later brand, beside Hipercard), counted as Hipercard here.
 */
const BIN_RANGES: readonly BinRange[] = [
  bins('elo', '401178', '401179'),
  bins('elo', '431274'),
  bins('elo', '438935'),
  bins('elo', '451416'),
  bins('elo', '457393'),
  bins('elo', '457631', '457632'),
  bins('elo', '504175'),
  bins('elo', '506699', '506778'),
  bins('elo', '509000', '509999'),
  bins('elo', '627780'),
  bins('elo', '636297'),
  bins('elo', '636368'),
  bins('elo', '650031', '650033'),
  bins('elo', '650035', '650051'),
  bins('elo', '650405', '650439'),
  bins('elo', '650485', '650538'),
  bins('elo', '650541', '650598'),
  bins('elo', '650700', '650718'),
  bins('elo', '650720', '650727'),
  bins('elo', '650901', '650978'),
  bins('elo', '651652', '651679'),
  bins('elo', '655000', '655019'),
  bins('elo', '655021', '655058'),
  bins('hipercard', '606282'),
  bins('hipercard', '384100'),
  bins('hipercard', '384140'),
  bins('hipercard', '384160'),
  bins('hipercard', '637095'),
  bins('hipercard', '637568'),
  bins('hipercard', '637599'),
  bins('hipercard', '637609'),
  bins('hipercard', '637612'),
  bins('amex', '34'),
  bins('amex', '37'),
  bins('diners', '300', '305'),
  bins('diners', '36'),
  bins('diners', '38', '39'),
  bins('jcb', '3528', '3589'),
  bins('visa', '4'),
  bins('mastercard', '51', '55'),
  bins('mastercard', '2221', '2720'),
  bins('discover', '6011'),
  bins('discover', '644', '649'),
  bins('discover', '65'),
];
