// GET /api/analytics on a million requests: how long the analytics of a year and of a month take.
//
// The requests are inserted by PostgreSQL itself (generate_series): ANALYTICS_N requests (default
// 1,000,000) spread evenly over the year before the run, on 5 connections, by 20 requesters, each
// with one reviewer group (dba-team) and every other one a second (security); 60% executed, 10%
// rejected, 10% expired, 10% failed, 10% approved, a few pending; decisions 1 s to 2 h after the
// request; 50 command patterns; then VACUUM ANALYZE, as autovacuum would leave tables this size.
// Then GET /api/analytics (the real route, as an admin: every row counts) is timed for the year and for the last 30 days, ANALYTICS_RUNS times each (median and
// max), after one warm-up run each.
//
// Baseline from the same run: PostgreSQL's own time for `SELECT count(*)` over the same rows (the
// least any answer over them costs), through the same pool.
// Prints the figures and the ratio to the baseline; writes bench/results/analytics.json (or
// ANALYTICS_OUT). A quick run: ANALYTICS_N=100000 ANALYTICS_RUNS=3 ANALYTICS_OUT=/tmp/a.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import setup from '../test/global-setup.js';
import { createTargetDatabase } from '../test/helpers/databases.js';
import { startTestGateway } from '../test/helpers/gateway.js';
import { classifyPostgres, loadPostgresParser } from '../src/sql/classify-postgres.js';
import { classifyMysql } from '../src/sql/classify-mysql.js';
import { fingerprintOf } from '../src/sql/fingerprint.js';

const N = Number(process.env.ANALYTICS_N ?? 1_000_000);
const RUNS = Number(process.env.ANALYTICS_RUNS ?? 5);
const DAY = 86_400_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number) => Math.round(x * 10) / 10;

async function time(fn: () => Promise<unknown>): Promise<{ medianMs: number; maxMs: number }> {
  await fn(); // warm-up: the first run reads the table into the cache
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return { medianMs: round(median(ms)), maxMs: round(Math.max(...ms)) };
}

/** Microseconds per call of fingerprintOf (run once per request, where it is classified) and of the classifier itself. */
async function fingerprintCost() {
  await loadPostgresParser();
  const sql = "UPDATE accounts SET balance = balance - 100 WHERE id = 42 AND name = 'bob'";
  const per = (fn: () => unknown) => {
    for (let i = 0; i < 500; i++) fn();
    const start = performance.now();
    for (let i = 0; i < 5000; i++) fn();
    return round(((performance.now() - start) * 1000) / 5000);
  };
  return {
    statement: sql,
    postgresFingerprintUs: per(() => fingerprintOf('postgres', sql)),
    postgresClassifyUs: per(() => classifyPostgres(sql)),
    mysqlFingerprintUs: per(() => fingerprintOf('mysql', sql)),
    mysqlClassifyUs: per(() => classifyMysql(sql)),
  };
}

/** The API and the baseline over the same rows, and how many times the baseline the API takes. */
async function measure(requests: number, api: () => Promise<unknown>, baseline: () => Promise<unknown>) {
  const a = await time(api);
  const b = await time(baseline);
  return { requests, api: a, baselineCount: b, ratioToBaseline: round(a.medianMs / b.medianMs) };
}

async function main() {
  const fingerprint = await fingerprintCost();
  console.log(`fingerprint per request: PostgreSQL ${fingerprint.postgresFingerprintUs} µs (its classification ${fingerprint.postgresClassifyUs} µs), MySQL ${fingerprint.mysqlFingerprintUs} µs (its classification ${fingerprint.mysqlClassifyUs} µs)`);
  const teardown = await setup();
  const target = await createTargetDatabase();
  const t = await startTestGateway({ slack: false, sweepIntervalMs: 3_600_000, env: { LOG_LEVEL: 'warn' } });
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    const users: string[] = [];
    for (let i = 0; i < 20; i++) users.push((await t.createUser(`user${i}@example.com`, ['developers'])).id);
    const connections: string[] = [];
    for (let i = 0; i < 5; i++) {
      await t.api('POST', '/api/connections', { body: { name: `db-${i}`, url: target.url, reviewers: ['dba-team', 'security'] } });
      connections.push((await client.query(`SELECT id FROM "Connection" WHERE name = $1`, [`db-${i}`])).rows[0].id);
    }
    const to = new Date(Math.floor(Date.now() / DAY) * DAY);
    const from = new Date(to.getTime() - 365 * DAY);
    const monthFrom = new Date(to.getTime() - 30 * DAY);
    const insertStart = performance.now();
    await client.query(
      `INSERT INTO "Review" (id, "connectionId", "requesterId", input, status, "autoApproved", "createdAt", "expiresAt", "decidedAt", "commandTags", fingerprint)
       SELECT gen_random_uuid(), ($1::uuid[])[1 + i % 5], ($2::uuid[])[1 + (i * 7) % 20],
              'SELECT * FROM table_' || (i % 50) || ' WHERE id = ' || i,
              s.status::"ReviewStatus", false, c.created, c.created + interval '1 hour',
              CASE WHEN s.status IN ('EXPIRED', 'PENDING') THEN NULL ELSE c.created + make_interval(secs => 1 + (i * 37) % 7200) END,
              '{}', 'pg:' || left(md5((i % 50)::text), 16)
       FROM generate_series(1, $3::int) AS i
       CROSS JOIN LATERAL (SELECT $4::timestamp + (i - 1) * (interval '365 days' / $3::int) AS created) c
       CROSS JOIN LATERAL (SELECT CASE WHEN i % 100000 = 0 THEN 'PENDING'
                                       ELSE (ARRAY['EXECUTED','EXECUTED','EXECUTED','EXECUTED','EXECUTED','EXECUTED','REJECTED','EXPIRED','FAILED','APPROVED'])[1 + i % 10] END AS status) s`,
      [connections, users, N, from.toISOString().replace('Z', '')],
    );
    await client.query(
      `INSERT INTO "ReviewGroup" (id, "reviewId", "group", status, "reviewerId", "decidedAt")
       SELECT gen_random_uuid(), r.id, g.name,
              (CASE WHEN r."decidedAt" IS NULL THEN 'PENDING' WHEN r.status = 'REJECTED' THEN 'REJECTED' ELSE 'APPROVED' END)::"GroupStatus",
              NULL, r."decidedAt" - CASE WHEN g.name = 'dba-team' THEN interval '0' ELSE interval '1 second' END
       FROM "Review" r CROSS JOIN LATERAL (SELECT 'dba-team' AS name UNION ALL SELECT 'security' WHERE hashtext(r.id::text) % 2 = 0) g`,
    );
    const insertSec = round((performance.now() - insertStart) / 1000);
    // As autovacuum would leave a table this size: statistics, and the visibility map that lets the
    // analytics answer from their covering indexes alone (index-only scans).
    const vacuumStart = performance.now();
    await client.query('VACUUM ANALYZE "Review"');
    await client.query('VACUUM ANALYZE "ReviewGroup"');
    const vacuumSec = round((performance.now() - vacuumStart) / 1000);
    const groupRows = Number((await client.query('SELECT count(*) FROM "ReviewGroup"')).rows[0].count);
    console.log(`inserted ${N.toLocaleString('en-US')} requests and ${groupRows.toLocaleString('en-US')} group rows in ${insertSec} s; VACUUM ANALYZE ${vacuumSec} s`);

    const get = async (f: Date) => {
      const res = await t.api('GET', `/api/analytics?from=${f.toISOString()}&to=${to.toISOString()}`);
      if (res.status !== 200) throw new Error(`GET /api/analytics answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const year = await get(from);
    const month = await get(monthFrom);
    const countIn = (f: Date) => client.query(`SELECT count(*) FROM "Review" WHERE "createdAt" >= $1 AND "createdAt" < $2`, [f.toISOString().replace('Z', ''), to.toISOString().replace('Z', '')]);
    const out = {
      requests: N,
      groupRows,
      insertSec,
      vacuumSec,
      runs: RUNS,
      fingerprint,
      year: await measure(year.totals.requests, () => get(from), () => countIn(from)),
      month: await measure(month.totals.requests, () => get(monthFrom), () => countIn(monthFrom)),
      machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, postgres: (await client.query('SHOW server_version')).rows[0].server_version },
      date: new Date().toISOString(),
    };
    for (const k of ['year', 'month'] as const) {
      const r = out[k];
      console.log(`${k}: ${r.requests.toLocaleString('en-US')} requests — GET /api/analytics median ${r.api.medianMs} ms (max ${r.api.maxMs}); SELECT count(*) over the same rows median ${r.baselineCount.medianMs} ms; ratio ${r.ratioToBaseline}`);
    }
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(process.env.ANALYTICS_OUT ?? 'bench/results/analytics.json', JSON.stringify(out, null, 2) + '\n');
  } finally {
    await client.end();
    await t.stop();
    await target.drop();
    await teardown?.();
  }
}

await main();
