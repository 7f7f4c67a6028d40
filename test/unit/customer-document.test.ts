import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCustomerDocument } from '#lib/checkout/customer-document.ts';

/**
 * Reference check digits written differently from the module's, so that a shared mistake is
 * unlikely: the CPF's classic "Σ × 10 mod 11 mod 10" form, and the CNPJ's weights as 2..9
 * repeating from the right.
 */
function referenceCpfCheckDigit(digits: string): string {
  const sum = [...digits].reduce((s, d, i) => s + Number(d) * (digits.length + 1 - i), 0);
  return String(((sum * 10) % 11) % 10);
}

function referenceCpf(body: string): string {
  const first = referenceCpfCheckDigit(body);
  return body + first + referenceCpfCheckDigit(body + first);
}

function referenceCnpjCheckDigit(characters: string): string {
  let sum = 0;
  for (let fromRight = 0; fromRight < characters.length; fromRight++) {
    const character = characters[characters.length - 1 - fromRight] ?? '';
    sum += (character.charCodeAt(0) - 48) * (2 + (fromRight % 8));
  }
  const remainder = sum % 11;
  return String(remainder < 2 ? 0 : 11 - remainder);
}

function referenceCnpj(body: string): string {
  const first = referenceCnpjCheckDigit(body);
  return body + first + referenceCnpjCheckDigit(body + first);
}

/** The other check digit: any digit but the right one. */
function otherDigit(digit: string): string {
  return String((Number(digit) + 1) % 10);
}

const digitBody = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: length, maxLength: length });
const alphanumericBody = fc.string({
  unit: fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  minLength: 12,
  maxLength: 12,
});
const isOneRepeated = (text: string) => new Set(text).size === 1;

const problemOf = (raw: string) => {
  const result = parseCustomerDocument(raw);
  return 'problem' in result ? result.problem : undefined;
};

describe('parseCustomerDocument: CPF', () => {
  it.each([
    ['529.982.247-25', '52998224725'],
    ['111.444.777-35', '11144477735'],
    ['52998224725', '52998224725'],
    ['529982247-25', '52998224725'],
    ['529 982 247 25', '52998224725'],
    [' 529.982.247-25 ', '52998224725'],
  ])('accepts %s as the CPF %s', (raw, number) => {
    expect(parseCustomerDocument(raw)).toEqual({ kind: 'cpf', number });
  });

  it('agrees with a reference implementation on random CPFs', () => {
    fc.assert(
      fc.property(
        digitBody(9).filter((body) => !isOneRepeated(body)),
        (body) => {
          const cpf = referenceCpf(body);
          expect(parseCustomerDocument(cpf)).toEqual({ kind: 'cpf', number: cpf });
        },
      ),
    );
  });

  it('refuses a CPF with either check digit wrong, on random CPFs', () => {
    fc.assert(
      fc.property(
        digitBody(9).filter((body) => !isOneRepeated(body)),
        fc.constantFrom(9, 10),
        (body, at) => {
          const cpf = referenceCpf(body);
          const wrong = cpf.slice(0, at) + otherDigit(cpf[at] ?? '') + cpf.slice(at + 1);
          expect(problemOf(wrong)).toBe(
            'customer_document is not a valid CPF (check digits do not match)',
          );
        },
      ),
    );
  });

  it.each(['529.982.247-24', '529.982.247-15', '111.444.777-53'])(
    'refuses %s, whose check digits do not match',
    (raw) => {
      expect(problemOf(raw)).toBe(
        'customer_document is not a valid CPF (check digits do not match)',
      );
    },
  );

  it.each([...'0123456789'].map((d) => d.repeat(11)))(
    'refuses %s: all digits the same (its check digits match, yet it is no one’s)',
    (number) => {
      expect(problemOf(number)).toBe('customer_document is not a valid CPF (all digits the same)');
    },
  );

  it('refuses 111.111.111-11 and 000.000.000-00 written with punctuation', () => {
    for (const raw of ['111.111.111-11', '000.000.000-00']) {
      expect(problemOf(raw)).toBe('customer_document is not a valid CPF (all digits the same)');
    }
  });

  it.each(['529.982.247-2A', 'A29.982.247-25', '5299822472x'])(
    'refuses %s: letters in a CPF',
    (raw) => {
      expect(problemOf(raw)).toBe('customer_document is not a valid CPF (only digits are allowed)');
    },
  );

  it('refuses other characters than its punctuation', () => {
    expect(problemOf('529,98224725')).toBe(
      'customer_document must be a CPF (11 digits) or a CNPJ (14 characters)',
    );
    expect(problemOf('5299822+725')).toBe(
      'customer_document is not a valid CPF (only digits are allowed)',
    );
  });
});

describe('parseCustomerDocument: CNPJ', () => {
  it.each([
    ['11.222.333/0001-81', '11222333000181'],
    ['11.444.777/0001-61', '11444777000161'],
    ['11222333000181', '11222333000181'],
    ['11 222 333 0001 81', '11222333000181'],
    ['12.ABC.345/01DE-35', '12ABC34501DE35'],
    ['12ABC34501DE35', '12ABC34501DE35'],
  ])('accepts %s as the CNPJ %s', (raw, number) => {
    expect(parseCustomerDocument(raw)).toEqual({ kind: 'cnpj', number });
  });

  it('accepts the Receita Federal’s alphanumeric example in lower or mixed case, kept upper case', () => {
    for (const raw of ['12.abc.345/01de-35', '12.aBc.345/01dE-35']) {
      expect(parseCustomerDocument(raw)).toEqual({ kind: 'cnpj', number: '12ABC34501DE35' });
    }
  });

  it('agrees with a reference implementation on random numeric and alphanumeric CNPJs', () => {
    fc.assert(
      fc.property(
        fc.oneof(digitBody(12), alphanumericBody).filter((body) => !isOneRepeated(body)),
        (body) => {
          const cnpj = referenceCnpj(body);
          expect(parseCustomerDocument(cnpj)).toEqual({ kind: 'cnpj', number: cnpj });
          expect(parseCustomerDocument(cnpj.toLowerCase())).toEqual({ kind: 'cnpj', number: cnpj });
        },
      ),
    );
  });

  it('refuses a CNPJ with either check digit wrong, on random CNPJs', () => {
    fc.assert(
      fc.property(
        fc.oneof(digitBody(12), alphanumericBody).filter((body) => !isOneRepeated(body)),
        fc.constantFrom(12, 13),
        (body, at) => {
          const cnpj = referenceCnpj(body);
          const wrong = cnpj.slice(0, at) + otherDigit(cnpj[at] ?? '') + cnpj.slice(at + 1);
          expect(problemOf(wrong)).toBe(
            'customer_document is not a valid CNPJ (check digits do not match)',
          );
        },
      ),
    );
  });

  it.each(['11.222.333/0001-82', '11.444.777/0001-16', '12.ABC.345/01DE-53', '12.ABC.345/01DF-35'])(
    'refuses %s, whose check digits do not match',
    (raw) => {
      expect(problemOf(raw)).toBe(
        'customer_document is not a valid CNPJ (check digits do not match)',
      );
    },
  );

  it.each(['12.ABC.345/01DE-3A', '12.ABC.345/01DE-A5', '11.222.333/0001-8x'])(
    'refuses %s: letters in the check-digit positions',
    (raw) => {
      expect(problemOf(raw)).toBe(
        'customer_document is not a valid CNPJ (its last 2 characters must be digits)',
      );
    },
  );

  it('refuses characters other than digits and letters in the body', () => {
    expect(problemOf('1+ABC34501DE35')).toBe(
      'customer_document is not a valid CNPJ (its first 12 characters must be digits or letters)',
    );
    expect(problemOf('12ÁBC34501DE35')).toBe(
      'customer_document is not a valid CNPJ (its first 12 characters must be digits or letters)',
    );
  });

  it('does not let a non-ASCII letter upper-case into an ASCII one (ſ is not S)', () => {
    const withS = referenceCnpj('12SBC34501DE');
    expect(parseCustomerDocument(withS)).toEqual({ kind: 'cnpj', number: withS });
    expect(problemOf(withS.replace('S', 'ſ'))).toBe(
      'customer_document is not a valid CNPJ (its first 12 characters must be digits or letters)',
    );
  });

  it.each(['00.000.000/0000-00', '11111111111111', '22222222222222', '99.999.999/9999-99'])(
    'refuses %s: all characters the same',
    (raw) => {
      expect(problemOf(raw)).toBe(
        'customer_document is not a valid CNPJ (all characters the same)',
      );
    },
  );
});

describe('parseCustomerDocument: neither', () => {
  it.each([
    '',
    '   ',
    '5299822472',
    '529982247251',
    '1122233300018',
    '112223330001811',
    '...---///',
    'customer@example.com',
  ])('refuses %j: neither 11 nor 14 characters', (raw) => {
    expect(problemOf(raw)).toBe(
      'customer_document must be a CPF (11 digits) or a CNPJ (14 characters)',
    );
  });

  it('never repeats the document, or any three of its digits, in a problem', () => {
    fc.assert(
      fc.property(fc.oneof(digitBody(11), digitBody(14), alphanumericBody, fc.string()), (raw) => {
        // Problems hold no run of three digits (their numbers are 2, 11, 12 and 14).
        const problem = problemOf(raw) ?? '';
        expect(problem).not.toMatch(/\d{3}/);
      }),
    );
  });
});
