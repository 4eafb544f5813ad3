#!/usr/bin/env node
// The `hoop` command. Runs the bundle (dist/hoop.mjs, built by `npm install`) when it is newer than
// every source file it bundles; otherwise the TypeScript sources through tsx, so an edit is never stale.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const mtime = (path) => {
  try {
    return statSync(root + path).mtimeMs;
  } catch {
    return -1;
  }
};
/** The newest modification time under `dir`. */
function newest(dir) {
  let max = mtime(dir);
  try {
    for (const entry of readdirSync(root + dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      max = Math.max(max, entry.isDirectory() ? newest(path) : mtime(path));
    }
  } catch {
    // not there: nothing newer in it
  }
  return max;
}
const bundle = mtime('dist/hoop.mjs');
// Every directory the bundle takes sources from (`hoop sql classify` bundles src/sql).
const sources = ['src/cli', 'src/contracts', 'src/sql'];
if (bundle > 0 && sources.every((d) => newest(d) <= bundle)) {
  await import('../dist/hoop.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
