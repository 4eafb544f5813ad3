// Bundles what `npm install` prepares (dependencies stay external): the `hoop` CLI into
// dist/hoop.mjs, and the gateway into dist/gateway.mjs with its classification worker thread
// (dist/classify-worker.mjs). A bundle starts faster than compiling TypeScript on every run and
// holds less memory than tsx's loader (bench/pending-memory.ts). Each bundle's source files are
// listed in dist/<name>.sources.json: bin/run-fresh.mjs runs the sources instead when one of them
// is newer than the bundle, so an edit is never stale.
import { writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning', metafile: true };

/** Writes the sources a build read (ours, not node_modules) next to its bundle. */
function listSources(name, result) {
  const sources = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/')).sort();
  writeFileSync(`dist/${name}.sources.json`, `${JSON.stringify(sources, null, 1)}\n`);
}

const [cli, gateway] = await Promise.all([
  build({ ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/hoop.mjs' }),
  build({ ...common, entryPoints: { gateway: 'src/main.ts', 'classify-worker': 'src/sql/classify-worker.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } }),
]);
listSources('hoop', cli);
listSources('gateway', gateway);
