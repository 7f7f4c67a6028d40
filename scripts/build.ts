/**
 * `npm run build`: bundles every function exactly as the CDK stack does (ESM, minified, source
 * maps, the `createRequire` banner) into `dist/<function>/index.mjs`, and prints each size.
 */
import { statSync } from 'node:fs';
import { type BuildOptions, build } from 'esbuild';
import {
  EXTERNAL_MODULES,
  entryOf,
  FUNCTIONS,
  type FunctionName,
  MAIN_FIELDS,
  NODE_TARGET,
  REQUIRE_BANNER,
} from '../infra/bundling.ts';

/** esbuild's options for every function bundle; `test/architecture` reads the same bundles. */
export const FUNCTION_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: NODE_TARGET,
  minify: true,
  sourcemap: true,
  mainFields: MAIN_FIELDS,
  banner: { js: REQUIRE_BANNER },
  external: EXTERNAL_MODULES,
  logLevel: 'warning',
} satisfies BuildOptions;

export function buildFunction(name: FunctionName, outdir = 'dist'): Promise<string> {
  return buildEntry(entryOf(name), `${outdir}/${name}/index.mjs`);
}

/** Bundles any entry with the functions' options (the cold-start yardstick uses it too). */
export async function buildEntry(entry: string, outfile: string): Promise<string> {
  await build({ ...FUNCTION_BUILD_OPTIONS, entryPoints: [entry], outfile });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const name of FUNCTIONS) {
    const file = await buildFunction(name);
    console.log(`${file}  ${(statSync(file).size / 1024).toFixed(1)} KiB`);
  }
}
