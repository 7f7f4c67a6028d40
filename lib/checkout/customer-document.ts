/**
 * The customer's Brazilian tax id, `customer_document`: a CPF (a person, 11 digits) or a CNPJ (a
 * company, 14 characters). Optional in a checkout; when sent it must be well formed, because
 * acquirers and the invoice (nota fiscal) refuse a document whose check digits do not match, and
 * it is cheaper to tell the shop at once than after the payment.
 *
 * A document is personal data: it never appears in a problem message (messages are logged and
 * sent back), and only the normalised form is kept.
 */

/** A CPF or CNPJ, normalised: 11 digits or 14 upper-case characters, no punctuation. */
export type CustomerDocument = { kind: 'cpf' | 'cnpj'; number: string };

/** Why a `customer_document` was refused, for the shop's developer. Never holds the document. */
export type CustomerDocumentProblem = { problem: string };

const SHAPE_PROBLEM = 'customer_document must be a CPF (11 digits) or a CNPJ (14 characters)';

/**
 * The punctuation of the usual masks (`529.982.247-25`, `12.ABC.345/01DE-35`) and spaces, which
 * shops send or not: only these, so that any other character still gets a clear refusal.
 * Where they stand is not checked: shops format documents in too many ways for that to help.
 */
const PUNCTUATION = /[ ./-]/g;

/** CPF check digits: weights 10..2 over the first 9 digits, then 11..2 over the first 10. */
const CPF_WEIGHTS = [
  [10, 9, 8, 7, 6, 5, 4, 3, 2],
  [11, 10, 9, 8, 7, 6, 5, 4, 3, 2],
] as const;

/** CNPJ check digits: the Receita Federal's weights, the same for numeric and alphanumeric. */
const CNPJ_WEIGHTS = [
  [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
  [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2],
] as const;

/**
 * Reads a `customer_document` as sent: punctuation and spaces are dropped, then 11 characters
 * must make a CPF and 14 a CNPJ, with matching check digits and not one character repeated
 * (000.000.000-00 passes the check-digit test but is no one's document).
 *
 * CNPJ letters are accepted in either case and kept upper case: the Receita Federal defines
 * alphanumeric CNPJs (issued from July 2026) with upper-case letters only, and computes their
 * check digits from upper-case character codes, but a customer typing one will not always
 * use the shift key. Only ASCII letters are upper-cased, so that no other character can turn
 * into one (`'ſ'.toUpperCase()` is `'S'`).
 */
export function parseCustomerDocument(raw: string): CustomerDocument | CustomerDocumentProblem {
  const compact = upperCaseAscii(raw.replace(PUNCTUATION, ''));
  if (compact.length === 11) return parseCpf(compact);
  if (compact.length === 14) return parseCnpj(compact);
  return { problem: SHAPE_PROBLEM };
}

function parseCpf(number: string): CustomerDocument | CustomerDocumentProblem {
  if (!/^\d{11}$/.test(number)) return cpfProblem('only digits are allowed');
  if (isOneCharacterRepeated(number)) return cpfProblem('all digits the same');
  if (!hasMatchingCheckDigits(number, CPF_WEIGHTS)) return cpfProblem('check digits do not match');
  return { kind: 'cpf', number };
}

function parseCnpj(number: string): CustomerDocument | CustomerDocumentProblem {
  if (!/^[0-9A-Z]{12}/.test(number)) {
    return cnpjProblem('its first 12 characters must be digits or letters');
  }
  if (!/\d{2}$/.test(number)) return cnpjProblem('its last 2 characters must be digits');
  if (isOneCharacterRepeated(number)) return cnpjProblem('all characters the same');
  if (!hasMatchingCheckDigits(number, CNPJ_WEIGHTS)) {
    return cnpjProblem('check digits do not match');
  }
  return { kind: 'cnpj', number };
}

function cpfProblem(reason: string): CustomerDocumentProblem {
  return { problem: `customer_document is not a valid CPF (${reason})` };
}

function cnpjProblem(reason: string): CustomerDocumentProblem {
  return { problem: `customer_document is not a valid CNPJ (${reason})` };
}

function upperCaseAscii(text: string): string {
  return text.replace(/[a-z]/g, (letter) => letter.toUpperCase());
}

function isOneCharacterRepeated(text: string): boolean {
  return [...text].every((character) => character === text[0]);
}

/**
 * Whether the last two characters of `number` are the check digits of the ones before them:
 * the first over the body, the second over the body and the first check digit.
 */
function hasMatchingCheckDigits(
  number: string,
  [firstWeights, secondWeights]: readonly [readonly number[], readonly number[]],
): boolean {
  const values = [...number].map(characterValue);
  const body = firstWeights.length;
  return (
    mod11CheckDigit(values, firstWeights) === values[body] &&
    mod11CheckDigit(values, secondWeights) === values[body + 1]
  );
}

/**
 * A character's value in the check-digit sum: its character code − 48, the Receita Federal's
 * rule for alphanumeric CNPJs, which keeps '0'..'9' at 0..9 (so numeric CPFs and CNPJs compute
 * as they always did) and makes 'A'..'Z' 17..42.
 */
function characterValue(character: string): number {
  return character.charCodeAt(0) - 48;
}

/**
 * The mod-11 check digit of the first `weights.length` values: Σ value × weight, remainder
 * by 11; a remainder of 0 or 1 gives 0, any other r gives 11 − r (so always a single digit).
 */
function mod11CheckDigit(values: readonly number[], weights: readonly number[]): number {
  const sum = weights.reduce((total, weight, i) => total + weight * (values[i] ?? Number.NaN), 0);
  const remainder = sum % 11;
  return remainder < 2 ? 0 : 11 - remainder;
}
