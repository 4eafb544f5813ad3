// Classification (and column lineage) that never holds the event loop for long: small inputs are
// handled inline (microseconds), larger ones in a worker thread, so /healthz, Slack's 3-second
// acknowledgements and every other request go on while a megabyte of SQL is parsed — or while a few
// kilobytes the parser finds hard (nested comments cost it quadratic time) are. Work that takes too
// long fails closed: the input is `unknown`, its output untraceable.
import { Worker } from 'node:worker_threads';
import { classifyInline, lineageInline, type ClassifyRequest, type LineageJob } from './classify-inline.js';
import type { StatementLineage } from './lineage-postgres.js';
import type { Classification } from './types.js';

export interface Classifier {
  classify(request: ClassifyRequest): Promise<Classification>;
  /** Column lineage of an input against the target's catalog; null when it cannot be traced. */
  lineage(job: LineageJob): Promise<StatementLineage[] | null>;
  close(): Promise<void>;
}

export interface ClassifierOptions {
  /** Inputs of at least this many bytes go to the worker thread. */
  offloadBytes?: number;
  /** Work in the worker that takes longer is abandoned (and the worker replaced). */
  timeoutMs?: number;
}

type Task = { task: 'classify'; job: ClassifyRequest } | { task: 'lineage'; job: LineageJob };
type Pending = { resolve: (value: unknown) => void; fallback: (why: string) => unknown; timer: NodeJS.Timeout; worker: Worker };

/** What is said of input that could not be classified: `unknown`, so it never runs without review. */
function unclassified(request: ClassifyRequest, why: string): Classification {
  return {
    dialect: request.dialect,
    parsed: false,
    error: why,
    statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: request.sql.slice(0, 4096), tables: [], warnings: [`could not be classified: ${why}`] }],
  };
}

/** A classifier with one lazily started worker thread for larger inputs. */
export function createClassifier(options: ClassifierOptions = {}): Classifier {
  // Small enough that the parser's worst case on it (quadratic nested comments) stays a few ms.
  const offloadBytes = options.offloadBytes ?? 4 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let worker: { thread: Worker; ready: Promise<boolean> } | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  /** Settles every task still waiting on `w` (it crashed or was replaced) the fail-closed way. */
  const settleAll = (w: Worker, why: string) => {
    for (const [id, p] of pending) {
      if (p.worker !== w) continue;
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve(p.fallback(why));
    }
  };

  const start = (): { thread: Worker; ready: Promise<boolean> } => {
    const w = new Worker(new URL('./classify-worker.mjs', import.meta.url));
    w.unref();
    let booted!: (ok: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (booted = resolve));
    const boot = setTimeout(() => {
      booted(false);
      void w.terminate();
    }, 30_000);
    boot.unref();
    w.on('message', (m: { id?: number; ready?: boolean; result?: unknown; error?: string }) => {
      if (m.ready) {
        clearTimeout(boot);
        booted(true);
      }
      if (m.id === undefined) return;
      const p = pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      pending.delete(m.id);
      p.resolve(m.error === undefined ? m.result : p.fallback(m.error));
    });
    w.on('error', (error) => settleAll(w, `the classifier failed (${error.message})`));
    w.on('exit', () => {
      clearTimeout(boot);
      booted(false);
      if (worker?.thread === w) worker = undefined;
      settleAll(w, 'the classifier stopped');
    });
    return { thread: w, ready };
  };

  async function offload<T>(task: Task, fallback: (why: string) => T): Promise<T> {
    const current = (worker ??= start());
    if (!(await current.ready)) return fallback('the classifier could not start');
    const w = current.thread;
    const id = nextId++;
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        resolve(fallback(`it took longer than ${Math.round(timeoutMs / 1000)} s`));
        // The worker may be stuck on this input: replace it (others in flight fail closed too).
        if (worker?.thread === w) worker = undefined;
        void w.terminate();
      }, timeoutMs);
      pending.set(id, { resolve: resolve as (value: unknown) => void, fallback, timer, worker: w });
      w.postMessage({ id, ...task });
    });
  }

  return {
    async classify(request) {
      if (Buffer.byteLength(request.sql) < offloadBytes) return classifyInline(request);
      return offload({ task: 'classify', job: request }, (why) => unclassified(request, why));
    },
    async lineage(job) {
      if (Buffer.byteLength(job.sql) < offloadBytes) return lineageInline(job);
      return offload({ task: 'lineage', job }, () => null);
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.thread.terminate();
    },
  };
}
