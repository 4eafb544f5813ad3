#!/usr/bin/env node
// The `hoop` command. Runs the bundle (dist/hoop.mjs, built by `npm install`) when it is newer than
// every CLI source file; otherwise the TypeScript sources through tsx, so an edit is never stale.
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
const bundle = mtime('dist/hoop.mjs');
const sources = ['src/contracts/review-view.ts', ...readdirSync(root + 'src/cli').map((f) => `src/cli/${f}`)];
if (bundle > 0 && sources.every((f) => mtime(f) <= bundle)) {
  await import('../dist/hoop.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/index.ts');
}
