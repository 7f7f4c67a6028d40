/**
 * `npm run generate`: writes the files generated from a single source: the precompiled Ajv
 * validator of the checkout event (from the zod schemas) and `docs/test-values.md` (from
 * `dev/api-docs/test-values.ts`). `test/unit/generated-code.test.ts` fails when one is stale.
 */
import { writeFileSync } from 'node:fs';
import { testValuesMarkdown } from '#dev/api-docs/test-values-markdown.ts';
import { checkoutEventValidatorSource } from '#dev/schemas/checkout-event-validator-source.ts';

export const GENERATED = {
  'lib/http/generated/checkout-event-validator.js': checkoutEventValidatorSource,
  'docs/test-values.md': testValuesMarkdown,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [file, source] of Object.entries(GENERATED)) {
    writeFileSync(file, source());
    console.log(`wrote ${file}`);
  }
}
