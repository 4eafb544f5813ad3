import type { Gateway } from './gateway.js';
import type { Logger } from './logger.js';

export interface RunOptions {
  log: Logger;
  /** SHUTDOWN_GRACE_SEC in ms: how long the first signal lets work in progress finish. */
  graceMs: number;
  /** Done before the gateway starts (migrations); a signal meanwhile lets it finish, then exits. */
  prepare?: () => Promise<void>;
  create: () => Gateway;
}

/** Extra time, beyond the grace bound, for closing connections before the process gives up. */
const CLOSE_BOUND_MS = 15_000;
/**
 * A repeat this soon is the same stop delivered twice, not an operator insisting: a signal to the
 * process group (systemd's default, a terminal's Ctrl-C) reaches npm, which forwards it, and us.
 */
const REPEAT_WINDOW_MS = 1000;

/**
 * Runs the gateway as a service. The first SIGTERM/SIGINT stops it gracefully (see Gateway.stop)
 * and exits 0; a second one, a second or more later, cuts the grace short (what still runs is
 * handed over) and exits 0.
 * Only a stop that cannot even close its connections exits 1.
 */
export async function runUntilSignal(opts: RunOptions): Promise<void> {
  const { log } = opts;
  const force = new AbortController();
  const starting = new AbortController();
  let gateway: Gateway | undefined;
  let started = false;
  let signalled = false;
  let firstSignalAt = 0;
  let hardTimer: NodeJS.Timeout | undefined;
  const giveUpIn = (ms: number) => {
    clearTimeout(hardTimer);
    hardTimer = setTimeout(() => {
      log.error({ ms }, 'could not stop in time; exiting');
      process.exit(1);
    }, ms);
    hardTimer.unref();
  };
  const stop = (gw: Gateway) =>
    gw.stop({ signal: force.signal }).then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      if (Date.now() - firstSignalAt < REPEAT_WINDOW_MS) return;
      log.warn({ signal }, 'second signal: handing over what still runs and stopping now');
      force.abort();
      giveUpIn(CLOSE_BOUND_MS);
      return;
    }
    signalled = true;
    firstSignalAt = Date.now();
    log.info({ signal, graceSec: opts.graceMs / 1000 }, 'stopping');
    giveUpIn(opts.graceMs + CLOSE_BOUND_MS);
    // While migrations run, start-up notices the signal when they end (a cut migration would block
    // later deploys); a gateway starting (waiting for Redis) stops waiting at once.
    if (started) void stop(gateway!);
    else starting.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    await opts.prepare?.();
  } catch (error) {
    log.fatal({ err: error }, 'the gateway could not start');
    process.exit(1);
  }
  if (signalled) {
    log.info('stopped before starting');
    process.exit(0);
  }
  gateway = opts.create();
  try {
    await gateway.start({ signal: starting.signal });
  } catch (error) {
    if (signalled) {
      log.info('stopped before serving');
      await gateway.stop({ signal: force.signal }).catch(() => {});
      process.exit(0);
    }
    log.fatal({ err: error }, 'the gateway could not start');
    await gateway.stop().catch(() => {});
    process.exit(1);
  }
  started = true;
  // A signal during start() waited for it: stop now.
  if (signalled) void stop(gateway);
}
