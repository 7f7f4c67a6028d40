/**
 * Checks of the codes a Pix or boleto answer carries, written from the specifications (the
 * Banco Central's BR Code / EMV QRCPS, FEBRABAN's barcode layout), not from the generator of the
 * boleto mapping (`scripts/generate-boleto-mapping.ts`), so a test that uses them checks it.
 */

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection), as 4 upper-case hex digits. */
export function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

export interface Tlv {
  tag: string;
  value: string;
}

/**
 * An EMV payload read as TLV: 2-digit tag, 2-digit length, that many characters. Throws where a
 * length is not digits or runs past the end.
 */
export function parseEmv(payload: string): Tlv[] {
  const fields: Tlv[] = [];
  let at = 0;
  while (at < payload.length) {
    const tag = payload.slice(at, at + 2);
    const length = payload.slice(at + 2, at + 4);
    if (!/^\d{2}$/.test(tag) || !/^\d{2}$/.test(length)) {
      throw new Error(`bad tag or length at ${at}: ${payload.slice(at, at + 4)}`);
    }
    const end = at + 4 + Number(length);
    if (end > payload.length) throw new Error(`tag ${tag} runs past the end`);
    fields.push({ tag, value: payload.slice(at + 4, end) });
    at = end;
  }
  return fields;
}

/** The digits of a string, as numbers. */
const digits = (text: string) => [...text].map(Number);

/**
 * FEBRABAN's mod-10 check digit: weights 2, 1, 2, … from the right, the digits of each product
 * added up; what takes the total to the next multiple of 10.
 */
export function mod10(text: string): number {
  const total = digits(text)
    .reverse()
    .reduce((sum, d, i) => {
      const product = d * (i % 2 === 0 ? 2 : 1);
      return sum + Math.floor(product / 10) + (product % 10);
    }, 0);
  return (10 - (total % 10)) % 10;
}

/**
 * The barcode's general check digit over its other 43 digits: weights 2 to 9 from the right,
 * repeated; 11 less the remainder mod 11, and 1 where that is 0, 10 or 11.
 */
export function boletoMod11(text: string): number {
  const total = digits(text)
    .reverse()
    .reduce((sum, d, i) => sum + d * (2 + (i % 8)), 0);
  const dv = 11 - (total % 11);
  return dv === 0 || dv === 10 || dv === 11 ? 1 : dv;
}

/** The due-date factor: 1000 on 2025-02-22 (its restart), one more each day after. */
export function dueDateFactor(dueDate: string): number {
  const days =
    (Date.parse(`${dueDate}T00:00:00Z`) - Date.parse('2025-02-22T00:00:00Z')) / 86_400_000;
  return 1000 + days;
}

/**
 * The barcode a 47-digit digitable line stands for: bank and currency, the general DV, factor
 * and amount, then the free field from the three fields without their check digits.
 */
export function barcodeOfDigitableLine(line: string): string {
  const field1 = line.slice(0, 9);
  const field2 = line.slice(10, 20);
  const field3 = line.slice(21, 31);
  const dv = line.slice(32, 33);
  const factorAndAmount = line.slice(33, 47);
  return `${field1.slice(0, 4)}${dv}${factorAndAmount}${field1.slice(4)}${field2}${field3}`;
}
