// Two admins changing the same connection or webhook at once: each change is audited with the
// "before" it really replaced (the row is locked while it is read and written), so the trail's
// before/after pairs link up instead of both starting from the same old value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

const details = async (action: string) =>
  (await t.gateway.db.auditEvent.findMany({ where: { action }, orderBy: { id: 'asc' }, select: { detail: true } })).map((e) => e.detail as { before: Record<string, unknown>; after: Record<string, unknown> });

describe('changes made at the same moment', () => {
  it('to one connection: each audited before/after starts where the other ended', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'shared', url: target.url, reviewers: ['start'] } })).status).toBe(201);
    const saves = await Promise.all(['one', 'two', 'three', 'four'].map((g) => t.api('POST', '/api/connections?overwrite=true', { body: { name: 'shared', reviewers: [g] } })));
    for (const s of saves) expect(s.status).toBe(200);
    const changes = await details('connection.updated');
    expect(changes).toHaveLength(4);
    // A chain: start → x → y → z → w, each "before" the previous "after".
    expect(changes[0]!.before.reviewers).toEqual(['start']);
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.before.reviewers).toEqual(changes[i - 1]!.after.reviewers);
  });

  it('to one webhook: each audited before/after starts where the other ended', async () => {
    // Made in the table: the API's address check would look the host up (webhooks-api.test.ts tests it).
    const { id } = await t.gateway.db.webhookEndpoint.create({ data: { url: 'https://hooks.example.com/h', events: ['review.created'], secret: 'whsec_dGVzdHRlc3R0ZXN0dGVzdA==' } });
    const saves = await Promise.all(['a', 'b', 'c', 'd'].map((d) => t.api('PATCH', `/api/webhooks/${id}`, { body: { description: d } })));
    for (const s of saves) expect(s.status).toBe(200);
    const changes = await details('webhook.updated');
    expect(changes).toHaveLength(4);
    expect(changes[0]!.before.description).toBeNull();
    for (let i = 1; i < changes.length; i++) expect(changes[i]!.before.description).toBe(changes[i - 1]!.after.description);
  });
});
