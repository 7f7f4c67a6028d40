import { describe, expect, it } from 'vitest';
import {
  codeWithoutComments,
  importsOf,
  type SourceImport,
  sourceFiles,
} from './source-imports.ts';

/**
 * The layers as docs/design.md draws them: handlers (`functions/`) → `lib/`, whose domain
 * (`lib/checkout`) knows nothing of HTTP, Lambda, SQL drivers or the service clients.
 */

const edge = (i: SourceImport) => `${i.file} → ${i.specifier}`;

describe('lib/', () => {
  it('imports nothing from functions/ or dev/', () => {
    const upward = sourceFiles('lib')
      .flatMap(importsOf)
      .filter((i) => i.target !== undefined && /^(functions|dev)\//.test(i.target));
    expect(upward.map(edge)).toEqual([]);
  });
});

describe('the domain, lib/checkout', () => {
  const domain = sourceFiles('lib/checkout');
  const imports = domain.flatMap(importsOf);

  /** Money in minor units and the typed errors are the only code it shares with the rest. */
  const SHARED_FILES = ['lib/money.ts', 'lib/errors.ts'];
  const PACKAGES = ['zod'];

  it('imports only lib/checkout, lib/money.ts and lib/errors.ts', () => {
    const outside = imports.filter(
      (i) =>
        i.target !== undefined &&
        !i.target.startsWith('lib/checkout/') &&
        !SHARED_FILES.includes(i.target),
    );
    expect(outside.map(edge)).toEqual([]);
  });

  it('imports no package but zod (and node: builtins)', () => {
    const packages = imports.filter(
      (i) => i.packageName !== undefined && !PACKAGES.includes(i.packageName),
    );
    expect(packages.map(edge)).toEqual([]);
  });

  it('names no HTTP status code or header in its code', () => {
    const HTTP = [/statusCode/i, /retry-after/i, /\bstatus\s*[:=]\s*[1-5]\d\d\b/];
    const found = domain.flatMap((file) => {
      const code = codeWithoutComments(file);
      return HTTP.filter((pattern) => pattern.test(code)).map((pattern) => `${file}: ${pattern}`);
    });
    expect(found).toEqual([]);
  });
});

describe('the payment webhook handler, functions/webhooks', () => {
  const handler = 'functions/webhooks/handler.ts';

  it('is thin: the body, the signature and the answers are lib/http’s, the work the App’s', () => {
    const imports = importsOf(handler);
    const reaching = imports.filter(
      (i) =>
        i.packageName === 'zod' ||
        i.specifier === 'node:crypto' ||
        /^lib\/(db|clients)\//.test(i.target ?? '') ||
        i.target === 'lib/http/webhook-signature.ts',
    );
    expect(reaching.map(edge)).toEqual([]);
    const code = codeWithoutComments(handler);
    // It never reads the raw body or the signature header, parses JSON, or builds an answer.
    for (const pattern of [/\.body\b/, /JSON\.parse/, /headers/, /statusCode/, /jsonResponse/]) {
      expect(code, String(pattern)).not.toMatch(pattern);
    }
  });
});
