#!/usr/bin/env node
// The gateway (`npm start`, `npm run worker`): the bundle dist/gateway.mjs when it is newer than
// every source file (the generated Prisma client included), else the sources through tsx.
import { runFresh } from './run-fresh.mjs';

await runFresh({ bundle: 'dist/gateway.mjs', alsoBuilt: ['dist/classify-worker.mjs'], sources: ['src'], entry: 'src/main.ts' });
