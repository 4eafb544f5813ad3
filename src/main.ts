// `npm start`: the gateway — HTTP API and Slack on one port, plus the BullMQ workers.
// `npm run worker` (--workers-only): the workers alone, to share the load across processes.
// Both apply pending migrations first (MIGRATE_ON_START) and stop gracefully on SIGTERM/SIGINT.
import { ConfigError, loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';
import { applyMigrations } from './apply-migrations.js';
import { runUntilSignal } from './run.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const workersOnly = process.argv.includes('--workers-only');
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel, workersOnly ? 'hoop-worker' : 'hoop');
  // Which code runs: the bundle npm install built (dist/gateway.mjs) or the sources (src/main.ts).
  const self = fileURLToPath(import.meta.url);
  log.info({ code: `${path.basename(path.dirname(self))}/${path.basename(self)}`, node: process.version }, 'starting');
  await runUntilSignal({
    log,
    graceMs: config.shutdownGraceMs,
    prepare: config.migrateOnStart ? () => applyMigrations(config.databaseUrl, log) : undefined,
    create: () => createGateway({ config, log, http: !workersOnly, workers: true }),
  });
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
