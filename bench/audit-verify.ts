// How long `hoop admin audit verify` takes over a million audit events (issue 12: "seconds, not
// minutes"). Writes 1,000,000 events in SQL (generate_series, through the insert trigger, details
// shaped like a read's audit), links them with the chainer, then times verify and, in the same run,
// a baseline: one plain read of every event (count and the length of each detail) with nothing
// hashed or compared, so what verify adds is visible. Prints the figures; writes
// bench/results/audit-verify.json. AUDIT_BENCH_N changes n.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import setup from '../test/global-setup.js';
import { createStateDatabase } from '../test/helpers/databases.js';
import { chainAuditEvents } from '../src/db/audit-chain.js';
import { verifyAuditChain } from '../src/db/audit-verify.js';

const N = Number(process.env.AUDIT_BENCH_N ?? 1_000_000);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e9];
}

async function main(): Promise<void> {
  const teardown = await setup();
  const state = await createStateDatabase();
  const pool = new pg.Pool({ connectionString: state.url, max: 4 });
  try {
    const [, insertSec] = await timed(() =>
      pool.query(
        `INSERT INTO "AuditEvent" ("actorId", "actor", "action", "source", "detail", "ip", "userAgent", "createdAt")
         SELECT gen_random_uuid(), 'user' || (i % 500) || '@example.com', (ARRAY['read.started','read.executed','review.created','review.approved'])[1 + i % 4], 'api',
                jsonb_build_object('readId', md5(i::text), 'connection', 'prod-db', 'input', 'SELECT * FROM users WHERE id = ' || i, 'tables', jsonb_build_array('public.users'), 'rows', i % 100, 'durationMs', (i % 1000) / 10.0),
                '10.0.' || (i % 250) || '.' || (i % 200), 'hoop-cli/0.1 node/20', timezone('UTC', now()) - make_interval(secs => ($1 - i) / 10.0)
           FROM generate_series(1, $1::int) AS i`,
        [N],
      ),
    );
    console.log(`inserted ${N} events in ${insertSec.toFixed(1)} s`);
    const [linked, chainSec] = await timed(() => chainAuditEvents(pool));
    console.log(`chained ${linked} in ${chainSec.toFixed(1)} s`);
    await pool.query('VACUUM ANALYZE "AuditEvent"');
    const bytes = Number((await pool.query(`SELECT pg_total_relation_size('"AuditEvent"') AS b`)).rows[0].b);

    // Baseline: every event read once by PostgreSQL, nothing hashed or compared.
    const [, selectSec] = await timed(() => pool.query(`SELECT count(*), sum(octet_length(a."detail"::text)) FROM "AuditEvent" a`));
    const [report, verifySec] = await timed(() => verifyAuditChain(pool));
    if (!report.ok || report.events !== N) throw new Error(`verify did not pass over the bench's chain: ${JSON.stringify(report).slice(0, 500)}`);
    console.log(`baseline (read every event once, nothing hashed): ${selectSec.toFixed(2)} s`);
    console.log(`verify ${report.events} events: ${verifySec.toFixed(2)} s (${Math.round(report.events / verifySec)} events/s); hashing and checks add ${(verifySec - selectSec).toFixed(2)} s`);
    const out = {
      at: new Date().toISOString(),
      n: N,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model.split(' ').slice(0, 2).join(' '), node: process.version },
      tableBytes: bytes,
      setup: { insertSec: round(insertSec), chainSec: round(chainSec), chainEventsPerSec: Math.round(linked / chainSec) },
      target: 'seconds, not minutes (met: under 15 s on this 2-core machine)',
      result: { verifySec: round(verifySec), eventsPerSec: Math.round(report.events / verifySec), baselineSelectSec: round(selectSec), hashingAndChecksSec: round(verifySec - selectSec), ok: report.ok, met: verifySec < 15 },
    };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(process.env.AUDIT_VERIFY_OUT ?? 'bench/results/audit-verify.json', JSON.stringify(out, null, 2) + '\n');
  } finally {
    await pool.end();
    await state.drop();
    await teardown();
  }
}

const round = (s: number) => Math.round(s * 100) / 100;
await main();
