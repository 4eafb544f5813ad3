// Lists page with an opaque keyset cursor and leave large fields out unless asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/gateway/paging.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let outsider: { id: string; apiKey: string };
const BIG = 40_000;
const LONG_INPUT = `SELECT 1 AS one -- ${'y'.repeat(5000)}`;
const BULK = 120; // stored directly, all with one createdAt: ties are broken by id

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  outsider = await t.createUser('out@example.com', ['marketing']);
  await t.createUser('dana@example.com', ['dba-team']);
  // Review mode none: its commands run at once and are stored as requests (a read run without
  // review on a connection in mode writes would leave no request to list).
  await t.api('POST', '/api/connections', { body: { name: 'sandbox', url: target.url, reviewers: [], reviewMode: 'none' } });
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'secret-db', url: target.url, reviewers: ['dba-team'], allowedGroups: ['dba-team'] } });
  const exec = (conn: string, input: string) => t.api('POST', `/api/connections/${conn}/exec`, { key: alice.apiKey, body: { input } });
  for (let i = 0; i < 5; i++) expect((await exec('sandbox', `SELECT repeat('x', ${BIG}) AS big, ${i} AS i`)).body.status).toBe('EXECUTED');
  expect((await exec('prod-db', LONG_INPUT)).status).toBe(201);
  expect((await exec('prod-db', 'SELECT 1;'.repeat(30))).status).toBe(201);
  const conn = await t.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } });
  const at = new Date('2020-01-01T00:00:00.000Z');
  await t.gateway.db.review.createMany({
    data: Array.from({ length: BULK }, (_, i) => ({ connectionId: conn.id, requesterId: alice.id, input: `SELECT ${i} -- bulk`, status: 'EXPIRED' as const, createdAt: at, expiresAt: at, commandTags: [] })),
  });
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

/** Every page of `path` (limit per page), following nextCursor. */
async function allPages(path: string, field: string, limit: number, key?: string): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await t.api('GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { key });
    expect(res.status).toBe(200);
    expect(res.body[field].length).toBeLessThanOrEqual(limit);
    items.push(...res.body[field]);
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor && pages < 1000);
  return { items, pages };
}

describe('GET /api/reviews', () => {
  it('answers {reviews, nextCursor} with 50 by default, newest first', async () => {
    const res = await t.api('GET', '/api/reviews');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['nextCursor', 'reviews']);
    expect(res.body.reviews).toHaveLength(50);
    expect(typeof res.body.nextCursor).toBe('string');
    const times = res.body.reviews.map((r: any) => r.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it.each([1, 7, 50, 200])('visits every review exactly once with pages of %i, even among equal timestamps', async (limit) => {
    const total = await t.gateway.db.review.count();
    const { items, pages } = await allPages('/api/reviews', 'reviews', limit);
    expect(items).toHaveLength(total);
    expect(new Set(items.map((r) => r.id)).size).toBe(total);
    // One row read ahead: no empty last page.
    expect(pages).toBe(Math.ceil(total / limit));
  });

  it('pages within a status filter and within what the caller may see', async () => {
    const pending = await allPages('/api/reviews?status=pending', 'reviews', 1);
    expect(pending.items.map((r) => r.input).sort()).toEqual(['SELECT 1;'.repeat(30).slice(0, 200), LONG_INPUT.slice(0, 200)].sort());
    const theirs = await allPages('/api/reviews', 'reviews', 3, outsider.apiKey);
    expect(theirs.items).toEqual([]);
    expect(theirs.pages).toBe(1);
  });

  it('leaves out output and cuts input and statements unless asked, keeping the answer small', async () => {
    const res = await t.api('GET', '/api/reviews?limit=200');
    const executed = res.body.reviews.filter((r: any) => r.status === 'EXECUTED');
    expect(executed).toHaveLength(5);
    for (const r of res.body.reviews) expect(r).not.toHaveProperty('output');
    const long = res.body.reviews.find((r: any) => r.input.startsWith('SELECT 1 AS one --'));
    expect(long.input).toHaveLength(200);
    expect(long.inputTruncated).toBe(true);
    const short = res.body.reviews.find((r: any) => r.input === 'SELECT 0 -- bulk');
    expect(short.inputTruncated).toBe(false);
    const many = res.body.reviews.find((r: any) => r.input.startsWith('SELECT 1;SELECT 1;'));
    expect(many.classification.statements).toHaveLength(20);
    expect(many.classification.statementCount).toBe(30);
    expect(JSON.stringify(res.body).length).toBeLessThan(150_000);

    const full = await t.api('GET', '/api/reviews?limit=200&include=output,input,classification');
    const withOutput = full.body.reviews.filter((r: any) => r.status === 'EXECUTED');
    expect(withOutput.every((r: any) => r.output.includes('x'.repeat(BIG)))).toBe(true);
    expect(full.body.reviews.find((r: any) => r.input === LONG_INPUT).inputTruncated).toBe(false);
    expect(full.body.reviews.find((r: any) => r.input === 'SELECT 1;'.repeat(30)).classification.statements).toHaveLength(30);
    expect(JSON.stringify(full.body).length).toBeGreaterThan(5 * BIG);

    const onlyOutput = await t.api('GET', '/api/reviews?limit=200&include=output');
    expect(onlyOutput.body.reviews.find((r: any) => r.input.startsWith('SELECT 1 AS one')).inputTruncated).toBe(true);
    expect(onlyOutput.body.reviews.filter((r: any) => r.status === 'EXECUTED').every((r: any) => r.output.length > BIG)).toBe(true);
  });

  it('keeps the whole review, output included, in GET /api/reviews/:id', async () => {
    const id = (await t.api('GET', '/api/reviews?status=executed&limit=1')).body.reviews[0].id;
    const one = await t.api('GET', `/api/reviews/${id}`);
    expect(one.body.output).toContain('x'.repeat(BIG));
  });

  it.each([
    ['not base64 at all', '%%%'],
    ['base64 of something else', Buffer.from('hello').toString('base64url')],
    ['a cursor of another list', encodeCursor('connections', ['prod-db'])],
    ['a forged id', encodeCursor('reviews', ['2020-01-01T00:00:00.000Z', "1' OR '1'='1"])],
    ['a forged time', encodeCursor('reviews', ['yesterday', '00000000-0000-0000-0000-000000000000'])],
    ['too many parts', encodeCursor('reviews', ['2020-01-01T00:00:00.000Z', '00000000-0000-0000-0000-000000000000', 'x'])],
  ])('refuses %s as a cursor with a 400 that says where cursors come from', async (_what, cursor) => {
    const res = await t.api('GET', `/api/reviews?cursor=${encodeURIComponent(cursor)}`);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('pass the nextCursor of the previous page unchanged');
  });
});

describe('GET /api/connections and /api/users', () => {
  it('page by name and by email, 200 at most, and end with a null cursor', async () => {
    const connections = await allPages('/api/connections', 'connections', 1);
    expect(connections.items.map((c) => c.name)).toEqual(['prod-db', 'sandbox', 'secret-db']);
    expect(connections.pages).toBe(3);
    const users = await allPages('/api/users', 'users', 2);
    expect(users.items.map((u) => u.email)).toEqual(['alice@example.com', 'dana@example.com', 'out@example.com', 'root@example.com']);
    const all = await t.api('GET', '/api/connections');
    expect(all.body.nextCursor).toBeNull();
    expect((await t.api('GET', '/api/users?limit=201')).status).toBe(400);
    expect((await t.api('GET', '/api/connections?limit=500')).body.error.message).toContain('1 to 200');
  });

  it('never shows a hidden connection on any page', async () => {
    const seen = await allPages('/api/connections', 'connections', 1, outsider.apiKey);
    expect(seen.items.map((c) => c.name)).toEqual(['prod-db', 'sandbox']);
  });

  it('refuses a cursor of another list', async () => {
    const res = await t.api('GET', `/api/users?cursor=${encodeCursor('connections', ['prod-db'])}`);
    expect(res.status).toBe(400);
  });
});
