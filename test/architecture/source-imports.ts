/**
 * The repository's import graph as its source says it, read with the TypeScript parser so
 * that type-only imports count too (esbuild drops them, but they still tie a layer to another).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Every source file under `dir` (relative to the root, `/`-separated), sorted. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => SOURCE.test(file))
    .map((file) => path.posix.join(dir, file.split(path.sep).join('/')))
    .sort();
}

/** The source files at the root itself (`vitest.config.ts`). */
export function rootSourceFiles(): string[] {
  return readdirSync(ROOT, { withFileTypes: true })
    .filter((entry) => entry.isFile() && SOURCE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

export interface SourceImport {
  /** The importing file, relative to the root. */
  file: string;
  /** As written: `./x.ts`, `#lib/x.ts`, `zod/mini`, `node:fs`. */
  specifier: string;
  /** Erased at compile time: `import type`, `export type`, `import('x').T`, or in a `.d.ts`. */
  typeOnly: boolean;
  /** The file it names (relative to the root), or undefined for a package or a builtin. */
  target: string | undefined;
  /** The npm package it names (`@scope/name` or `name`), or undefined for a file or a builtin. */
  packageName: string | undefined;
}

const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  imports: Record<string, string>;
};

/** `#lib/x.ts` → `lib/x.ts` through package.json `imports` (only `prefix/*` patterns are used). */
function resolveAlias(specifier: string): string | undefined {
  for (const [pattern, replacement] of Object.entries(packageJson.imports)) {
    const prefix = pattern.replace(/\*$/, '');
    if (pattern.endsWith('*') && specifier.startsWith(prefix)) {
      return path.posix.normalize(replacement.replace(/\*$/, '') + specifier.slice(prefix.length));
    }
  }
  return undefined;
}

function describeSpecifier(file: string, specifier: string, typeOnly: boolean): SourceImport {
  const base = { file, specifier, typeOnly };
  if (specifier.startsWith('.')) {
    return {
      ...base,
      target: path.posix.join(path.posix.dirname(file), specifier),
      packageName: undefined,
    };
  }
  if (specifier.startsWith('#')) {
    const target = resolveAlias(specifier);
    if (!target) throw new Error(`${file}: no package.json "imports" entry for ${specifier}`);
    return { ...base, target, packageName: undefined };
  }
  if (isBuiltin(specifier)) return { ...base, target: undefined, packageName: undefined };
  const [first = '', second = ''] = specifier.split('/');
  const packageName = first.startsWith('@') ? `${first}/${second}` : first;
  return { ...base, target: undefined, packageName };
}

const stringArgument = (call: ts.CallExpression): string | undefined => {
  const [first] = call.arguments;
  return first && ts.isStringLiteralLike(first) ? first.text : undefined;
};

/**
 * What `file` imports: static and dynamic imports, re-exports, `import('x')` types, `require`,
 * and package files located with `require.resolve` / `createRequire(...).resolve` /
 * `import.meta.resolve` (how the WireMock jar and Swagger UI's assets are found).
 */
export function importsOf(file: string): SourceImport[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const declarationFile = file.endsWith('.d.ts');
  const found: SourceImport[] = [];
  const add = (specifier: string, typeOnly: boolean) =>
    found.push(describeSpecifier(file, specifier, typeOnly || declarationFile));

  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly ?? false);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      add(node.moduleReference.expression.text, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) {
        add(argument.literal.text, true);
      }
    } else if (ts.isCallExpression(node)) {
      const specifier = stringArgument(node);
      const callee = node.expression.getText(source);
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire =
        callee === 'require' || /(require|import\.meta)\b.*\.resolve$/i.test(callee);
      if (specifier !== undefined && (isImport || isRequire)) add(specifier, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The code of `file` without its comments, for scans that must not trip on prose. */
export function codeWithoutComments(file: string): string {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  return ts.createPrinter({ removeComments: true }).printFile(source);
}
