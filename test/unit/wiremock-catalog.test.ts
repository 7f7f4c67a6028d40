import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKnownCurrency, minorUnitDigits } from '#lib/money.ts';

/**
 * Issue 20, found by an adversarial review: the WireMock catalog (`catalog-quote.json`) picks a price's decimals
 * from two hard-coded lists of currency codes, while the service validates the catalog's
 * prices with `Intl` (`minorUnitDigits`). Wherever the lists and `Intl` disagree, every quote
 * in that currency is refused as pricing_unavailable (503) against WireMock.
 */

const mapping = JSON.parse(
  fs.readFileSync(
    path.resolve(import.meta.dirname, '../../wiremock/inventory/mappings/catalog-quote.json'),
    'utf8',
  ),
) as { response: { body: string } };

const list = (digits: 0 | 3) => {
  const [, codes] =
    new RegExp(`contains '([A-Z ]+)' c\\)\\}\\}${digits}`).exec(mapping.response.body) ?? [];
  return new Set((codes ?? '').split(' '));
};

describe('the WireMock catalog’s currency decimals', () => {
  const known = Intl.supportedValuesOf('currency').filter(isKnownCurrency);

  it('answer with as many decimals as the service accepts, for every currency it accepts', () => {
    const zero = list(0);
    const three = list(3);
    const wrong = known.filter((code) => {
      const mock = zero.has(code) ? 0 : three.has(code) ? 3 : 2;
      return mock !== minorUnitDigits(code);
    });
    expect(wrong).toEqual([]);
  });
});
