// Runs the audit chain (audit-chain.ts) in this process: shortly after events are written (the
// writer nudges it; a short debounce lets the writing transaction commit and gathers a burst into
// one run) and on a timer, which links whatever a nudge found still running. Every process runs
// one; their runs take turns on the chain's lock. Also logs the chain's head at a fixed interval,
// so the head can be kept outside the database (see the README, "Audit trail: tamper evidence").
import type pg from 'pg';
import { chainAuditEvents, chainHead } from './audit-chain.js';
import { onAuditWritten } from './audit-chain-nudge.js';

export interface AuditChainerOptions {
  pool: pg.Pool;
  log: { info: (obj: object, msg: string) => void; warn: (obj: object, msg: string) => void };
  /** The timer's period. */
  intervalMs?: number;
  /** How long after a write the run starts. */
  debounceMs?: number;
  /** AUDIT_HEAD_LOG_SEC: how often the head is logged; 0: never. */
  headLogSec: number;
}

export interface AuditChainer {
  start(): void;
  /** Links what is committed now (waits for runs under way here and in other processes first). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Builds this process's chainer; nothing runs until start(). */
export function createAuditChainer(opts: AuditChainerOptions): AuditChainer {
  let running: Promise<number> | null = null;
  let debounce: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let headTimer: NodeJS.Timeout | undefined;
  let off: (() => void) | undefined;
  let stopped = false;

  function run(wait = false): Promise<number> {
    // A run already under way may have started before the caller's events committed.
    if (running) return running.then(() => run(wait));
    running = chainAuditEvents(opts.pool, { wait })
      .catch((err: Error) => {
        opts.log.warn({ err: err.message }, 'the audit chain run failed; the next one retries');
        return 0;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  function nudge(): void {
    if (stopped || debounce) return;
    debounce = setTimeout(() => {
      debounce = undefined;
      void run();
    }, opts.debounceMs ?? 200);
    debounce.unref();
  }

  async function logHead(): Promise<void> {
    try {
      const head = await chainHead(opts.pool);
      opts.log.info({ auditHead: { events: head ? Number(head.chainSeq) : 0, hash: head?.hash ?? null, id: head?.id ?? null } }, 'audit chain head (keep it outside the database: hoop admin audit verify --expect-head HASH)');
    } catch (err) {
      opts.log.warn({ err: (err as Error).message }, 'could not read the audit chain head');
    }
  }

  return {
    start() {
      off = onAuditWritten(nudge);
      timer = setInterval(() => void run(), opts.intervalMs ?? 5_000);
      timer.unref();
      if (opts.headLogSec > 0) {
        headTimer = setInterval(() => void logHead(), opts.headLogSec * 1000);
        headTimer.unref();
      }
      void run();
    },
    runOnce: () => run(true),
    async stop() {
      stopped = true;
      off?.();
      clearTimeout(debounce);
      clearInterval(timer);
      clearInterval(headTimer);
      await running;
    },
  };
}
