// Classification time against input size: 1k, 10k and 100k statements in one request. Prints, per
// size, PostgreSQL's own parse of the input (the floor, measured in the same run), the gateway's
// whole classification inline, the same through the worker thread, the time per statement, and the
// longest stall of the event loop while the worker classified (what /healthz and Slack would wait).
// Writes bench/results/classify-scaling.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseSync } from 'libpg-query';
import { createClassifier } from '../src/sql/classifier.js';
import { classifyPostgres, loadPostgresParser } from '../src/sql/classify-postgres.js';

const SIZES = (process.env.SIZES ?? '1000,10000,100000').split(',').map(Number);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const STATEMENTS = ['SELECT id, email FROM users WHERE id = 1;', "UPDATE users SET status = 'x' WHERE id = 2;", 'SELECT 1;', 'DELETE FROM orders WHERE id IN (1, 2, 3);'];

function input(n: number): string {
  return Array.from({ length: n }, (_, i) => STATEMENTS[i % STATEMENTS.length]).join('\n');
}

function best(fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

async function workerRun(classifier: ReturnType<typeof createClassifier>, sql: string): Promise<{ ms: number; maxStallMs: number }> {
  let last = performance.now();
  let maxStallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  await classifier.classify({ dialect: 'postgres', sql, options: { maxStatements: Number.MAX_SAFE_INTEGER } });
  const ms = performance.now() - t0;
  clearInterval(tick);
  return { ms, maxStallMs };
}

async function main() {
  await loadPostgresParser();
  const classifier = createClassifier({ offloadBytes: 1, timeoutMs: 120_000 });
  await classifier.classify({ dialect: 'postgres', sql: 'SELECT 1', options: {} }); // start the worker
  const rows = [];
  for (const n of SIZES) {
    const sql = input(n);
    const parseMs = best(() => parseSync(sql));
    const inlineMs = best(() => classifyPostgres(sql));
    const worker = await workerRun(classifier, sql);
    rows.push({
      statements: n,
      bytes: Buffer.byteLength(sql),
      parse_ms: Math.round(parseMs),
      classify_inline_ms: Math.round(inlineMs),
      classify_worker_ms: Math.round(worker.ms),
      per_statement_us: Math.round((inlineMs * 1000) / n * 10) / 10,
      classify_over_parse: Math.round((inlineMs / parseMs) * 10) / 10,
      event_loop_max_stall_ms: Math.round(worker.maxStallMs),
    });
  }
  await classifier.close();
  const first = rows[0];
  const last = rows.at(-1)!;
  const result = {
    bench: 'classify-scaling',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    rounds: ROUNDS,
    rows,
    // Linear: time per statement stays flat from the smallest to the largest input.
    growth_per_statement: Math.round((last.per_statement_us / first.per_statement_us) * 100) / 100,
    note: 'parse_ms is libpg-query alone on the same input (the floor); classify includes splitting, kinds, nested statements and normalisation; the worker figure includes the copy to and from the worker thread',
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/classify-scaling.json', JSON.stringify(result, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
