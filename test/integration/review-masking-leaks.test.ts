// Outside review of issue 7: masked data that still leaves the proxy in clear on a PostgreSQL
// connection masking `email` and `ssn` (with and without the email/ssn detectors).
// Each test states the behaviour the README promises; the findings failed before they were fixed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { everythingAbout, finishedReview } from '../helpers/review-trace.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

// The clear values and some transformations of them that no detector recognises.
const CLEAR = ['ann@example.com', 'moc.elpmaxe@nna', 'ann at example.com', 'ann_example_com', '123-45-6789', '9876-54-321'];

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const approve = (id: string) => t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey });
const finished = (id: string) => finishedReview(t, id);

const everything = (id: string) => everythingAbout(t, id);

function expectNoClearValue(text: string): void {
  for (const value of CLEAR) expect(text).not.toContain(value);
}

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query(`ALTER TABLE users ADD COLUMN ssn text DEFAULT '123-45-6789';
    CREATE TABLE statuses (status text PRIMARY KEY, label text); INSERT INTO statuses VALUES ('active', 'Active');
    CREATE TABLE notes (id serial PRIMARY KEY, body text);
    ANALYZE users; -- what autovacuum does on every production table`);
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  for (const [name, extra] of [['pg', {}], ['pgd', { maskDetectors: ['email', 'ssn'] }]] as const) {
    const res = await t.api('POST', '/api/connections', { body: { name, url: target.url, reviewers: ['dba-team'], maskColumns: ['email', 'ssn'], ...extra } });
    expect(res.status).toBe(201);
  }
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

// Review finding 1 (fixed) — lineage names derived columns differently from PostgreSQL. PostgreSQL names
// `email::text`, `(u).email`, `coalesce(...)`, `greatest(...)`, `email COLLATE "C"` after the column
// or the keyword; the gateway calls them `?column?`, so an outer query that names the column finds
// nothing, and an unresolved bare name counts as clean (src/sql/lineage-postgres.ts derivedName and
// columnRef's `names.length === 1 ? 0`).
// Review finding 2 (fixed) — `*` over a JOIN ... USING / NATURAL JOIN: PostgreSQL puts the merged column first and
// once; the gateway lists every column of each side in table order, so a column alias list over it
// maps masked columns onto clean positions (lineage-postgres.ts targets()/fromItem JoinExpr).
// Review finding 3 (fixed) — a recursive CTE is traced in two passes, not to a fixpoint: taint that moves one
// column per iteration reaches `a` only in the third (withClause recursive branch).
// Review finding 4 (fixed) — SEARCH / CYCLE columns of a recursive CTE (they hold the BY / CYCLE columns' values)
// are not known to the lineage: a bare unknown name is clean.
// Review finding 5 (fixed) — XMLTABLE: only the document expression is traced; a column's DEFAULT (or PATH) that
// reads a masked column is clean, and the statement does not even count as reading masked data.
describe('result values of auto-run reads never leave in clear', () => {
  it.each([
    ['cast in a subquery', 'SELECT email AS x FROM (SELECT email::text FROM users WHERE id = 1) s'],
    ['field selection in a subquery', 'SELECT email AS x FROM (SELECT (u).email FROM users u WHERE id = 1) s'],
    ['coalesce in a subquery', 'SELECT "coalesce" AS x FROM (SELECT coalesce(email, \'\') FROM users WHERE id = 1) s'],
    ['greatest in a CTE', 'WITH c AS (SELECT greatest(email, \'\') FROM users WHERE id = 1) SELECT "greatest" AS x FROM c'],
    ['collate in a subquery', 'SELECT email AS x FROM (SELECT email COLLATE "C" FROM users WHERE id = 1) s'],
    ['USING join under a column alias list', 'SELECT c AS x FROM (SELECT * FROM users JOIN statuses USING (status) WHERE id = 1) s(a, b, c)'],
    ['NATURAL join under a column alias list', 'SELECT c AS x FROM (SELECT * FROM users NATURAL JOIN statuses WHERE id = 1) s(a, b, c)'],
    ['recursive CTE rotating columns', "WITH RECURSIVE r(a, b, c, n) AS (SELECT ''::text, ''::text, email, 0 FROM users WHERE id = 1 UNION ALL SELECT b, c, a, n + 1 FROM r WHERE n < 3) SELECT a AS x FROM r"],
    ['SEARCH column of a recursive CTE', 'WITH RECURSIVE r AS (SELECT id, email, 0 AS n FROM users WHERE id = 1 UNION ALL SELECT id, email, n + 1 FROM r WHERE n < 1) SEARCH DEPTH FIRST BY email SET ord SELECT ord AS x FROM r'],
    ['CYCLE path of a recursive CTE', 'WITH RECURSIVE r AS (SELECT id, email FROM users WHERE id = 1 UNION ALL SELECT id, email FROM r) CYCLE email SET looped USING p SELECT p AS x FROM r'],
    ['XMLTABLE column DEFAULT', "SELECT v AS x FROM users, XMLTABLE('/a' PASSING '<a/>' COLUMNS v text PATH 'b' DEFAULT email) t WHERE id = 1"],
  ])('%s: %s', async (_what, sql) => {
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    // It runs at once, and what comes back is masked.
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toMatch(/\(\d+ rows?\)/);
    expectNoClearValue(res.body.output);
    expectNoClearValue(await everything(res.body.id));
  });

  it('the detectors do not help once the value is transformed (reverse, replace)', async () => {
    for (const sql of [
      'SELECT reverse AS x FROM (SELECT reverse(email)::text FROM users WHERE id = 1) s',
      "SELECT email AS x FROM (SELECT replace(email, '@', ' at ')::text AS email FROM users WHERE id = 1) s",
    ]) {
      const res = await exec('pgd', sql);
      expect(res.status).toBe(201);
      expect(res.body.status).toBe('EXECUTED');
      expect(res.body.output).toContain('(1 row)');
      expectNoClearValue(res.body.output);
      expectNoClearValue(await everything(res.body.id));
    }
  });
});

// Review finding 13 (fixed) — the planner's statistics hold column values: pg_stats (a system view the lineage
// traces to pg_statistic's clean-named columns; its row_security_active() call only goes to `why`,
// not to the outputs) and pg_statistic itself (readable by a superuser connection) return the most
// common values and histogram bounds of `email` and `ssn` in clear.
describe('planner statistics never return masked values', () => {
  it.each([
    "SELECT attname AS col, histogram_bounds AS h, most_common_vals AS m FROM pg_stats WHERE tablename = 'users'",
    "SELECT a.attname AS col, s.stavalues1 AS v1, s.stavalues2 AS v2 FROM pg_statistic s JOIN pg_attribute a ON a.attrelid = s.starelid AND a.attnum = s.staattnum WHERE s.starelid = 'users'::regclass",
  ])('%s', async (sql) => {
    for (const connection of ['pg', 'pgd']) {
      const res = await exec(connection, sql);
      expect(res.status).toBe(201);
      // README: statistics run, masked whole.
      expect(res.body.status).toBe('EXECUTED');
      expect(res.body.output).toMatch(/\(\d+ rows?\)/);
      const all = res.body.output + (await everything(res.body.id));
      expect(all).not.toContain('bob@example.com');
      expect(all).not.toContain('123-45-6789');
    }
  });
});

// Review finding 6 (fixed) — error classes the gateway keeps verbatim (42, 3D, 3F, …) do quote values: a masked
// value used as a setting, role, database, schema, relation or function name comes back in the
// error text (src/execution/output.ts VALUE_FREE_CLASSES). All of these auto-run (current_setting,
// has_*_privilege, pg_has_role and the reg* casts are on the safe lists).
describe('error texts never quote masked values', () => {
  it.each([
    ['42704 unrecognized configuration parameter', 'SELECT current_setting(reverse(email)) FROM users WHERE id = 1'],
    ['42704 role does not exist', "SELECT pg_has_role(replace(email, '@', ' at '), 'member') FROM users WHERE id = 1"],
    ['3D000 database does not exist', "SELECT has_database_privilege(reverse(email), 'connect') FROM users WHERE id = 1"],
    ['3F000 schema does not exist', "SELECT has_schema_privilege(reverse(email), 'usage') FROM users WHERE id = 1"],
    ['42P01 relation does not exist', "SELECT translate(email, '@.', '__')::regclass FROM users WHERE id = 1"],
    ['42883 function does not exist', 'SELECT reverse(ssn)::regproc FROM users WHERE id = 1'],
  ])('%s: %s', async (_what, sql) => {
    for (const connection of ['pg', 'pgd']) {
      const res = await exec(connection, sql);
      expect(res.status).toBe(201);
      expect(res.body.readOnly).toBe(true);
      expect(res.body.status).toBe('FAILED');
      expectNoClearValue(await everything(res.body.id));
    }
  });
});

describe('an approved command cannot choose a SQLSTATE that keeps its message', () => {
  // PL/pgSQL's RAISE sets any SQLSTATE; a class the gateway keeps (42, 57, 40…) carries the message out.
  it.each([
    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = (SELECT reverse(email) FROM users WHERE id = 1); END $$",
    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '57014', MESSAGE = 'canceled', DETAIL = (SELECT replace(email, '@', ' at ') FROM users WHERE id = 1); END $$",
  ])('%s', async (sql) => {
    const res = await exec('pg', sql);
    expect(res.body.status).toBe('PENDING');
    expect((await approve(res.body.id)).status).toBe(200);
    const done = await finished(res.body.id);
    expect(done.status).toBe('FAILED');
    expectNoClearValue(await everything(res.body.id));
  });
});

// Review finding 7 (fixed) — RETURNING of an approved write takes the taint of the target table's columns as
// they were, not of the values written into them: a value copied from a masked column into a clean
// one comes back in clear, in the stored output, the API and the Slack thread
// (lineage-postgres.ts dml(): targetList only raises `reads`).
describe('RETURNING of approved writes shows what was written, masked', () => {
  // Copied values stay in clean columns (README: "what you mask is what you name"); undo them.
  afterEach(() => target.query("UPDATE users SET status = 'active'; DELETE FROM notes"));
  it.each([
    'UPDATE users SET status = email WHERE id = 1 RETURNING status',
    'INSERT INTO notes (body) SELECT email FROM users WHERE id = 1 RETURNING body',
    'WITH n AS (INSERT INTO notes (body) SELECT reverse(ssn) FROM users WHERE id = 1 RETURNING body) SELECT body FROM n',
  ])('%s', async (sql) => {
    const res = await exec('pg', sql);
    expect(res.body.status).toBe('PENDING');
    expect((await approve(res.body.id)).status).toBe(200);
    const done = await finished(res.body.id);
    expect(done.status).toBe('EXECUTED');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(res.body.id)));
    expectNoClearValue(await everything(res.body.id));
  });
});

// Whole rows, window functions, set operations...: what the README lists and a sample beyond it.
// All run at once, with the values of masked columns masked.
describe('masked whatever the shape of the query', () => {
  it.each([
    'SELECT u.*::text AS x FROM users u WHERE id = 1',
    'SELECT array_agg(u) AS x FROM users u WHERE id = 1',
    'SELECT jsonb_agg(u) AS x FROM users u WHERE id = 1',
    'SELECT to_json(t.*) AS x FROM users t WHERE id = 1',
    'SELECT (u).email AS x FROM users u WHERE id = 1',
    'SELECT x FROM users u, LATERAL (SELECT u.email) s(x) WHERE id = 1',
    'SELECT x FROM users, LATERAL unnest(ARRAY[email]) x WHERE id = 1',
    'SELECT first_value(email) OVER () AS x FROM users WHERE id = 1',
    "SELECT format('%s', email) AS x FROM users WHERE id = 1",
    "SELECT concat(email, '') AS x FROM users WHERE id = 1",
    'SELECT x FROM (VALUES ((SELECT email FROM users WHERE id = 1))) v(x)',
    "SELECT status AS x FROM users WHERE id = 2 UNION SELECT email FROM users WHERE id = 1",
    'SELECT DISTINCT ON (email) email AS x FROM users WHERE id = 1',
    'SELECT x FROM (SELECT email FROM users WHERE id = 1) s(x)',
    'TABLE users',
    "SELECT xmlelement(name a, email) AS x FROM users WHERE id = 1",
    'WITH RECURSIVE r(a, n) AS (SELECT email, 0 FROM users WHERE id = 1 UNION ALL SELECT a, n + 1 FROM r WHERE n < 2) SELECT a AS x FROM r',
  ])('%s', async (sql) => {
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('EXECUTED');
    expect(res.body.output).toMatch(/\(\d+ rows?\)/);
    expectNoClearValue(res.body.output);
    expectNoClearValue(await everything(res.body.id));
  });
});
