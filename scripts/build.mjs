// Bundles what `npm install` prepares (dependencies stay external): the `hoop` CLI into
// dist/hoop.mjs, and the gateway into dist/gateway.mjs with its classification worker thread
// (dist/classify-worker.mjs). A bundle starts faster than compiling TypeScript on every run and
// holds less memory than tsx's loader (bench/pending-memory.ts). Each bundle's source files are
// listed in dist/<name>.sources.json: bin/run-fresh.mjs runs the sources instead when one of them
// is newer than the bundle, so an edit is never stale.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', metafile: true };

/** Writes the sources a build read (ours, not node_modules) next to its bundle. */
function listSources(name, result) {
  const sources = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/')).sort();
  writeFileSync(`dist/${name}.sources.json`, `${JSON.stringify(sources, null, 1)}\n`);
}

// Always React's production build, whatever NODE_ENV the caller has (vitest sets "test").
process.env.NODE_ENV = 'production';
const web = viteBuild({ configFile: 'web/vite.config.ts', logLevel: 'warn', mode: 'production' });
const [cli, gateway] = await Promise.all([
  // Split: what one command alone needs (the SQL parsers of `hoop sql classify`) is a chunk loaded
  // when that command runs, so every other command starts without compiling it.
  build({ ...common, entryPoints: { hoop: 'src/cli/index.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' }, splitting: true, chunkNames: 'chunks/hoop-[name]-[hash]' }),
  build({ ...common, entryPoints: { gateway: 'src/main.ts', 'classify-worker': 'src/sql/classify-worker.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } }),
]);
listSources('hoop', cli);
// Chunks of earlier builds (their names carry a hash of their content) would pile up. Removed
// after this build wrote its own, so a CLI running meanwhile never finds its chunk missing.
const kept = new Set(Object.keys(cli.metafile.outputs));
if (existsSync('dist/chunks')) for (const f of readdirSync('dist/chunks')) if (!kept.has(`dist/chunks/${f}`)) rmSync(`dist/chunks/${f}`);
listSources('gateway', gateway);
await web;
