// Classifier throughput: statements per second and latency per statement over a mixed corpus
// (PostgreSQL's regression SQL, the classification suite, and MySQL statements).
// Prints figures and writes bench/results/classify.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { classifyMysql } from '../src/sql/classify-mysql.js';
import { classifyPostgres, loadPostgresParser } from '../src/sql/classify-postgres.js';
import { SUITE } from '../test/fixtures/classify-suite.js';

const ROUNDS = Number(process.env.ROUNDS ?? 3);

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const total = samples.reduce((a, b) => a + b, 0);
  const us = (ms: number) => Math.round(ms * 1000 * 10) / 10;
  return { statements: samples.length, perSecond: Math.round(samples.length / (total / 1000)), p50_us: us(at(50)), p99_us: us(at(99)), max_us: us(sorted.at(-1)!) };
}

function run(inputs: string[], classify: (sql: string) => unknown): number[] {
  for (const sql of inputs.slice(0, 200)) classify(sql); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const sql of inputs) {
      const t0 = performance.now();
      classify(sql);
      samples.push(performance.now() - t0);
    }
  }
  return samples;
}

async function main() {
  await loadPostgresParser();
  const shared = process.env.HOOP_SHARED_DIR ?? path.resolve('../shared');
  const corpus = readFileSync(path.join(shared, 'corpus/postgres-regress-labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).sql as string);
  const pgInputs = [...corpus, ...SUITE.map(([sql]) => sql)];
  const mysqlInputs = [
    'SELECT id, email FROM users WHERE id = 1',
    "UPDATE users SET status = 'x' WHERE id = 2",
    'DELETE FROM users',
    'SELECT u.id, count(*) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY 2 DESC LIMIT 10',
    "INSERT INTO users (id, email) VALUES (1, 'a@b.c')",
    'DROP TABLE users',
    'SHOW TABLES',
    'SELECT sleep(1), get_lock(1, 1)',
  ];
  const result = {
    bench: 'classify',
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    rounds: ROUNDS,
    postgres: { inputs: pgInputs.length, ...stats(run(pgInputs, (sql) => classifyPostgres(sql))) },
    mysql: { inputs: mysqlInputs.length, ...stats(run(Array.from({ length: 200 }, (_, i) => mysqlInputs[i % mysqlInputs.length]), classifyMysql)) },
    note: 'postgres: every statement of the regression corpus plus the classification suite, each classified whole (parse, walk, normalise)',
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/classify.json', JSON.stringify(result, null, 2) + '\n');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
