// Corrections (issue 14): a reviewer's "Suggest a change" through the API and Slack. The original
// ends REJECTED with a link, the correction carries the suggester's approval, and it runs only once
// its requester accepted it and every group approved.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHoop } from '../helpers/hoop-cli.js';
import { blockAction, slashCommand, suggestSubmission } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string }; // requester
let dana: { id: string; apiKey: string }; // dba-team
let sam: { id: string; apiKey: string }; // security
let eve: { id: string; apiKey: string }; // developers: no reviewer

async function submit(input: string, key = alice.apiKey) {
  const res = await t.api('POST', '/api/connections/dual/exec', { key, body: { input, reason: 'OPS-77' } });
  expect(res.status).toBe(201);
  return res.body;
}
const suggest = (id: string, key: string, body: object) => t.api('POST', `/api/reviews/${id}/suggest`, { key, body });
const review = async (id: string, key?: string) => (await t.api('GET', `/api/reviews/${id}`, key ? { key } : {})).body;
const audit = (reviewId: string) => t.gateway.db.auditEvent.findMany({ where: { reviewId }, orderBy: { id: 'asc' } });

beforeAll(async () => {
  t = await startTestGateway();
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  sam = await t.createUser('sam@example.com', ['security']);
  eve = await t.createUser('eve@example.com', ['developers']);
  for (const [slackId, email] of [['UALICE', 'alice@example.com'], ['UDANA', 'dana@example.com'], ['USAM', 'sam@example.com']]) {
    t.slack.users.set(slackId, { email });
    expect((await t.slackPost(slashCommand(slackId, 'subscribe'))).status).toBe(200);
  }
  const dual = await t.api('POST', '/api/connections', { body: { name: 'dual', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all' } });
  expect(dual.status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('a correction every group approved, waiting for its requester', () => {
  it('can still be stopped by a member of its groups, and then never runs', async () => {
    const original = await submit("UPDATE users SET status = 'stop-me' WHERE id = 3");
    const made = await suggest(original.id, dana.apiKey, { input: "UPDATE users SET status = 'stopped' WHERE id = 3", comment: 'the right value' });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const id = made.body.correction.id;
    expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: sam.apiKey })).status).toBe(200);
    expect(await review(id)).toMatchObject({ status: 'PENDING', approvals: { approved: 2, total: 2 }, correction: { accepted: false } });
    // Nobody outside its groups.
    expect((await t.api('PUT', `/api/reviews/${id}/reject`, { key: eve.apiKey, body: { reason: 'no' } })).status).not.toBe(200);
    const stopped = await t.api('PUT', `/api/reviews/${id}/reject`, { key: sam.apiKey, body: { reason: 'on second thought' } });
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body).toMatchObject({ status: 'REJECTED', rejectReason: 'on second thought' });
    expect((await t.api('PUT', `/api/reviews/${id}/accept`, { key: alice.apiKey })).status).toBe(409);
    expect(await target.query('SELECT status FROM users WHERE id = 3')).toEqual([{ status: 'active' }]);
  });
});

describe('suggest a change through the API', () => {
  it('rejects the original with a link, and runs the corrected command once the requester accepted and the other group approved', async () => {
    const r = await submit("UPDATE users SET status = 'gone'");
    const res = await suggest(r.id, dana.apiKey, { input: "UPDATE users SET status = 'gone'\nWHERE id = 3", comment: 'only user 3' });
    expect(res.status).toBe(201);
    const { original, correction } = res.body;
    expect(original.status).toBe('REJECTED');
    expect(original.rejectReason).toBe(`Changed by dana@example.com: only user 3 (correction ${correction.id})`);
    expect(original.correctedBy).toBe(correction.id);
    expect(correction).toMatchObject({ status: 'PENDING', requester: 'alice@example.com', reason: 'OPS-77', connection: 'dual' });
    expect(correction.correction).toEqual({ of: r.id, suggestedBy: 'dana@example.com', suggestedBySlackId: 'UDANA', comment: 'only user 3', diff: " UPDATE users SET status = 'gone'\n+WHERE id = 3", accepted: false });
    expect(correction.groups.map((g: any) => [g.group, g.status, g.reviewer])).toEqual([['dba-team', 'APPROVED', 'dana@example.com'], ['security', 'PENDING', null]]);
    // The requester sees it, and may accept it; the suggester may not.
    const seen = await review(correction.id, alice.apiKey);
    expect(seen.viewer).toMatchObject({ canAccept: true, canSuggest: false });
    expect((await review(correction.id, dana.apiKey)).viewer.canAccept).toBe(false);
    expect((await t.api('PUT', `/api/reviews/${correction.id}/accept`, { key: dana.apiKey, body: {} })).status).toBe(403);
    // The other group approves first: still waiting for the requester.
    expect((await t.api('PUT', `/api/reviews/${correction.id}/approve`, { key: sam.apiKey, body: {} })).body.status).toBe('PENDING');
    const accepted = await t.api('PUT', `/api/reviews/${correction.id}/accept`, { key: alice.apiKey, body: {} });
    expect(accepted.status).toBe(200);
    expect(accepted.body.correction.accepted).toBe(true);
    const done = await eventually(async () => {
      const v = await review(correction.id);
      return v.status === 'EXECUTED' && v;
    });
    expect(done.rowsAffected).toBe(1);
    expect((await target.query('SELECT id, status FROM users ORDER BY id')).map((u) => u.status)).toEqual(['active', 'active', 'gone']);
    expect((await review(r.id)).status).toBe('REJECTED');
    expect((await audit(r.id)).map((e) => e.action)).toEqual(expect.arrayContaining(['review.rejected', 'review.correction_suggested']));
    const events = (await audit(correction.id)).map((e) => e.action);
    expect(events).toEqual(expect.arrayContaining(['review.created', 'review.correction_suggested', 'review.group_approved', 'review.correction_accepted', 'review.executed']));
    expect(events.indexOf('review.correction_accepted')).toBeLessThan(events.indexOf('review.execution_started'));
  });

  it('does not run a correction every group approved until its requester accepts it', async () => {
    const r = await submit("UPDATE users SET status = 'x1' WHERE id = 1");
    const { correction } = (await suggest(r.id, dana.apiKey, { input: "UPDATE users SET status = 'x1' WHERE id = 2", comment: 'wrong id' })).body;
    const approved = await t.api('PUT', `/api/reviews/${correction.id}/approve`, { key: sam.apiKey, body: {} });
    expect(approved.body.status).toBe('PENDING');
    expect(approved.body.groups.every((g: any) => g.status === 'APPROVED')).toBe(true);
    expect((await target.query("SELECT count(*)::int AS n FROM users WHERE status = 'x1'"))[0].n).toBe(0);
    // The requester may turn it down instead.
    const declined = await t.api('PUT', `/api/reviews/${correction.id}/reject`, { key: alice.apiKey, body: { reason: 'I meant id 1' } });
    expect(declined.status).toBe(200);
    expect(declined.body).toMatchObject({ status: 'REJECTED', rejectReason: 'I meant id 1' });
  });

  it('refuses a command a guardrail blocks and leaves the original pending', async () => {
    const r = await submit("UPDATE users SET status = 'y' WHERE id = 1");
    const res = await suggest(r.id, dana.apiKey, { input: 'TRUNCATE users', comment: 'simpler' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.error.message).toContain('no-truncate');
    expect(res.body.error.message).toContain('still pending');
    const after = await review(r.id);
    expect(after).toMatchObject({ status: 'PENDING', correctedBy: null });
    expect(after.groups.every((g: any) => g.status === 'PENDING')).toBe(true);
  });

  it('refuses an identical command, a missing comment, the requester, and a stranger (audited)', async () => {
    const r = await submit("UPDATE users SET status = 'z' WHERE id = 1");
    const same = await suggest(r.id, dana.apiKey, { input: r.input, comment: 'same' });
    expect(same.status).toBe(400);
    expect(same.body.error.message).toContain('Nothing changed');
    const bare = await suggest(r.id, dana.apiKey, { input: 'SELECT 1' });
    expect(bare.status).toBe(400);
    expect(bare.body.error.message).toContain('"comment" is required');
    const own = await suggest(r.id, alice.apiKey, { input: 'SELECT 2', comment: 'mine' });
    expect(own.status).toBe(403);
    const stranger = await suggest(r.id, eve.apiKey, { input: 'SELECT 3', comment: 'hi' });
    expect(stranger.status).toBe(404);
    const denied = (await audit(r.id)).filter((e) => e.action === 'review.vote_denied');
    expect(denied.map((e: any) => [e.actor, e.detail.action])).toEqual([
      ['dana@example.com', 'suggest'],
      ['dana@example.com', 'suggest'],
      ['alice@example.com', 'suggest'],
      ['eve@example.com', 'suggest'],
    ]);
    expect((await review(r.id)).status).toBe('PENDING');
  });
});

describe('suggest a change in Slack', () => {
  const button = (reviewId: string, group: string) => JSON.stringify({ reviewId, group });
  const sent = (method: string, pred: (args: any) => boolean) => t.slack.waitFor((calls) => calls.some((c) => c.method === method && pred(c.args)));

  it('opens a modal with the command from the button, makes the correction on submission, and shows the diff on both messages', async () => {
    const r = await submit("DELETE FROM users\nWHERE status = 'gone'");
    await sent('chat.postMessage', (a) => a.channel === 'C-REVIEWS' && JSON.stringify(a.blocks).includes(r.id));
    const message = t.slack.callsOf('chat.postMessage').find((c) => c.args.channel === 'C-REVIEWS' && JSON.stringify(c.args.blocks).includes(r.id))!;
    expect(JSON.stringify(message.args.blocks)).toContain('"action_id":"review.suggest"');

    await t.slackPost(blockAction('UDANA', 'review.suggest', button(r.id, 'dba-team')));
    const open = await sent('views.open', (a) => a.view.private_metadata.includes(r.id));
    const view = open.filter((c) => c.method === 'views.open').at(-1)!.args.view;
    expect(view.callback_id).toBe('review.suggest-modal');
    expect(view.blocks.find((b: any) => b.block_id === 'input').element.initial_value).toBe(r.input);
    expect((await review(r.id)).status).toBe('PENDING');

    // A comment is required: the form stays open and says so.
    const bare = await t.slackPost(suggestSubmission('UDANA', view.private_metadata, "DELETE FROM users\nWHERE id = 3", ''));
    expect(bare.body.response_action).toBe('errors');
    expect((await review(r.id)).status).toBe('PENDING');

    const done = await t.slackPost(suggestSubmission('UDANA', view.private_metadata, "DELETE FROM users\nWHERE id = 3", 'one row only'));
    expect(done.status).toBe(200);
    expect(done.body?.response_action).toBeUndefined();
    const original = await review(r.id);
    expect(original.status).toBe('REJECTED');
    const correctionId = original.correctedBy as string;
    expect(correctionId).toBeTruthy();
    // The original's message shows the link; the correction's message the diff.
    await sent('chat.update', (a) => JSON.stringify(a.blocks).includes(`correction ${correctionId}`));
    const posted = await sent('chat.postMessage', (a) => a.channel === 'C-REVIEWS' && JSON.stringify(a.blocks).includes('Correction of'));
    const text = JSON.stringify(posted.filter((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args.blocks).includes('Correction of')).at(-1)!.args.blocks);
    expect(text).toContain(r.id);
    expect(text).toContain("-WHERE status = 'gone'");
    expect(text).toContain('+WHERE id = 3');

    // The requester's DM: the diff and the Accept change button; only they may use it.
    const dm = await sent('chat.postMessage', (a) => a.channel === 'UALICE' && JSON.stringify(a.blocks).includes('review.accept-correction'));
    const accept = dm.filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'UALICE' && JSON.stringify(c.args.blocks).includes('review.accept-correction')).at(-1)!;
    expect(JSON.stringify(accept.args.blocks)).toContain('+WHERE id = 3');
    const value = JSON.stringify({ reviewId: correctionId });
    const before = t.slack.callsOf('chat.postEphemeral').length;
    await t.slackPost(blockAction('USAM', 'review.accept-correction', value, 'D-SAM'));
    await t.slack.waitFor((calls) => calls.filter((c) => c.method === 'chat.postEphemeral').length > before);
    expect(t.slack.callsOf('chat.postEphemeral').at(-1)!.args.text).toContain('Only the requester');
    const deniedEvents = (await audit(correctionId)).filter((e) => e.action === 'review.vote_denied');
    expect(deniedEvents.map((e: any) => [e.actor, e.detail.action])).toEqual([['sam@example.com', 'accept']]);
    expect((await review(correctionId)).correction.accepted).toBe(false);

    await t.slackPost(blockAction('UALICE', 'review.accept-correction', value, 'D-ALICE'));
    await eventually(async () => (await review(correctionId)).correction.accepted === true);
    expect((await review(correctionId)).status).toBe('PENDING');
    expect((await t.api('PUT', `/api/reviews/${correctionId}/approve`, { key: sam.apiKey, body: {} })).status).toBe(200);
    await eventually(async () => (await review(correctionId)).status === 'EXECUTED');
    expect(await target.query('SELECT count(*)::int AS n FROM users WHERE id = 3')).toEqual([{ n: 0 }]);
  });
});

describe('suggest a change with the CLI', () => {
  it('suggests from a file with a comment, shows the correction and its diff, and the requester accepts it', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'hoop-corrections-'));
    const hoop = (args: string[], key: string) => runHoop(args, { apiUrl: t.baseUrl, key, home });
    const r = await submit("UPDATE users SET status = 'cli' WHERE id = 1");
    const missing = await hoop(['review', 'suggest', r.id, '--input', 'SELECT 1'], dana.apiKey);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--comment "TEXT" is required');
    const file = path.join(home, 'fix.sql');
    writeFileSync(file, "UPDATE users SET status = 'cli' WHERE id = 2\n");
    const done = await hoop(['review', 'suggest', r.id, '--file', file, '--comment', 'id 2, not 1'], dana.apiKey);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`Request ${r.id} is rejected`);
    expect(done.stdout).toContain("-UPDATE users SET status = 'cli' WHERE id = 1");
    expect(done.stdout).toContain("+UPDATE users SET status = 'cli' WHERE id = 2");
    const id = /correction (\S+) waits/.exec(done.stdout)![1]!;
    const shown = await hoop(['get', 'review', id], alice.apiKey);
    expect(shown.stdout).toContain(`Correction:  of request ${r.id} by dana@example.com — id 2, not 1`);
    expect(shown.stdout).toContain(`hoop review accept ${id}`);
    expect(shown.stdout).toContain("  +UPDATE users SET status = 'cli' WHERE id = 2");
    expect((await hoop(['get', 'review', r.id], alice.apiKey)).stdout).toContain(`Corrected:   by request ${id}`);
    const refused = await hoop(['review', 'accept', id], sam.apiKey);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Only the requester');
    const accepted = await hoop(['review', 'accept', id], alice.apiKey);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toContain(`Accepted. Review ${id} waits for its reviewer groups (1 of 2 approved)`);
  });
});
