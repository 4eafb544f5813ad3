#!/usr/bin/env node
// The `hoop` command: the bundle dist/hoop.mjs when it is newer than every CLI source file, else
// the sources through tsx.
import { runFresh } from './run-fresh.mjs';

await runFresh({ bundle: 'dist/hoop.mjs', sources: ['src/contracts/review-view.ts', 'src/cli'], entry: 'src/cli/index.ts' });
