// Bursts while our own database is busy (a lock held on the audit table, as a long migration or a
// stuck session would): requests queue for a pooled connection instead of failing, and what cannot
// wait long enough gets a retryable 503 with Retry-After, never a 500, and changes nothing.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const N = 100;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;

interface Setup {
  gw: TestGateway;
  alice: { id: string; apiKey: string };
  dana: { id: string; apiKey: string };
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const gw = await startTestGateway({ slack: false, env });
  const alice = await gw.createUser('alice@example.com', ['developers']);
  const dana = await gw.createUser('dana@example.com', ['dba-team']);
  await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  return { gw, alice, dana };
}

let roomy: Setup; // the defaults: transactions wait up to 10 s for a connection
let tight: Setup; // DATABASE_TX_WAIT_MS=300, so a held lock outlasts the wait
let slow: Setup; // the defaults, its own: a trigger there slows one claim

beforeAll(async () => {
  target = await createTargetDatabase();
  [roomy, tight, slow] = await Promise.all([setUp(), setUp({ DATABASE_TX_WAIT_MS: '300', DATABASE_POOL_SIZE: '4' }), setUp()]);
});

afterAll(async () => {
  await Promise.all([roomy?.gw.stop(), tight?.gw.stop(), slow?.gw.stop()]);
  await target?.drop();
});

/**
 * Holds a lock that blocks every audit write (so every decision and submit) for `ms`, and, when
 * `until` is given, until it settles too (at most 15 s): on a loaded machine the burst may reach
 * the database only after a fixed time has passed, and then nothing would have had to wait.
 */
async function holdAuditLock(databaseUrl: string, ms: number, until?: Promise<unknown>): Promise<() => Promise<void>> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  await c.query('BEGIN');
  await c.query('LOCK TABLE "AuditEvent" IN EXCLUSIVE MODE');
  const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
  const held = Promise.all([sleep(ms), until ? Promise.race([until, sleep(15_000)]) : null]);
  const released = held.then(() => c.query('COMMIT')).then(() => c.end());
  return () => released;
}

/** A promise that settles at the first refusal (503) among the calls `watch` wraps. */
function firstRefusal() {
  let seen!: () => void;
  const refused = new Promise<void>((resolve) => (seen = resolve));
  const watch = <T extends { status: number }>(p: Promise<T>) => p.then((r) => (r.status === 503 && seen(), r));
  return { refused, watch };
}

/** Status and Retry-After of a JSON request. */
async function call(gw: TestGateway, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(gw.baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

const tally = (rs: { status: number }[]) => rs.reduce<Record<number, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});

async function pendingReviews(s: Setup, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await call(s.gw, 'POST', '/api/connections/prod-db/exec', s.alice.apiKey, { input: `SELECT ${i}` })).body.id);
  return ids;
}

// Each describe has its own gateway and state database. The slow claim (mostly a pg_sleep) runs
// beside the default pool's tests; the tests of one describe share counts and locks, so they run one
// after another; the tight pool's tests run alone, since CPU taken by others would add refusals.
describe.concurrent('with the default pool and wait', () => {
  it.sequential(`answers all of ${N} parallel submits 201 while a lock holds the database for 3 s`, async () => {
    const before = await roomy.gw.gateway.db.review.count();
    const released = await holdAuditLock(roomy.gw.databaseUrl, 3000);
    const rs = await Promise.all(Array.from({ length: N }, (_, i) => call(roomy.gw, 'POST', '/api/connections/prod-db/exec', roomy.alice.apiKey, { input: `SELECT ${i}` })));
    await released();
    expect(tally(rs)).toEqual({ 201: N });
    expect(await roomy.gw.gateway.db.review.count()).toBe(before + N);
  });

  it.sequential(`answers all of ${N} parallel approvals 200 under the same lock, and runs every one`, async () => {
    const ids = await pendingReviews(roomy, N);
    const released = await holdAuditLock(roomy.gw.databaseUrl, 3000);
    const rs = await Promise.all(ids.map((id) => call(roomy.gw, 'PUT', `/api/reviews/${id}/approve`, roomy.dana.apiKey)));
    await released();
    expect(tally(rs)).toEqual({ 200: N });
    await eventually(async () => (await roomy.gw.gateway.db.review.count({ where: { id: { in: ids }, status: 'EXECUTED' } })) === N, 30_000, 'every approved review executed');
  });
});

describe.concurrent('a submit whose execution cannot start because the database is busy', () => {
  it.sequential('answers 201 with the stored request and runs it once through a job, never a 500 or a second request', async () => {
    const { gw } = slow;
    // Review mode none: the command is stored and run at once (a read on a connection in mode
    // writes would run without a request, and there would be no claim to slow down).
    await gw.api('POST', '/api/connections', { body: { name: 'sandbox', url: target.url, reviewers: [], reviewMode: 'none' } });
    // The claim (APPROVED -> RUNNING) of the first marked request outlasts Prisma's 5 s
    // transaction timeout; a sequence, not a table, so the rollback cannot undo the "once".
    const c = new pg.Client({ connectionString: gw.databaseUrl });
    await c.connect();
    await c.query(`CREATE SEQUENCE slow_claim_once;
      CREATE FUNCTION slow_claim() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status = 'RUNNING' AND NEW.input LIKE '%slow-claim%' AND nextval('slow_claim_once') = 1 THEN PERFORM pg_sleep(6); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER slow_claim BEFORE UPDATE ON "Review" FOR EACH ROW EXECUTE FUNCTION slow_claim();`);
    await c.end();
    const before = await gw.gateway.db.review.count();
    const res = await call(gw, 'POST', '/api/connections/sandbox/exec', slow.alice.apiKey, { input: "SELECT 'slow-claim' AS marker" });
    expect(res.status).toBe(201);
    // Handed to a job, which this process may already have run (jobs due now run in-process).
    expect(['APPROVED', 'RUNNING', 'EXECUTED']).toContain(res.body.status);
    expect(await gw.gateway.db.review.count()).toBe(before + 1);
    const done = await eventually(async () => {
      const r = (await gw.api('GET', `/api/reviews/${res.body.id}`)).body;
      return r.status === 'EXECUTED' && r;
    }, 20_000, 'the request executed by the job');
    expect(done.output).toContain('slow-claim');
    const started = await gw.gateway.db.auditEvent.count({ where: { reviewId: res.body.id, action: 'review.execution_started' } });
    expect(started).toBe(1);
  });
});

describe('when the database stays busy longer than a request may wait', () => {
  it(`answers ${N} parallel submits 201 or 503 with Retry-After, never 500, and creates nothing for a 503`, async () => {
    const before = await tight.gw.gateway.db.review.count();
    const { refused, watch } = firstRefusal();
    const released = await holdAuditLock(tight.gw.databaseUrl, 2500, refused);
    const rs = await Promise.all(Array.from({ length: N }, (_, i) => watch(call(tight.gw, 'POST', '/api/connections/prod-db/exec', tight.alice.apiKey, { input: `SELECT ${i}` }))));
    await released();
    const counts = tally(rs);
    expect((counts[201] ?? 0) + (counts[503] ?? 0)).toBe(N);
    expect(counts[503]).toBeGreaterThan(0);
    for (const r of rs.filter((x) => x.status === 503)) {
      expect(r.retryAfter).toBe('2');
      expect(r.body.error).toMatchObject({ code: 'unavailable', retryAfter: 2 });
      expect(r.body.error.message).toContain('nothing was changed');
    }
    expect(await tight.gw.gateway.db.review.count()).toBe(before + (counts[201] ?? 0));
  });

  it(`answers ${N} parallel approvals 200 or 503, leaves every 503 pending, and retries as told then succeed`, async () => {
    const ids = await pendingReviews(tight, N);
    const { refused: refusedOnce, watch } = firstRefusal();
    const released = await holdAuditLock(tight.gw.databaseUrl, 2500, refusedOnce);
    const rs = await Promise.all(ids.map((id) => watch(call(tight.gw, 'PUT', `/api/reviews/${id}/approve`, tight.dana.apiKey))));
    await released();
    const counts = tally(rs);
    expect((counts[200] ?? 0) + (counts[503] ?? 0)).toBe(N);
    expect(counts[503]).toBeGreaterThan(0);
    const refused = ids.filter((_, i) => rs[i].status === 503);
    expect(rs.filter((r) => r.status === 503).every((r) => r.retryAfter === '2')).toBe(true);
    expect(await tight.gw.gateway.db.review.count({ where: { id: { in: refused }, status: 'PENDING' } })).toBe(refused.length);
    // A client that retries as Retry-After says gets through once the lock is gone.
    let left = refused;
    for (let round = 0; left.length > 0 && round < 10; round++) {
      const again = await Promise.all(left.map((id) => call(tight.gw, 'PUT', `/api/reviews/${id}/approve`, tight.dana.apiKey)));
      expect(again.every((r) => r.status === 200 || (r.status === 503 && r.retryAfter === '2'))).toBe(true);
      left = left.filter((_, i) => again[i].status === 503);
      if (left.length) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(left).toEqual([]);
    expect(await tight.gw.gateway.db.review.count({ where: { id: { in: refused }, status: 'PENDING' } })).toBe(0);
  }, 90_000);
});
