// Comment syntax MariaDB reads differently from a plain SQL parser, through the API: what the server
// would run is what the guardrails check, and what cannot be read safely waits for review with its reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlTarget } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createMysqlTarget>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input } });
const reject = (id: string) => t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'test' } });
const tableExists = async (name: string) => (await target.query(`SHOW TABLES LIKE '${name}'`)).length === 1;

beforeAll(async () => {
  target = await createMysqlTarget();
  await target.query('CREATE TABLE keepme (id int)');
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'maria', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
  const strict = { name: 'maria-strict', url: target.url, reviewers: ['dba-team'], guardrails: [{ type: 'deny-unbounded-write' }] };
  expect((await t.api('POST', '/api/connections', { body: strict })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('a statement hidden behind --1 or inside /*! */', () => {
  it.each([
    "UPDATE users SET status='x' WHERE id=1 --1; DROP TABLE keepme; -- note",
    "UPDATE users SET status='x' WHERE id=1--1;DROP TABLE keepme",
    'SELECT 1 --1; DROP TABLE keepme',
    '/*!DROP TABLE keepme*/',
    '/*!50000 DROP TABLE keepme */',
    '/*M!100100 DROP TABLE keepme */',
    'SELECT 1 /*! ; DROP TABLE keepme */',
  ])('is blocked by the no-drop-table guardrail at submit: %j', async (input) => {
    const before = await t.gateway.db.review.count();
    const res = await exec('maria', input);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'guardrail_blocked', rule: 'no-drop-table' });
    expect(res.body.error.message).toContain('Dropping tables is blocked');
    expect(await t.gateway.db.review.count()).toBe(before);
    expect(await tableExists('keepme')).toBe(true);
  });
});

describe('DELETE … /*! OR 1=1 */', () => {
  it('is unknown, held for review, and the API and Slack say why', async () => {
    const res = await exec('maria', 'DELETE FROM users WHERE id = 1 /*! OR 1=1 */');
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('PENDING');
    expect(res.body.readOnly).toBe(false);
    expect(res.body.classification).toMatchObject({ kind: 'unknown', statements: [{ kind: 'unknown', command: 'DELETE', tables: ['users'] }] });
    const reason = 'contains the MySQL executable comment /*! … */, which the server runs as code';
    // The server's view is `WHERE id = 1 OR 1=1`: it says first that this bounds nothing.
    expect(res.body.classification.statements[0].warnings[0]).toMatch(/^DELETE with a WHERE that names no column of users/);
    expect(res.body.classification.statements[0].warnings[1]).toContain(reason);
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks ?? '').includes(res.body.id) && JSON.stringify(c.args.blocks).includes(`:warning: ${reason}`)));
    await reject(res.body.id);
    expect(await target.query('SELECT count(*) AS n FROM users')).toEqual([{ n: 3 }]);
  });

  it('is blocked where the server would read it as a DELETE without WHERE', async () => {
    for (const input of ['DELETE FROM users /*! x */', 'DELETE FROM users /*!50000 -- WHERE id = 1\n*/', 'UPDATE users SET status = 1 /*! , email = 2 */']) {
      const res = await exec('maria-strict', input);
      expect(res.status, input).toBe(422);
      expect(res.body.error.rule).toBe('no-unbounded-write');
    }
  });
});

describe('a read the server reads differently from a plain parser', () => {
  it.each(['SELECT 1 --1', 'SELECT id FROM users /*! , email */', 'SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM users'])('is not run at once: %j', async (input) => {
    const res = await exec('maria', input);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'PENDING', readOnly: false, classification: { kind: 'unknown' } });
    expect(res.body.classification.statements[0].warnings.length).toBeGreaterThan(0);
    await reject(res.body.id);
  });

  it('still runs at once when comments are ordinary', async () => {
    const res = await exec('maria', 'SELECT id -- the id\nFROM users # all of them\nWHERE id = 1 /* one */');
    expect(res.body).toMatchObject({ status: 'EXECUTED', readOnly: true, commandTags: ['SELECT 1'] });
  });
});
