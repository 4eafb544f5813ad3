import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

const here = path.dirname(fileURLToPath(import.meta.url));

// The native schema engine is downloaded from a host that air-gapped networks (and these
// machines) cannot reach. Unless one is named explicitly, the CLI talks to our shim, which
// speaks the engine's JSON-RPC and runs Prisma's own wasm schema engine.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(here, 'scripts', 'schema-engine-wasm.mjs');

export default defineConfig({
  schema: path.join(here, 'prisma', 'schema.prisma'),
  migrations: { path: path.join(here, 'prisma', 'migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/hoop',
  },
});
