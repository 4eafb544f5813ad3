// What bin/hoop.mjs and bin/gateway.mjs share: run a bundle built by `npm install` when it is newer
// than every source it was built from; otherwise the TypeScript sources through tsx, so an edit is
// never stale.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function mtime(path) {
  try {
    return statSync(root + path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The newest modification time of `path`, or of anything under it when it is a folder. */
function newest(path) {
  let max = mtime(path);
  let entries = [];
  try {
    entries = readdirSync(root + path, { withFileTypes: true });
  } catch {
    return max;
  }
  for (const entry of entries) max = Math.max(max, newest(`${path}/${entry.name}`));
  return max;
}

/**
 * Imports `bundle` (and checks `alsoBuilt`, built with it) when each is newer than every path in
 * `sources` (files or folders, relative to the package root); else registers tsx and imports `entry`.
 */
export async function runFresh({ bundle, alsoBuilt = [], sources, entry }) {
  const built = Math.min(...[bundle, ...alsoBuilt].map(mtime));
  if (built > 0 && sources.every((s) => newest(s) <= built)) return import(root + bundle);
  const { register } = await import('tsx/esm/api');
  register();
  return import(root + entry);
}
