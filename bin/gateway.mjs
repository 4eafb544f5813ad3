#!/usr/bin/env node
// The gateway (`npm start`, `npm run worker`). Runs the bundle (dist/gateway.mjs, built by
// `npm install`) when it is newer than every source file; otherwise the TypeScript sources through
// tsx, so an edit is never stale.
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
/** The newest modification time under `dir` (the generated Prisma client included). */
function newest(dir) {
  let max = mtime(dir);
  for (const entry of readdirSync(root + dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    max = Math.max(max, entry.isDirectory() ? newest(path) : mtime(path));
  }
  return max;
}
const bundle = Math.min(mtime('dist/gateway.mjs'), mtime('dist/classify-worker.mjs'));
if (bundle > 0 && newest('src') <= bundle) {
  await import('../dist/gateway.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
