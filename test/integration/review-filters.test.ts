// GET /api/reviews filtered by connection and requester (the web app's Access Requests filters),
// and what GET /api/reviews/:id tells its viewer they may decide (the page's Approve and Reject).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let carol: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let outsider: { id: string; apiKey: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  carol = await t.createUser('carol@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  outsider = await t.createUser('out@example.com', ['marketing']);
  await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'billing', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  await t.api('POST', '/api/connections', { body: { name: 'secret-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all', allowedGroups: ['dba-team'] } });
  const exec = async (name: string, conn: string, key: string) => {
    const res = await t.api('POST', `/api/connections/${conn}/exec`, { key, body: { input: `SELECT '${name}'`, reason: 'test' } });
    expect(res.status).toBe(201);
    ids[name] = res.body.id;
  };
  await exec('alice-prod', 'prod-db', alice.apiKey);
  await exec('alice-billing', 'billing', alice.apiKey);
  await exec('carol-prod', 'prod-db', carol.apiKey);
  await exec('dana-secret', 'secret-db', dana.apiKey);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

const listIds = async (query: string, key?: string) => {
  const res = await t.api('GET', `/api/reviews${query}`, { key });
  expect(res.status).toBe(200);
  return res.body.reviews.map((r: { id: string }) => r.id);
};

describe('GET /api/reviews filters', () => {
  it('filters by connection name, newest first', async () => {
    expect(await listIds('?connection=prod-db')).toEqual([ids['carol-prod'], ids['alice-prod']]);
  });

  it('filters by requester email, whatever its letter case', async () => {
    expect(await listIds('?requester=Alice@Example.com')).toEqual([ids['alice-billing'], ids['alice-prod']]);
  });

  it('combines connection, requester and status', async () => {
    expect(await listIds('?connection=prod-db&requester=alice@example.com&status=pending')).toEqual([ids['alice-prod']]);
    expect(await listIds('?connection=prod-db&requester=alice@example.com&status=executed')).toEqual([]);
  });

  it('still shows only what the caller may see: a filter on a connection they may not use finds nothing', async () => {
    expect(await listIds('?connection=prod-db', alice.apiKey)).toEqual([ids['alice-prod']]);
    expect(await listIds('?connection=secret-db', alice.apiKey)).toEqual([]);
    expect(await listIds('?requester=dana@example.com', alice.apiKey)).toEqual([]);
    expect(await listIds('?connection=no-such-db')).toEqual([]);
  });

  it('refuses a malformed connection or requester in words that say what is accepted', async () => {
    const bad = await t.api('GET', '/api/reviews?connection=prod%20db');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('"prod db" is not a valid value of the query parameter "connection"');
    expect(bad.body.error.message).toContain("connection (a connection's name, e.g. prod-db)");
    const email = await t.api('GET', '/api/reviews?requester=alice');
    expect(email.status).toBe(400);
    expect(email.body.error.message).toContain('"alice" is not a valid value of the query parameter "requester"');
    expect(email.body.error.message).toContain("requester (the requester's email");
    expect((await t.api('GET', `/api/reviews?connection=${'a'.repeat(64)}`)).status).toBe(400);
    expect((await t.api('GET', '/api/reviews?requester=a@b&requester=c@d')).status).toBe(400);
  });
});

describe('hoop admin get reviews --connection --requester', () => {
  it('lists what the API filters, and says which filters found nothing', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'hoop-filters-'));
    try {
      const run = (args: string[]) => runHoop(['admin', 'get', 'reviews', ...args], { apiUrl: t.baseUrl, key: ADMIN_KEY, home });
      const json = await run(['--connection', 'prod-db', '--requester', 'carol@example.com', '-o', 'json']);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).map((r: { id: string }) => r.id)).toEqual([ids['carol-prod']]);
      const none = await run(['--connection', 'billing', '--requester', 'carol@example.com']);
      expect(none.stdout.trim()).toBe('No reviews with connection billing, requester carol@example.com.');
      const bad = await run(['--requester', 'carol']);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain('"carol" is not a valid value of the query parameter "requester"');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('GET /api/reviews/:id viewer', () => {
  it('tells a member of the reviewer group they may approve and reject', async () => {
    const res = await t.api('GET', `/api/reviews/${ids['alice-prod']}`, { key: dana.apiKey });
    expect(res.body.viewer).toEqual({ canDecide: true, groups: ['dba-team'], approveGroups: ['dba-team'], why: null, canRevoke: false, canSuggest: true, canAccept: false });
  });

  it('tells the requester they may not approve their own request, in the words of the API', async () => {
    const res = await t.api('GET', `/api/reviews/${ids['alice-prod']}`, { key: alice.apiKey });
    expect(res.body.viewer.canDecide).toBe(false);
    expect(res.body.viewer.why).toContain('You cannot approve your own request');
    const vote = await t.api('PUT', `/api/reviews/${ids['alice-prod']}/approve`, { key: alice.apiKey, body: {} });
    expect(vote.status).toBe(403);
    expect(vote.body.error.message).toBe(res.body.viewer.why);
  });

  it('answers a vote with what the voter may still decide (nothing, once rejected)', async () => {
    const res = await t.api('PUT', `/api/reviews/${ids['alice-billing']}/reject`, { key: dana.apiKey, body: { reason: 'not now' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('REJECTED');
    expect(res.body.viewer).toMatchObject({ canDecide: false, groups: [], why: expect.stringContaining('already rejected') });
  });

  it('never tells an outsider anything about a request they may not see', async () => {
    expect((await t.api('GET', `/api/reviews/${ids['carol-prod']}`, { key: outsider.apiKey })).status).toBe(404);
  });
});
