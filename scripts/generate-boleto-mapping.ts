/**
 * `npx tsx scripts/generate-boleto-mapping.ts`: writes the answer of the boleto mappings
 * (`wiremock/payment/mappings/boleto-success.json` and its delayed twin `boleto-timeout.json`),
 * whose barcode and digitable line WireMock computes from the request's `amount` and `due_date`
 * (FEBRABAN layout, wiremock/README.md, "Pix and boleto"). WireMock's templates have no loops
 * with a running total, only `math` on two operands, so the weighted sums of the check digits are
 * written out here as long nested `math` expressions, one term a digit. Run it again after
 * changing anything below; `test/integration/wiremock-async-payments.test.ts` checks the files
 * hold what it writes and checks the codes WireMock answers with calculators of its own.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The mock's bank code (3 digits) and currency code (9: real). */
const BANK = '001';
const CURRENCY = '9';
/** The due-date factor restarted at 1000 on this day (UTC midnight, in ms since the epoch). */
const FACTOR_BASE_EPOCH_MS = Date.UTC(2025, 1, 22);
const DAY_MS = 86_400_000;
/**
 * The free field (25 digits), the bank's own: agency, wallet, an 11-digit "nosso número" taken
 * from the checkout id (its first 11 hex characters, a–f read as 0–5, so each checkout has its
 * own code), account, and a trailing 0.
 */
const AGENCY = '1234';
const WALLET = '17';
const ACCOUNT = '0012345';
/** Positions in a UUID of the hex characters the "nosso número" takes (the 9th is a `-`). */
const NOSSO_NUMERO_POSITIONS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11];

const body = (field: string) => `(jsonPath request.body '$.${field}')`;
const assign = (name: string, value: string) => `{{#assign '${name}'}}${value}{{/assign}}`;
const digit = (variable: string, index: number) => `(substring ${variable} ${index} ${index + 1})`;
/** A nested `math` sum of the expressions (WireMock's `math` takes two operands). */
const sum = (terms: string[]) =>
  terms.reduce((total, term) => `(math ${total} '+' ${term})`) as string;

/** A hex character of the checkout id as a digit: 0–9 as they are, a–f (or A–F) as 0–5. */
function hexAsDigit(position: number): string {
  const letters = [...'abcdef']
    .flatMap((letter, value) => [
      `{{else eq c '${letter}'}}${value}`,
      `{{else eq c '${letter.toUpperCase()}'}}${value}`,
    ])
    .join('')
    .replace(/^\{\{else eq/, '{{#eq');
  const id = "(rjust (jsonPath request.body '$.checkout_id') size=12 pad='0')";
  const c = assign('c', `{{substring ${id} ${position} ${position + 1}}}`);
  return `${c}${letters}{{else}}{{#if (matches c '[0-9]')}}{{c}}{{else}}0{{/if}}{{/eq}}`;
}

/**
 * The mod-10 check digit of `length` digits of `variable` from `start`: weights 2, 1, 2, …
 * from the right, the digits of each product summed (2d less 9 when d ≥ 5), then what takes the
 * sum to a multiple of 10. Every division is exact: WireMock's rounds half up.
 */
function mod10(name: string, variable: string, start: number, length: number): string {
  const terms = Array.from({ length }, (_, i) => {
    const d = digit(variable, start + i);
    const doubled = (length - 1 - i) % 2 === 0;
    const nines = `(math (math (math ${d} '-' (math ${d} '%' 5)) '/' 5) '*' 9)`;
    return doubled ? `(math (math ${d} '*' 2) '-' ${nines})` : d;
  });
  return assign(name, `{{math (math 10 '-' (math ${sum(terms)} '%' 10)) '%' 10}}`);
}

/**
 * The barcode's general check digit (mod 11) over its other 43 digits: weights 2 to 9 from the
 * right, again and again; 11 less the remainder, and 1 where that gives 0, 10 or 11.
 */
function mod11(name: string, variable: string): string {
  const terms = Array.from(
    { length: 43 },
    (_, i) => `(math ${digit(variable, i)} '*' ${((42 - i) % 8) + 2})`,
  );
  return (
    assign('r', `{{math ${sum(terms)} '%' 11}}`) +
    assign(name, "{{#eq r '0'}}1{{else eq r '1'}}1{{else}}{{math 11 '-' r}}{{/eq}}")
  );
}

/** The template of the boleto's answer (one line, JSON once rendered). */
export function boletoAnswerTemplate(): string {
  const checkoutId = "{{jsonPath request.body '$.checkout_id'}}";
  const due = body('due_date');
  const setup = [
    assign('cents', `{{numberFormat (math ${body('amount')} '*' 100) '0000000000'}}`),
    assign(
      'factor',
      `{{numberFormat (math (math (math (date (parseDate ${due} format='yyyy-MM-dd') format='epoch') '-' ${FACTOR_BASE_EPOCH_MS}) '/' ${DAY_MS}) '+' 1000) '0000'}}`,
    ),
    assign('nosso', NOSSO_NUMERO_POSITIONS.map(hexAsDigit).join('')),
    assign('free', `${AGENCY}${WALLET}{{nosso}}${ACCOUNT}0`),
    assign('code', `${BANK}${CURRENCY}{{factor}}{{cents}}{{free}}`),
    assign('field1', `${BANK}${CURRENCY}{{substring free 0 5}}`),
    mod10('dv1', 'field1', 0, 9),
    mod10('dv2', 'free', 5, 10),
    mod10('dv3', 'free', 15, 10),
    mod11('dv', 'code'),
  ].join('');
  const barcode = `${BANK}${CURRENCY}{{dv}}{{factor}}{{cents}}{{free}}`;
  const line =
    '{{field1}}{{dv1}}{{substring free 5 15}}{{dv2}}{{substring free 15 25}}{{dv3}}{{dv}}{{factor}}{{cents}}';
  return (
    `${setup}{"status":"pending","transactionId":"bol_${checkoutId}","checkout_id":"${checkoutId}",` +
    `"amount":{{jsonPath request.body '$.amount'}},"currency":"BRL","barcode":"${barcode}",` +
    `"digitable_line":"${line}","url":"https://boleto.example.com/bol_${checkoutId}",` +
    `"due_date":"{{jsonPath request.body '$.due_date'}}"}`
  );
}

/** The mappings whose answer is the boleto. */
export const BOLETO_ANSWER_FILES = ['boleto-success.json', 'boleto-timeout.json'].map((file) =>
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../wiremock/payment/mappings', file),
);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const file of BOLETO_ANSWER_FILES) {
    const mapping = JSON.parse(readFileSync(file, 'utf8'));
    mapping.response.body = boletoAnswerTemplate();
    writeFileSync(file, `${JSON.stringify(mapping, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}
