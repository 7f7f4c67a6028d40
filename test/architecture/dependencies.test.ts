import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  importsOf,
  ROOT,
  rootSourceFiles,
  type SourceImport,
  sourceFiles,
} from './source-imports.ts';

/**
 * package.json says what is used: every package the code imports is declared (what the
 * Lambdas run, in `dependencies`), and every declared package is imported somewhere, run as
 * a command, or the types of one that is.
 */

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dependencies = Object.keys(manifest.dependencies);
const declared = [...dependencies, ...Object.keys(manifest.devDependencies)];

/**
 * Declared for their command line and never imported: each names its command (checked against
 * the package's `bin`) and what runs it. `typescript` is not here: this suite imports it.
 */
const COMMAND_LINE_TOOLS: Record<string, { command: string; runBy: 'npm scripts' | string }> = {
  // `npm run cdk`, `npm run synth`, `npm run deploy`.
  'aws-cdk': { command: 'cdk', runBy: 'npm scripts' },
  // `npm run deploy:local` spawns node_modules/.bin/cdklocal.
  'aws-cdk-local': { command: 'cdklocal', runBy: 'scripts/deploy-local.ts' },
  // Every `npm run` script in TypeScript; also cdk.json's app and `node --import tsx` children.
  tsx: { command: 'tsx', runBy: 'npm scripts' },
  // `npm run lint`, `npm run lint:fix`.
  '@biomejs/biome': { command: 'biome', runBy: 'npm scripts' },
};

const files = [
  ...['lib', 'functions', 'dev', 'scripts', 'infra', 'test'].flatMap(sourceFiles),
  ...rootSourceFiles(),
];
const imports = files.flatMap(importsOf);
const packageImports = imports.filter(
  (i): i is SourceImport & { packageName: string } => i.packageName !== undefined,
);

/** Code the Lambdas run: its packages must be installed in production. */
const isShipped = (i: SourceImport) => /^(lib|functions)\//.test(i.file) && !i.typeOnly;

/** `@types/x` for `x`, `@types/scope__x` for `@scope/x`. */
const typesOf = (name: string) => `@types/${name.replace(/^@/, '').replace('/', '__')}`;

const edge = (i: SourceImport) => `${i.file} → ${i.specifier}`;

describe('package.json', () => {
  it('declares in "dependencies" every package that lib/ and functions/ run', () => {
    const missing = packageImports.filter(
      (i) => isShipped(i) && !dependencies.includes(i.packageName),
    );
    expect(missing.map(edge)).toEqual([]);
  });

  it('declares every package that any code imports (types may come from @types)', () => {
    const missing = packageImports.filter(
      (i) =>
        !declared.includes(i.packageName) &&
        !(i.typeOnly && declared.includes(typesOf(i.packageName))),
    );
    expect(missing.map(edge)).toEqual([]);
  });

  it('declares nothing that is neither imported, run as a command, nor the types of either', () => {
    const imported = new Set(packageImports.map((i) => i.packageName));
    const usesBuiltins = imports.some((i) => i.target === undefined && i.packageName === undefined);
    const used = (name: string) =>
      imported.has(name) ||
      name in COMMAND_LINE_TOOLS ||
      (name === '@types/node' && usesBuiltins) ||
      [...imported].some((pkg) => typesOf(pkg) === name);
    expect(declared.filter((name) => !used(name))).toEqual([]);
  });

  it.each(Object.entries(COMMAND_LINE_TOOLS))(
    'has %s only for a command that is run',
    (name, { command, runBy }) => {
      expect(declared).toContain(name);
      expect(packageImports.filter((i) => i.packageName === name).map(edge)).toEqual([]);
      const { bin } = JSON.parse(
        readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { bin?: string | Record<string, string> };
      expect(typeof bin === 'string' ? [name] : Object.keys(bin ?? {})).toContain(command);
      const runs = new RegExp(`(^|[\\s/'"])${command}([\\s'"]|$)`, 'm');
      const runners =
        runBy === 'npm scripts'
          ? Object.values(manifest.scripts)
          : [readFileSync(path.join(ROOT, runBy), 'utf8')];
      expect(runners.some((text) => runs.test(text))).toBe(true);
    },
  );
});
