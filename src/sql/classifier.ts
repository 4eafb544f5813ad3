// Classification that never holds the event loop for long: small inputs are classified inline
// (microseconds), large ones in a worker thread, so /healthz, Slack's 3-second acknowledgements and
// every other request go on while a megabyte of SQL is parsed. A classification that takes too
// long fails closed: the input is `unknown`.
import { Worker } from 'node:worker_threads';
import { classifyInline, type ClassifyRequest } from './classify-inline.js';
import type { Classification } from './types.js';

export interface Classifier {
  classify(request: ClassifyRequest): Promise<Classification>;
  close(): Promise<void>;
}

export interface ClassifierOptions {
  /** Inputs of at least this many bytes go to the worker thread. */
  offloadBytes?: number;
  /** A worker classification that takes longer is abandoned (and the worker replaced). */
  timeoutMs?: number;
}

type Pending = { resolve: (c: Classification) => void; timer: NodeJS.Timeout; request: ClassifyRequest; worker: Worker };

/** What is said of input that could not be classified: `unknown`, so it never runs without review. */
function unclassified(request: ClassifyRequest, why: string): Classification {
  return {
    dialect: request.dialect,
    parsed: false,
    error: why,
    statements: [{ index: 0, kind: 'unknown', command: 'UNKNOWN', statement: request.sql.slice(0, 4096), tables: [], warnings: [`could not be classified: ${why}`] }],
  };
}

/** A classifier with one lazily started worker thread for large inputs. */
export function createClassifier(options: ClassifierOptions = {}): Classifier {
  const offloadBytes = options.offloadBytes ?? 64 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;
  let worker: { thread: Worker; ready: Promise<boolean> } | undefined;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  /** Fails closed every classification still waiting on `w` (it crashed or was replaced). */
  const settleAll = (w: Worker, why: string) => {
    for (const [id, p] of pending) {
      if (p.worker !== w) continue;
      clearTimeout(p.timer);
      pending.delete(id);
      p.resolve(unclassified(p.request, why));
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
    w.on('message', (m: { id?: number; ready?: boolean; result?: Classification; error?: string }) => {
      if (m.ready) {
        clearTimeout(boot);
        booted(true);
      }
      if (m.id === undefined) return;
      const p = pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      pending.delete(m.id);
      p.resolve(m.result ?? unclassified(p.request, m.error ?? 'the classifier failed'));
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

  return {
    async classify(request) {
      if (Buffer.byteLength(request.sql) < offloadBytes) return classifyInline(request);
      const current = (worker ??= start());
      if (!(await current.ready)) return unclassified(request, 'the classifier could not start');
      const w = current.thread;
      const id = nextId++;
      return new Promise<Classification>((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve(unclassified(request, `it took longer than ${Math.round(timeoutMs / 1000)} s`));
          // The worker may be stuck on this input: replace it (others in flight fail closed too).
          if (worker?.thread === w) worker = undefined;
          void w.terminate();
        }, timeoutMs);
        pending.set(id, { resolve, timer, request, worker: w });
        w.postMessage({ id, ...request });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.thread.terminate();
    },
  };
}
