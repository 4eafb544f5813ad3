// Masked data never leaves in clear: not in result values computed from masked columns, not in
// error or notice texts, not in the stored output, the audit trail or Slack.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { everythingAbout, finishedReview } from '../helpers/review-trace.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const CLEAR = ['ann@example.com', 'bob@example.com', 'cy@example.com', '123-45-6789', 'ann', 'nna'];
const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const approve = (id: string) => t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey });
const finished = (id: string) => finishedReview(t, id);

const everything = (id: string) => everythingAbout(t, id);

function expectNoClearValue(text: string): void {
  for (const value of CLEAR.slice(0, 4)) expect(text).not.toContain(value);
}

beforeAll(async () => {
  target = await createTargetDatabase();
  await target.query(`ALTER TABLE users ADD COLUMN ssn text DEFAULT '123-45-6789';
    CREATE VIEW contacts AS SELECT id AS uid, lower(email) AS contact FROM users;
    CREATE FUNCTION secret_of(i int) RETURNS text LANGUAGE sql STABLE AS $$ SELECT email FROM users WHERE id = i $$;`);
  t = await startTestGateway({ env: { STATEMENT_TIMEOUT_MS: '3000' } });
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const masked = { url: target.url, reviewers: ['dba-team'], maskColumns: ['email', 'ssn'], allowFunctions: ['secret_of'] };
  expect((await t.api('POST', '/api/connections', { body: { name: 'pg', ...masked } })).status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'detect', url: target.url, reviewers: ['dba-team'], maskDetectors: ['email'] } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('values computed from masked columns', () => {
  it.each([
    "SELECT replace(email, '@', ' at ') AS v FROM users WHERE id = 1",
    "SELECT split_part(email, '@', 1) AS v FROM users WHERE id = 1",
    "SELECT translate(email, 'a', 'A') AS v FROM users WHERE id = 1",
    'SELECT reverse(email) AS v FROM users WHERE id = 1',
    "SELECT encode(email::bytea, 'hex') AS v FROM users WHERE id = 1",
    'SELECT string_to_array(email, NULL) AS v FROM users WHERE id = 1',
    "SELECT ssn || 'x' AS v FROM users WHERE id = 1",
    'SELECT u AS v FROM users u WHERE id = 1',
    'SELECT row_to_json(u) AS v FROM users u WHERE id = 1',
    'SELECT (SELECT email FROM users WHERE id = 1) AS v',
    'WITH c AS (SELECT email AS e FROM users WHERE id = 1) SELECT e AS v FROM c',
    "SELECT string_agg(email, ',') AS v FROM users WHERE id = 1",
    'SELECT contact AS v FROM contacts WHERE uid = 1',
    'SELECT t.e AS v FROM (SELECT upper(email) AS e FROM users WHERE id = 1) t',
  ])('are masked when they run without review: %s', async (sql) => {
    const res = await exec('pg', sql);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(res.body.output).toMatch(/\*\*\*\*|\*\*\*@/);
    expect(res.body.output.toLowerCase()).not.toContain('ann');
    expect(res.body.output).not.toContain('6e6e'); // "nn" in hex
    expectNoClearValue(await everything(res.body.id));
  });

  it('leave columns that do not come from masked ones in clear', async () => {
    const res = await exec('pg', 'SELECT id, status, length(email) > 3 AS long FROM users WHERE id = 1');
    expect(res.body.output).toContain('active');
    expect(res.body.output).toMatch(/ 1 \| active/);
  });

  it('are masked in RETURNING of an approved write, and in its Slack thread reply', async () => {
    const res = await exec('pg', "UPDATE users SET status = 'seen' WHERE id = 2 RETURNING id, replace(email, '@', '#') AS e");
    expect(res.body.status).toBe('PENDING');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.output).not.toContain('bob');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(res.body.id)));
    expectNoClearValue(await everything(res.body.id));
  });

  it('that masking cannot trace are held for review and masked whole once approved', async () => {
    const res = await exec('pg', 'SELECT id, secret_of(id) AS s FROM users WHERE id = 1');
    expect(res.body.status).toBe('PENDING');
    expect(res.body.classification.statements[0].warnings.join(' ')).toContain('masking cannot trace it (secret_of() may return data the gateway cannot trace)');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.output).toContain('values masked: the gateway cannot tell which of these columns come from masked columns');
    expect(done.output).not.toMatch(/ 1 \|/); // even the id is masked
    expectNoClearValue(await everything(res.body.id));
  });
});

describe('error texts of a command that reads masked columns', () => {
  it.each([
    ['SELECT email::int FROM users', '22P02'],
    ['SELECT 1 FROM users WHERE email::int = 1', '22P02'],
    ['SELECT ssn::date FROM users', '22008'],
    ['SELECT (SELECT email FROM users LIMIT 1)::numeric', '22P02'],
    ['SELECT row_to_json(u)::text::int FROM users u', '22P02'],
    ['SELECT contact::int FROM contacts', '22P02'],
  ])('are withheld, keeping the SQLSTATE: %s', async (sql, sqlstate) => {
    const res = await exec('pg', sql);
    expect(res.body.status).toBe('FAILED');
    expect(res.body.error).toContain('withheld because the command reads masked columns');
    expect(res.body.error).toContain(`SQLSTATE ${sqlstate}`);
    expectNoClearValue(await everything(res.body.id));
  });

  it('are withheld for an approved write whose failing row would be quoted, also in Slack', async () => {
    const res = await exec('pg', 'UPDATE users SET status = NULL WHERE id = 1');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toContain('SQLSTATE 23502');
    expect(done.output).not.toContain('DETAIL');
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(res.body.id)));
    expectNoClearValue(await everything(res.body.id));
  });

  it('are shown when the command reads nothing masked, and only fixed server texts are kept when it does', async () => {
    const zero = await exec('pg', 'SELECT id FROM users WHERE status = (1 / 0)::text');
    expect(zero.body).toMatchObject({ status: 'FAILED', error: 'division by zero' });
    // A name the lineage cannot find may be its own misreading: held for review, not run.
    expect((await exec('pg', 'SELECT emial FROM users')).body.status).toBe('PENDING');
    const column = await exec('detect', 'SELECT emial FROM users');
    expect(column.body).toMatchObject({ status: 'FAILED', error: expect.stringContaining('column "emial" does not exist') });
    // An unknown relation may be anything: not run without review, and its error text is withheld.
    const missing = await exec('pg', 'SELECT email FROM no_such_table');
    expect(missing.body.status).toBe('PENDING');
    await approve(missing.body.id);
    expect((await finished(missing.body.id)).error).toContain('withheld because the command reads masked columns (SQLSTATE 42P01)');
    // A name made from a masked value comes back in an error of an object-naming class: withheld.
    const named = await exec('pg', 'SELECT current_setting(reverse(email)) FROM users WHERE id = 1');
    expect(named.body.error).toContain('withheld because the command reads masked columns (SQLSTATE 42704)');
    const syntax = await exec('pg', 'SELECT email FROM users WHERE');
    expect(syntax.body.status).toBe('PENDING'); // does not parse: unknown, reviewed
    await approve(syntax.body.id);
    expect((await finished(syntax.body.id)).error).toContain('withheld');
  });

  it('keep the server\'s fixed texts, such as a statement timeout', async () => {
    const slow = await exec('pg', 'SELECT email, pg_sleep(100) FROM users');
    expect(slow.body).toMatchObject({ status: 'FAILED', readOnly: true });
    expect(slow.body.error).toMatch(/^(the read took longer than 3000 ms in all, the limit of a request; it was stopped|canceling statement due to statement timeout)$/);
  });
});

describe('notices', () => {
  it('of an approved DO block that reads masked columns are withheld', async () => {
    const res = await exec('pg', "DO $$ DECLARE e text; BEGIN SELECT email INTO e FROM users WHERE id = 3; RAISE NOTICE 'got %', e; END $$");
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.output).toContain('NOTICE:  a notice was withheld because the command reads masked columns');
    expectNoClearValue(await everything(res.body.id));
  });

  it('and errors go through the content detectors on a connection that masks by content', async () => {
    const res = await exec('detect', "SELECT 'bob@example.com'::int");
    expect(res.body.status).toBe('FAILED');
    expect(res.body.error).toContain('b***@example.com');
    expect(res.body.error).not.toContain('bob@example.com');
    const notice = await exec('detect', "DO $$ BEGIN RAISE NOTICE 'mail cy@example.com'; END $$");
    await approve(notice.body.id);
    expect((await finished(notice.body.id)).output).toContain('NOTICE:  mail c***@example.com');
  });
});
