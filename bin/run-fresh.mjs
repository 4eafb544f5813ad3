// What bin/hoop.mjs and bin/gateway.mjs share: run a bundle built by `npm install`
// (scripts/build.mjs) when it is newer than every source file it was built from (listed in
// dist/<name>.sources.json); otherwise the TypeScript sources through tsx, so an edit is never
// stale. A source file added since the build is caught too: its folder's time changes.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function mtime(file) {
  try {
    return statSync(root + file).mtimeMs;
  } catch {
    return Infinity; // a source gone since the build: not fresh
  }
}

/** The source files (and their folders) `name`'s bundle was built from, or null when unknown. */
function sourcesOf(name) {
  try {
    const files = JSON.parse(readFileSync(`${root}dist/${name}.sources.json`, 'utf8'));
    return [...new Set([...files, ...files.map((f) => path.dirname(f))])];
  } catch {
    return null;
  }
}

/**
 * Imports dist/`name`.mjs (and checks the `alsoBuilt` files built with it) when each is newer than
 * every source it was built from; else registers tsx and imports `entry`.
 */
export async function runFresh({ name, alsoBuilt = [], entry }) {
  const bundle = `dist/${name}.mjs`;
  const built = Math.min(...[bundle, ...alsoBuilt].map((f) => (mtime(f) === Infinity ? -1 : mtime(f))));
  const sources = sourcesOf(name);
  if (built > 0 && sources && sources.every((s) => mtime(s) <= built)) return import(root + bundle);
  const { register } = await import('tsx/esm/api');
  register();
  return import(root + entry);
}
