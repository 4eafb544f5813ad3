#!/usr/bin/env node
// The `hoop` command: the bundle dist/hoop.mjs when it is newer than every source file it was
// built from, else the sources through tsx.
import { runFresh } from './run-fresh.mjs';

await runFresh({ name: 'hoop', entry: 'src/cli/index.ts' });
