import type { Gateway } from './gateway.js';
import type { Logger } from './logger.js';

/** Starts `gateway` and stops it cleanly on SIGINT/SIGTERM. */
export async function runUntilSignal(gateway: Gateway, log: Logger): Promise<void> {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await gateway.stop().catch((err) => log.error({ err }, 'error while stopping'));
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    await gateway.start();
  } catch (error) {
    log.fatal({ err: error }, 'the gateway could not start');
    await gateway.stop().catch(() => {});
    process.exit(1);
  }
}
