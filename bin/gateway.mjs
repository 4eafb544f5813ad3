#!/usr/bin/env node
// The gateway (`npm start`, `npm run worker`): the bundle dist/gateway.mjs when it is newer than
// every source file it was built from, else the sources through tsx.
import { runFresh } from './run-fresh.mjs';

await runFresh({ name: 'gateway', alsoBuilt: ['dist/classify-worker.mjs'], entry: 'src/main.ts' });
