// Masked data never leaves in clear on MySQL/MariaDB: not in values computed from masked columns,
// not in error texts, not in the stored output, the audit trail or Slack. Real MariaDB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { everythingAbout, finishedReview } from '../helpers/review-trace.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

// Ann's email and ssn, and what transformations make of them (HEX, TO_BASE64, REVERSE, the local part).
const CLEAR = ['ann@example.com', '123-45-6789', '616E6E406578616D706C652E636F6D', 'YW5uQGV4YW1wbGUuY29t', 'moc.elpmaxe@nna', 'Incorrect integer value'];
const exec = (input: string) => t.api('POST', '/api/connections/maria/exec', { key: alice.apiKey, body: { input } });
const approve = (id: string) => t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey });
const finished = (id: string) => finishedReview(t, id);
const threadReply = (id: string) => t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(id)));

const everything = (id: string) => everythingAbout(t, id);

function expectNoClearValue(text: string): void {
  for (const value of CLEAR) expect(text.toLowerCase()).not.toContain(value.toLowerCase());
}

beforeAll(async () => {
  target = await createMysqlTarget();
  await target.query("ALTER TABLE users ADD COLUMN ssn varchar(20) NOT NULL DEFAULT '123-45-6789'");
  await target.query('CREATE TABLE orders (id int PRIMARY KEY, user_id int, total int)');
  await target.query('INSERT INTO orders VALUES (1, 1, 10)');
  await target.query('CREATE VIEW people AS SELECT id, email AS addr FROM users');
  await target.query('CREATE VIEW people_of_people AS SELECT id AS pid, UPPER(addr) AS a FROM people');
  await target.query('CREATE FUNCTION secret_of(i int) RETURNS varchar(200) READS SQL DATA RETURN (SELECT email FROM users WHERE id = i)');
  await target.query('CREATE VIEW secrets AS SELECT id, secret_of(id) AS s FROM users');
  // Stored code that raises an error whose errno says "no value here" and whose text is an email.
  const signal = "SIGNAL SQLSTATE '42S02' SET MYSQL_ERRNO = 1146, MESSAGE_TEXT = e";
  await target.query(`CREATE FUNCTION boom(i int) RETURNS int READS SQL DATA BEGIN DECLARE e varchar(200); SELECT email INTO e FROM users WHERE id = i; ${signal}; RETURN 0; END`);
  await target.query('CREATE TABLE ledger (id int PRIMARY KEY, n int)');
  await target.query('INSERT INTO ledger VALUES (1, 0)');
  await target.query(`CREATE TRIGGER ledger_check BEFORE UPDATE ON ledger FOR EACH ROW BEGIN DECLARE e varchar(200); SELECT email INTO e FROM users WHERE id = 1; ${signal}; END`);
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  const body = { name: 'maria', url: target.url, reviewers: ['dba-team'], maskColumns: ['email', 'ssn'] };
  expect((await t.api('POST', '/api/connections', { body })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('MySQL values computed from masked columns', () => {
  it.each([
    "SELECT REPLACE(email, '@', ' at ') AS v FROM users WHERE id = 1",
    'SELECT HEX(email) AS v FROM users WHERE id = 1',
    'SELECT TO_BASE64(email) AS v FROM users WHERE id = 1',
    "SELECT CONCAT(ssn, 'x') AS v FROM users WHERE id = 1",
    "SELECT SUBSTRING_INDEX(email, '@', 1) AS v FROM users WHERE id = 1",
    'SELECT LOWER(email) AS v FROM users WHERE id = 1',
    'SELECT REVERSE(email) AS v FROM users WHERE id = 1',
    'SELECT t.e AS v FROM (SELECT UPPER(email) AS e FROM users WHERE id = 1) t',
    'SELECT (SELECT email FROM users WHERE id = 1) AS v',
    'WITH c AS (SELECT email AS e FROM users WHERE id = 1) SELECT e AS v FROM c',
    "SELECT GROUP_CONCAT(email SEPARATOR ',') AS v FROM users WHERE id = 1",
    'SELECT addr AS v FROM people WHERE id = 1',
    'SELECT * FROM people WHERE id = 1',
    'SELECT a AS v FROM people_of_people WHERE pid = 1',
    // The server names an unaliased expression by its text; the outer query reads it by that name.
    'SELECT `LOWER(email)` AS v FROM (SELECT LOWER(email) FROM users WHERE id = 1) s',
    "WITH c AS (SELECT REPLACE(email, '@', ' at ') FROM users WHERE id = 1) SELECT `REPLACE(email, '@', ' at ')` AS v FROM c",
  ])('are masked when they run without review: %s', async (sql) => {
    const res = await exec(sql);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(res.body.output).toMatch(/\*\*\*\*|\*\*\*@/);
    expect(res.body.output).not.toMatch(/\bann\b/i);
    // Masked column by column, as traced: not whole because the gateway could not tell.
    expect(res.body.output).not.toContain('values masked');
    expectNoClearValue(await everything(res.body.id));
  });

  it('leave columns that do not come from masked ones in clear', async () => {
    const res = await exec('SELECT id, status, LENGTH(email) > 3 AS long_one FROM users WHERE id = 1');
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(res.body.output).toMatch(/ 1 \| active \| +\*\*\*\*/); // long_one is computed from email
    const people = await exec('SELECT id FROM people ORDER BY id');
    expect(people.body.output).toMatch(/ 1\n +2\n +3\n/);
  });

  it('that masking cannot trace (a stored function) are held for review and masked whole once approved', async () => {
    const res = await exec('SELECT id, secret_of(id) AS s FROM users WHERE id = 1');
    expect(res.body.status).toBe('PENDING');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('EXECUTED');
    expect(done.output).toContain('values masked: the gateway cannot tell which of these columns come from masked columns');
    expect(done.output).not.toMatch(/ 1 \|/); // even the id is masked
    expectNoClearValue(await everything(res.body.id));
  });

  it.each([
    ['SELECT s FROM secrets WHERE id = 1', 'secret_of() may return data the gateway cannot trace'],
    ['SELECT @last_email', '@last_email is a user variable, which may hold masked data'],
  ])('that only the target shows to be untraceable are held for review, and reviewers see why: %s', async (sql, why) => {
    const res = await exec(sql);
    expect(res.body).toMatchObject({ status: 'PENDING', readOnly: false });
    expect(res.body.classification.statements[0].warnings.join(' ')).toContain(`masking cannot trace it (${why})`);
    await approve(res.body.id);
    expect((await finished(res.body.id)).status).toBe('EXECUTED');
    expectNoClearValue(await everything(res.body.id));
  });
});

describe('MySQL error texts', () => {
  it('of an approved write that reads a masked column are withheld, keeping errno and SQLSTATE, also in Slack', async () => {
    const res = await exec('UPDATE users SET id = email WHERE id = 1');
    expect(res.body.status).toBe('PENDING');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toContain('withheld because the command reads masked columns (SQLSTATE 22007)');
    expect(done.output).toContain('ERROR 1366 (22007)');
    await threadReply(res.body.id);
    expectNoClearValue(await everything(res.body.id));
  });

  it('of an approved input are withheld only when the failing statement reads masked data', async () => {
    const masked = await exec('UPDATE orders SET total = 2 WHERE id = 1; UPDATE users SET id = email WHERE id = 2');
    await approve(masked.body.id);
    expect((await finished(masked.body.id)).error).toContain('SQLSTATE 22007');
    expectNoClearValue(await everything(masked.body.id));
    const clean = await exec("SELECT email FROM users WHERE id = 1; UPDATE orders SET total = 'abc' WHERE id = 1");
    await approve(clean.body.id);
    expect((await finished(clean.body.id)).error).toContain("Incorrect integer value: 'abc' for column");
  });

  it.each([
    ['a stored function', 'SELECT id, boom(id) AS b FROM users WHERE id = 1'],
    ['a trigger', 'UPDATE ledger SET n = 1 WHERE id = 1'],
  ])('raised by stored code (%s) are withheld, whatever errno it chose', async (_what, sql) => {
    const res = await exec(sql);
    expect(res.body.status).toBe('PENDING');
    await approve(res.body.id);
    const done = await finished(res.body.id);
    expect(done.status).toBe('FAILED');
    expect(done.error).toContain('withheld because the command reads masked columns');
    expect(done.output).toContain('ERROR 1146 (42S02)');
    expectNoClearValue(await everything(res.body.id));
  });

  it('that carry no value are shown, and a clean read stays in clear', async () => {
    const missing = await exec('SELECT nosuch FROM users');
    expect(missing.body).toMatchObject({ status: 'FAILED', readOnly: true });
    expect(missing.body.error).toContain("Unknown column 'nosuch'");
    const clean = await exec('SELECT id, status FROM users ORDER BY id');
    expect(clean.body).toMatchObject({ status: 'EXECUTED', readOnly: true });
    expect(clean.body.output).toMatch(/ 1 \| active\n +2 \| active\n +3 \| active/);
    expect(clean.body.output).not.toContain('****');
  });
});
