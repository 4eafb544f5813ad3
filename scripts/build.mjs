// Bundles what `npm install` prepares (dependencies stay external): the `hoop` CLI into
// dist/hoop.mjs, and the gateway into dist/gateway.mjs with its classification worker thread
// (dist/classify-worker.mjs). A bundle starts faster than compiling TypeScript on every run and
// holds less memory than tsx's loader (bench/pending-memory.ts); bin/hoop.mjs and bin/gateway.mjs
// fall back to the sources when a bundle is older than them, so an edit is never stale.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['src/cli/index.ts'], outfile: 'dist/hoop.mjs' }),
  build({ ...common, entryPoints: { gateway: 'src/main.ts', 'classify-worker': 'src/sql/classify-worker.ts' }, outdir: 'dist', outExtension: { '.js': '.mjs' } }),
]);
