import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED } from '../../scripts/generate.ts';

describe('generated code', () => {
  it.each(Object.entries(GENERATED))(
    '%s matches the zod schemas (run `npm run generate`)',
    (file, source) => {
      expect(readFileSync(file, 'utf8')).toBe(source());
    },
  );
});
