// Bad input of every kind gets a 400 (or 413) that says what is accepted, and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

/** A request with a raw body (a string sent as is) and its JSON answer. */
async function raw(method: string, path: string, body: string | undefined, opts: { key?: string; type?: string | null } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${opts.key ?? ADMIN_KEY}` };
  if (opts.type !== null) headers['content-type'] = opts.type ?? 'application/json';
  const res = await fetch(t.baseUrl + path, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json };
}

const pending = async () => (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 1', reason: 'test' } })).body.id as string;
const statusOf = async (id: string) => (await t.api('GET', `/api/reviews/${id}`)).body.status;

describe('an empty JSON body', () => {
  it.each(['', ' ', '\n\t '])('is read as {} on approve and reject (body %j)', async (text) => {
    const a = await pending();
    const ok = await raw('PUT', `/api/reviews/${a}/approve`, text, { key: dana.apiKey });
    expect(ok.status).toBe(200);
    expect(ok.body.groups[0].status).toBe('APPROVED');
    const b = await pending();
    const rej = await raw('PUT', `/api/reviews/${b}/reject`, text, { key: dana.apiKey });
    expect(rej.status).toBe(200);
    expect(rej.body.status).toBe('REJECTED');
  });

  it('is read as {} on routes that need fields, which then say what is missing', async () => {
    const exec = await raw('POST', '/api/connections/prod-db/exec', '', { key: alice.apiKey });
    expect(exec.status).toBe(400);
    expect(exec.body.error.message).toContain('Give the SQL to run in "input"');
    const user = await raw('POST', '/api/users', '');
    expect(user.status).toBe(400);
    expect(user.body.error.message).toContain('"email"');
    const conn = await raw('POST', '/api/connections', '');
    expect(conn.body.error.message).toContain('"name"');
  });
});

describe('a body that is not a JSON object', () => {
  it.each(['[]', '["SELECT 1"]', '"SELECT 1"', '42', 'true', 'null'])('is refused on exec, approve and users: %s', async (text) => {
    const before = await t.gateway.db.review.count();
    for (const [method, path, key] of [
      ['POST', '/api/connections/prod-db/exec', alice.apiKey],
      ['PUT', '/api/reviews/00000000-0000-0000-0000-000000000000/approve', dana.apiKey],
      ['POST', '/api/users', ADMIN_KEY],
    ] as const) {
      const res = await raw(method, path, text, { key });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error.message).toContain('must be a JSON object');
    }
    expect(await t.gateway.db.review.count()).toBe(before);
  });

  it.each(['{', '{"input": "SELECT 1",}', "{'input': 'SELECT 1'}", '{"input": "SELECT 1"} trailing'])('is refused as invalid JSON: %s', async (text) => {
    const res = await raw('POST', '/api/connections/prod-db/exec', text, { key: alice.apiKey });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_input');
    expect(res.body.error.message).toContain('not valid JSON');
  });

  it('is refused with a hint when it is not JSON at all', async () => {
    const res = await raw('POST', '/api/connections/prod-db/exec', 'SELECT 1', { key: alice.apiKey, type: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.body.error.message).toContain('Content-Type: application/json');
  });
});

describe('fields', () => {
  it.each([
    [{ input: 42 }, '"input" must be a string'],
    [{ input: ['SELECT 1'] }, '"input" must be a string (got an array)'],
    [{ input: { sql: 'SELECT 1' } }, '"input" must be a string'],
    [{ input: 'SELECT 1', reason: 7 }, '"reason" must be a string'],
    [{ input: 'SELECT 1', reasn: 'typo' }, 'does not take "reasn". It accepts: input, reason'],
    [{ sql: 'SELECT 1' }, 'does not take "sql"'],
  ])('of the wrong type or unknown are refused on exec: %j', async (body, message) => {
    const before = await t.gateway.db.review.count();
    const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect(await t.gateway.db.review.count()).toBe(before);
  });

  it.each([
    ['approve', { groups: ['dba-team'] }, 'does not take "groups". It accepts: group, reason'],
    ['approve', { group: ['dba-team'] }, '"group" must be a string'],
    ['reject', { reason: { text: 'no' } }, '"reason" must be a string'],
    ['reject', { why: 'no' }, 'does not take "why"'],
  ])('of the wrong type or unknown are refused on %s, leaving the request pending: %j', async (action, body, message) => {
    const id = await pending();
    const res = await t.api('PUT', `/api/reviews/${id}/${action}`, { key: dana.apiKey, body });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect(await statusOf(id)).toBe('PENDING');
  });
});

describe('length caps', () => {
  it('accepts a submit reason of 2,000 characters (emoji count as one) and refuses 2,001', async () => {
    const at = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 1', reason: 'r'.repeat(2000) } });
    expect(at.status).toBe(201);
    const emoji = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 1', reason: '🚀'.repeat(2000) } });
    expect(emoji.status).toBe(201);
    const before = await t.gateway.db.review.count();
    const over = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 1', reason: 'r'.repeat(2001) } });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toBe('"reason" is 2,001 characters long; at most 2,000 are accepted. Shorten it.');
    expect(await t.gateway.db.review.count()).toBe(before);
  });

  it('accepts a reject reason of 1,000 characters and refuses 1,001 (and an approval reason too), leaving the request pending', async () => {
    const id = await pending();
    const over = await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'x'.repeat(1001) } });
    expect(over.status).toBe(400);
    expect(over.body.error.message).toContain('at most 1,000');
    const approveOver = await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey, body: { reason: 'x'.repeat(5000) } });
    expect(approveOver.status).toBe(400);
    expect(await statusOf(id)).toBe('PENDING');
    const at = await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'x'.repeat(1000) } });
    expect(at.status).toBe(200);
    expect(at.body.rejectReason).toHaveLength(1000);
  });

  it('answers 413 to a body over 2 MiB and 400 to a command over 1 MiB, creating nothing', async () => {
    const before = await t.gateway.db.review.count();
    const huge = await raw('POST', '/api/connections/prod-db/exec', JSON.stringify({ input: 'SELECT 1; -- ' + 'x'.repeat(3 * 1024 * 1024) }), { key: alice.apiKey });
    expect(huge.status).toBe(413);
    expect(huge.body.error).toMatchObject({ code: 'too_large' });
    expect(huge.body.error.message).toContain('2 MiB');
    const big = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: 'SELECT 1; -- ' + 'x'.repeat(1536 * 1024) } });
    expect(big.status).toBe(400);
    expect(big.body.error.message).toContain('larger than 1048576 bytes');
    const hugeApprove = await raw('PUT', '/api/reviews/00000000-0000-0000-0000-000000000000/approve', JSON.stringify({ reason: 'x'.repeat(3 * 1024 * 1024) }), { key: dana.apiKey });
    expect(hugeApprove.status).toBe(413);
    expect(await t.gateway.db.review.count()).toBe(before);
  });
});

describe('query parameters', () => {
  it.each([
    ['/api/reviews?status=pending&status=failed', 'The query parameter "status" was given 2 times; give it once.'],
    ['/api/reviews?status=pending&status=pending', 'given 2 times'],
    ['/api/reviews?status=bogus', '"bogus" is not a valid value of the query parameter "status"'],
    ['/api/reviews?status=', 'is not a valid value of the query parameter "status"'],
    ['/api/reviews?stat=pending', 'Unknown query parameter "stat"'],
    ['/api/reviews?limit=0', '"limit"'],
    ['/api/reviews?limit=201', 'rows per page, 1 to 200'],
    ['/api/reviews?limit=1.5', '"limit"'],
    ['/api/reviews?limit=ten', '"limit"'],
    ['/api/reviews?include=secrets', '"include"'],
    ['/api/reviews?include=output,secrets', '"include"'],
  ])('GET %s answers 400 naming what /api/reviews accepts', async (path, message) => {
    const res = await t.api('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain(message);
    expect(res.body.error.message).toContain("GET /api/reviews accepts: status (one of pending, approved, running, executed, failed, rejected, expired, granted, ended); connection (a connection's name, e.g. prod-db); requester (the requester's email, e.g. alice@example.com); include (comma-separated: output, input, classification); limit (rows per page, 1 to 200, default 50); cursor (the nextCursor of the previous page).");
  });

  it.each(['wait=-1', 'wait=abc', 'wait=', 'wait=1&wait=2', 'wait=Infinity', 'waitt=5', 'status=pending'])('GET /api/reviews/:id?%s answers 400 naming "wait"', async (query) => {
    const id = await pending();
    const res = await t.api('GET', `/api/reviews/${id}?${query}`, { key: alice.apiKey });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('GET /api/reviews/:id accepts: wait (seconds to wait for a decision, at most 600).');
  });

  it.each(['overwrite=yes', 'overwrite=1', 'overwrite', 'overwrite=true&overwrite=true', 'force=true'])('POST /api/connections?%s answers 400 naming "overwrite", changing nothing', async (query) => {
    const res = await t.api('POST', `/api/connections?${query}`, { body: { name: 'prod-db', reviewers: ['nobody'] } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('POST /api/connections accepts: overwrite (true or false).');
    const list = await t.api('GET', '/api/connections');
    expect(list.body.connections.find((c: any) => c.name === 'prod-db').reviewers).toEqual(['dba-team']);
  });

  it.each(['/api/me?verbose=1', '/api/reviews/00000000-0000-0000-0000-000000000000/events?limit=5'])('%s answers 400: the route takes no query parameters', async (path) => {
    const res = await t.api('GET', path);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/takes no query parameters\.$/);
  });

  it('still accepts well-formed parameters, status in any case, and overwrite=false', async () => {
    // The newest review is not pending, so an ignored filter would show it.
    await pending();
    const newest = await pending();
    expect((await t.api('PUT', `/api/reviews/${newest}/reject`, { key: dana.apiKey, body: { reason: 'not pending any more' } })).status).toBe(200);
    const res = await t.api('GET', '/api/reviews?status=PENDING&limit=2&include=output,input');
    expect(res.status).toBe(200);
    expect(res.body.reviews.length).toBeGreaterThan(0);
    expect(res.body.reviews.every((r: any) => r.status === 'PENDING')).toBe(true);
    const again = await t.api('POST', '/api/connections?overwrite=false', { body: { name: 'prod-db', url: target.url, reviewers: ['x'] } });
    expect(again.status).toBe(409);
  });

  it('answers 401, not 400, to a bad query without a valid key', async () => {
    const res = await t.api('GET', '/api/reviews?status=a&status=b', { key: 'hoop_nope' });
    expect(res.status).toBe(401);
  });
});

describe('a NUL character (U+0000), which the state database cannot store', () => {
  it('is refused with a 400 naming where it is, in a command, a reason, a nested field, a query and a path, creating nothing', async () => {
    const before = await t.gateway.db.review.count();
    const cases: Array<[string, string, string | undefined, RegExp]> = [
      ['POST', '/api/connections/prod-db/exec', JSON.stringify({ input: "UPDATE users SET status = 'a\u0000b'", reason: 'x' }), /body carries a NUL character \(U\+0000\) in input/],
      ['POST', '/api/connections/prod-db/exec', JSON.stringify({ input: 'SELECT 1', reason: 'x\u0000' }), /in reason/],
      ['POST', '/api/connections/prod-db/exec', JSON.stringify({ input: "SELECT '\u0000'" }), /in input/],
      ['POST', '/api/users', JSON.stringify({ email: 'nul@example.com', groups: ['ok', 'g\u0000'] }), /in groups\[1\]/],
      ['GET', '/api/reviews?requester=a%00b', undefined, /query carries a NUL character \(U\+0000\) in requester/],
      ['GET', '/api/users/a%00b%40example.com', undefined, /path carries a NUL character/],
    ];
    for (const [method, path, body, message] of cases) {
      const r = await raw(method, path, body, { key: method === 'POST' && path.includes('exec') ? alice.apiKey : ADMIN_KEY });
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.body.error.code).toBe('bad_input');
      expect(r.body.error.message).toMatch(message);
      expect(r.body.error.message).toMatch(/Remove it and send again/);
    }
    expect(await t.gateway.db.review.count()).toBe(before);
    expect(await t.gateway.db.user.count({ where: { email: 'nul@example.com' } })).toBe(0);
  });
});
