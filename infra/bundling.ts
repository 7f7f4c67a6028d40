/**
 * How every function is bundled, in one place: used by the CDK `NodejsFunction`s and by
 * `npm run build` (which the bundle smoke test and the benchmark load), so what is tested
 * is what is deployed.
 */

/** Every function: its folder under `functions/`, its handler file and export. */
export const FUNCTIONS = [
  'health',
  'checkout',
  'recovery',
  'migrate',
  'operator',
  'webhooks',
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export const entryOf = (name: FunctionName) => `functions/${name}/handler.ts`;

/**
 * An ESM bundle of CommonJS dependencies (the AWS SDK, pg) calls `require` for Node built-ins;
 * esbuild's ESM output has no `require`, so one is made from `import.meta.url`. Without it
 * the bundle dies at import: `Dynamic require of "node:https" is not supported`.
 */
export const REQUIRE_BANNER =
  "import { createRequire as __checkoutCreateRequire } from 'node:module'; const require = __checkoutCreateRequire(import.meta.url);";

/**
 * Never bundled: PGlite is only the local default (its WASM is megabytes and never chosen on
 * Lambda); `pg-native` is an optional peer of `pg` that is not installed.
 */
export const EXTERNAL_MODULES = ['@electric-sql/pglite', 'pg-native'];

export const NODE_TARGET = 'node22';

/** Prefer the ESM build of a dependency (smaller, tree-shakable), then its CommonJS `main`. */
export const MAIN_FIELDS = ['module', 'main'];
