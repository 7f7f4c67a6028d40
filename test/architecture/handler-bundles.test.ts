import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { entryOf, FUNCTIONS, type FunctionName } from '../../infra/bundling.ts';
import { FUNCTION_BUILD_OPTIONS } from '../../scripts/build.ts';
import { importsOf, ROOT, sourceFiles } from './source-imports.ts';

/**
 * `lib/` is exactly what the Lambdas ship: every file of it ends up in some function's bundle,
 * and no bundle carries dev tooling, scripts, tests or infrastructure code. The bundles are
 * built as `npm run build` builds them, in memory, and read through esbuild's metafile.
 */

/** The files (relative to the root) that make up one function's bundle. */
async function bundledFiles(name: FunctionName): Promise<string[]> {
  const { metafile } = await build({
    ...FUNCTION_BUILD_OPTIONS,
    entryPoints: [entryOf(name)],
    outfile: `dist/${name}/index.mjs`,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
  });
  return Object.keys(metafile.inputs);
}

/**
 * The bundled files and, added to them, the files their `import type`s name: a file of types
 * alone compiles to nothing, so esbuild never lists it, yet it is part of what ships.
 */
function withTheirTypes(bundled: Iterable<string>): Set<string> {
  const reached = new Set(bundled);
  const queue = [...reached].filter((file) => /^(lib|functions)\//.test(file));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const { target, typeOnly } of importsOf(file)) {
      if (typeOnly && target !== undefined && !reached.has(target)) {
        reached.add(target);
        queue.push(target);
      }
    }
  }
  return reached;
}

const bundles = new Map<FunctionName, string[]>();
beforeAll(async () => {
  for (const name of FUNCTIONS) bundles.set(name, await bundledFiles(name));
});
const filesOf = (name: FunctionName) => bundles.get(name) ?? [];

describe('the function bundles', () => {
  it.each(FUNCTIONS)('%s is built from its handler, paths relative to the root', (name) => {
    expect(filesOf(name)).toContain(entryOf(name));
  });

  it('ship every source file under lib/, as code or as the types of that code', () => {
    const shipped = withTheirTypes(FUNCTIONS.flatMap(filesOf));
    const neverShipped = sourceFiles('lib').filter(
      (file) => !file.endsWith('.d.ts') && !shipped.has(file),
    );
    expect(neverShipped).toEqual([]);
  });

  it.each(FUNCTIONS)('%s carries nothing from dev/, scripts/, test/ or infra/', (name) => {
    const foreign = filesOf(name).filter((file) => /^(dev|scripts|test|infra)\//.test(file));
    expect(foreign).toEqual([]);
  });
});
