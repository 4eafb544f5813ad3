// Outside review of issue 7: access paths an outsider or a former insider would try. All of these
// held on this main; they are kept as regression tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let fiona: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  target = await createTargetDatabase();
  t = await startTestGateway();
  alice = await t.createUser('alice@example.com', ['developers']);
  fiona = await t.createUser('fiona@example.com', ['finance']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'fin', url: target.url, reviewers: ['dba-team'], allowedGroups: ['finance'] } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('held: a restricted connection and its requests are invisible to outsiders', () => {
  it('on every API path', async () => {
    const read = await t.api('POST', '/api/connections/fin/exec', { key: fiona.apiKey, body: { input: 'SELECT email FROM users' } });
    expect(read.body.status).toBe('EXECUTED');
    const write = await t.api('POST', '/api/connections/fin/exec', { key: fiona.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1" } });
    expect(write.body.status).toBe('PENDING');
    for (const id of [read.body.id, write.body.id]) {
      expect((await t.api('GET', `/api/reviews/${id}`, { key: alice.apiKey })).status).toBe(404);
      expect((await t.api('GET', `/api/reviews/${id}?wait=1`, { key: alice.apiKey })).status).toBe(404);
      expect((await t.api('GET', `/api/reviews/${id}/events`, { key: alice.apiKey })).status).toBe(404);
    }
    expect((await t.api('PUT', `/api/reviews/${write.body.id}/approve`, { key: alice.apiKey })).status).toBe(404);
    expect((await t.api('PUT', `/api/reviews/${write.body.id}/reject`, { key: alice.apiKey, body: { reason: 'x' } })).status).toBe(404);
    const list = await t.api('GET', '/api/reviews?include=output,input', { key: alice.apiKey });
    expect(JSON.stringify(list.body)).not.toContain(read.body.id);
    expect((await t.api('POST', '/api/connections/fin/exec', { key: alice.apiKey, body: { input: 'SELECT 1' } })).status).toBe(404);
    expect(JSON.stringify((await t.api('GET', '/api/connections', { key: alice.apiKey })).body)).not.toContain('"fin"');
    // The reviewers see and decide it.
    expect((await t.api('PUT', `/api/reviews/${write.body.id}/approve`, { key: dana.apiKey })).status).toBe(200);
  });
});

describe('held: keys and users', () => {
  it('a revoked key fails at once, and a deactivated user can do nothing until reactivated', async () => {
    const extra = await t.api('POST', `/api/users/${alice.id}/keys`, { key: alice.apiKey, body: { name: 'laptop' } });
    expect(extra.status).toBe(201);
    expect((await t.api('GET', '/api/me', { key: extra.body.apiKey })).status).toBe(200);
    // Alice cannot revoke Dana's keys, nor list them.
    const danaKeys = await t.api('GET', `/api/users/${dana.id}/keys`);
    expect((await t.api('DELETE', `/api/keys/${danaKeys.body.keys[0].id}`, { key: alice.apiKey })).status).toBe(404);
    expect((await t.api('GET', `/api/users/${dana.id}/keys`, { key: alice.apiKey })).status).toBe(403);
    expect((await t.api('DELETE', `/api/keys/${extra.body.key.id}`, { key: alice.apiKey })).status).toBe(200);
    expect((await t.api('GET', '/api/me', { key: extra.body.apiKey })).status).toBe(401);
    // Alice cannot make herself admin or change her groups.
    expect((await t.api('PATCH', `/api/users/${alice.id}`, { key: alice.apiKey, body: { admin: true } })).status).toBe(403);
    expect((await t.api('PATCH', '/api/users/ALICE@EXAMPLE.COM', { body: { active: false } })).status).toBe(200);
    expect((await t.api('GET', '/api/me', { key: alice.apiKey })).status).toBe(401);
    expect((await t.api('POST', '/api/connections/fin/exec', { key: alice.apiKey, body: { input: 'SELECT 1' } })).status).toBe(401);
    expect((await t.api('PATCH', `/api/users/${alice.id}`, { body: { active: true } })).status).toBe(200);
    expect((await t.api('GET', '/api/me', { key: alice.apiKey })).status).toBe(200);
  });

  it('a user cannot create a key for someone else', async () => {
    expect((await t.api('POST', `/api/users/${dana.id}/keys`, { key: alice.apiKey, body: {} })).status).toBe(403);
    expect((await t.api('POST', '/api/users/DANA@example.com/keys', { key: alice.apiKey, body: {} })).status).toBe(403);
  });
});
