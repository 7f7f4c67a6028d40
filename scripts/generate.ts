/**
 * `npm run generate`: writes the code generated from the zod schemas (the precompiled Ajv
 * validator of the checkout event). `test/unit/generated-code.test.ts` fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { checkoutEventValidatorSource } from '#dev/schemas/checkout-event-validator-source.ts';

export const GENERATED = {
  'lib/http/generated/checkout-event-validator.js': checkoutEventValidatorSource,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, source] of Object.entries(GENERATED)) {
    writeFileSync(file, source());
    console.log(`wrote ${file}`);
  }
}
