#!/usr/bin/env node
// The `hoop` command: runs src/cli (TypeScript) through tsx's loader, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
