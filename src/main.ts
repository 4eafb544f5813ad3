// `npm start`: the gateway — HTTP API and Slack on one port, plus the BullMQ workers.
// `npm run worker` (--workers-only): the workers alone, to share the load across processes.
import { ConfigError, loadConfig } from './config.js';
import { createGateway } from './gateway.js';
import { createLogger } from './logger.js';
import { runUntilSignal } from './run.js';

const workersOnly = process.argv.includes('--workers-only');
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel, workersOnly ? 'hoop-worker' : 'hoop');
  await runUntilSignal(createGateway({ config, log, http: !workersOnly, workers: true }), log);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
