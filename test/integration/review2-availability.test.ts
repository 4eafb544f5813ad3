// Second outside review of issue 7: single requests, from any user who may use a connection, that
// hold the gateway's event loop for tens of seconds to hours, or that make approved commands fail.
// The README: "One request cannot stop the gateway".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget, createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let pgTarget: Awaited<ReturnType<typeof createTargetDatabase>>;
let myTarget: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let bob: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const exec = (key: string, connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key, body: { input } });

/**
 * The longest time /healthz could not be answered while `during` runs: it is asked every 50 ms; the
 * gateway runs in this process, so a gap between two rounds is a time its event loop was held.
 */
/** The longest /healthz stall while `during` runs, and its answer (checked too: a fast refusal proves nothing). */
async function healthzDuring<T>(during: Promise<T>): Promise<{ took: number; res: T }> {
  let done = false;
  void during.finally(() => (done = true));
  let worst = 0;
  let last = Date.now();
  while (!done) {
    await fetch(`${t.baseUrl}/healthz`);
    await new Promise((r) => setTimeout(r, 50));
    worst = Math.max(worst, Date.now() - last - 50);
    last = Date.now();
  }
  return { took: worst, res: await during };
}

beforeAll(async () => {
  pgTarget = await createTargetDatabase();
  myTarget = await createMysqlTarget();
  t = await startTestGateway({
    // A small pool, so the starvation test needs few sessions; the defaults behave the same with 10.
    env: { TARGET_POOL_MAX: '2', TARGET_QUEUE_MAX: '1', TARGET_QUEUE_WAIT_MS: '500', STATEMENT_TIMEOUT_MS: '15000' },
  });
  alice = await t.createUser('alice@example.com', ['developers']);
  bob = await t.createUser('bob@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  for (const [name, url, extra] of [
    ['pg', pgTarget.url, { maskColumns: ['email'] }],
    ['pgd', pgTarget.url, { maskDetectors: ['email'] }],
    ['my', myTarget.url, {}],
    // Runs without review (no reviewer groups; reviewMode "none" is the same), masking a column.
    ['pgdirect', pgTarget.url, { maskColumns: ['email'], reviewers: [] }],
  ] as const) {
    expect((await t.api('POST', '/api/connections', { body: { name, url, reviewers: ['dba-team'], ...extra } })).status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await pgTarget?.drop();
  await myTarget?.drop();
});

// Second review, finding K (fixed; high) — the email detector's pattern `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`
// is quadratic on a long run of letters without '@' (each start position scans to the end). Every
// value of a masked column goes through *all* detectors (masking.ts maskValue → maskText(value,
// DETECTORS)), and every value of a connection with the email detector through that one; a value may
// be OUTPUT_MAX_BYTES (256 KiB) long (keep-budget.ts cellChars), two of them per request. One such
// auto-run read blocked the event loop 38 s (262,144 characters); /healthz, Slack's 3-second acks and
// every other request wait. It runs in src/execution/output.ts maskResults, on the main thread.
describe('the masking detectors do not hold the event loop', () => {
  it.each([
    ['a masked column (all detectors run on it)', 'pg', "SELECT email || ' ' || repeat('a', 150000) AS x FROM users WHERE id = 1"],
    ['any value on a connection with the email detector', 'pgd', "SELECT repeat('a', 150000) AS x"],
  ])('%s', async (_what, connection, sql) => {
    const { took, res } = await healthzDuring(exec(alice.apiKey, connection, sql));
    expect([res.status, res.body.status]).toEqual([201, 'EXECUTED']);
    expect(took).toBeLessThan(1000);
  }, 120_000);
});

// Second review, finding L (fixed; high) — a MySQL/MariaDB input of ~400 bytes is classified inline (under 64 KiB) and
// takes time that doubles with each level of nested derived tables: 22 levels 9 s, 25 levels about
// 70 s, 30 about 40 min — on the event loop, and again before execution. node-sql-parser's AST shares
// the node of a derived table's query between two fields, and src/sql/mysql-ast.ts functionNames()
// (classifyAst) walks `Object.values` of every node without remembering what it has seen, so it walks
// 2^depth paths. (Measured: n=23 → /healthz waited 16.5 s, the request took 35 s.)
describe('nested derived tables do not hold the event loop while a MySQL input is classified', () => {
  it('SELECT * FROM (SELECT * FROM (... users) x) x, 21 levels', async () => {
    const n = 21;
    const sql = `SELECT * FROM ${'(SELECT * FROM '.repeat(n)}users${') x'.repeat(n)}`;
    expect(sql.length).toBeLessThan(400);
    const { took, res } = await healthzDuring(exec(alice.apiKey, 'my', sql));
    expect([res.status, res.body.status]).toEqual([201, 'EXECUTED']);
    expect(took).toBeLessThan(1000);
  }, 300_000);
});

// Second review, finding L2 (fixed; medium) — inputs under 64 KiB are classified on the event loop because they are
// assumed to take microseconds; PostgreSQL's scanner is quadratic on unterminated nested comments:
// 63,000 bytes of `/*` take 3.3 s in libpg-query's parseSync (8 KB: 69 ms, 16 KB: 212 ms, 32 KB:
// 846 ms). The submit classifies it inline (src/sql/classifier.ts offloadBytes), and nothing
// bounds the time; at 60 submits a minute per key (and keys are free, finding Q) one client keeps the
// gateway's event loop busy — /healthz and Slack's 3-second acknowledgements with it.
describe('unterminated nested comments do not hold the event loop', () => {
  // 44,000 bytes: about 1.6 s of parsing, which inline would stall /healthz past the bound.
  it('44,000 bytes of /*', async () => {
    const { took, res } = await healthzDuring(exec(alice.apiKey, 'pg', '/*'.repeat(22_000)));
    expect([res.status, res.body.status]).toEqual([201, 'PENDING']); // does not parse: unknown, reviewed
    expect(took).toBeLessThan(1000);
  }, 60_000);

  // Larger inputs are classified in the worker (which gives up after 30 s: `unknown`), but when the
  // command then runs — approved, an admin's own, or on a connection without reviewers as here — and
  // the connection masks columns, runApproved() parses the whole input again for lineage
  // (postgres.ts lineageFor → lineage.ts lineagePostgres → parseSync) on the event loop: 120 KB held
  // /healthz 12 s, so 1 MB (the input cap) holds it about 14 minutes.
  it('SELECT 1; and 40,000 bytes of /* on a connection that runs without review', async () => {
    const { took, res } = await healthzDuring(exec(alice.apiKey, 'pgdirect', `SELECT 1; ${'/*'.repeat(20_000)}`));
    expect([res.status, res.body.status]).toEqual([201, 'FAILED']); // the server refuses the unterminated comment
    expect(took).toBeLessThan(1000);
  }, 180_000);
});

// Second review, finding M (fixed; medium) — any user who may read a connection can keep all TARGET_POOL_MAX connections to
// its target busy with auto-run reads (`pg_sleep` is on the safe list; any slow SELECT does the same),
// and an *approved* command that finds the pool full is finished as FAILED ("All N connections … are
// in use …; nothing was run") instead of waiting or being retried: reviewers' work is lost and the
// requester must submit again and be approved again. (src/service/review-execution.ts
// executeReview/runChecked: `run()`'s refusal with retryAfterSec is written as the final result; the
// worker does not retry it.) One key's 60 submits a minute keep a pool of 10 busy indefinitely.
describe('an approved command waits for a pool another requester keeps busy', () => {
  it('an approved UPDATE runs once another user\'s pg_sleep reads free the pool', async () => {
    const sleepers = [1, 2, 3].map(() => exec(alice.apiKey, 'pg', 'SELECT pg_sleep(6)'));
    await new Promise((r) => setTimeout(r, 300));
    const write = await exec(bob.apiKey, 'pg', "UPDATE users SET status = 'x' WHERE id = 2");
    expect(write.body.status).toBe('PENDING');
    expect((await t.api('PUT', `/api/reviews/${write.body.id}/approve`, { key: dana.apiKey })).status).toBe(200);
    const done = await eventually(async () => {
      const v = (await t.api('GET', `/api/reviews/${write.body.id}`)).body;
      return ['EXECUTED', 'FAILED'].includes(v.status) && v;
    }, 20_000);
    await Promise.all(sleepers);
    // What should be: the approved command runs once a connection is free (or is retried), not FAILED.
    expect({ status: done.status, error: done.error }).toEqual({ status: 'EXECUTED', error: null });
  }, 60_000);
});

// Second review, finding N (fixed; low) — a small input (under 64 KiB, so classified inline) nested deeper than the
// classifier's recursion answers 500 "internal" instead of being `unknown` and held for review:
// classify-inline.ts does not catch what classify-postgres.ts's recursive walk throws (RangeError),
// while the worker thread's path does ("could not be classified: Maximum call stack size exceeded").
describe('deep nesting in a small input is held as unknown, not a 500', () => {
  it('SELECT ARRAY[ARRAY[... 3,000 deep', async () => {
    const n = 3000;
    const res = await exec(alice.apiKey, 'pg', `SELECT ${'ARRAY['.repeat(n)}1${']'.repeat(n)}`);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING');
  });
});
