// `GET /api/admin/doctor` and `hoop admin doctor` on a gateway with Slack and Teams on (issue 10:
// the README's "notifications not arriving" steps as checks): every check ok, the bot missing from
// a channel, reviewers who have not linked Slack, Teams cards stuck, and never a Workflows URL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTeams, type FakeTeams } from '../fakes/fake-teams.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';
import { doctorChecks, findCheck, upsertConnection, type Check } from '../helpers/doctor-checks.js';

let t: TestGateway;
let teams: FakeTeams;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let home: string;
let alice: { id: string; apiKey: string };

const doctor = () => doctorChecks(t);

const find = findCheck;
const notOk = (checks: Check[]) => checks.filter((c) => c.status !== 'ok');

const hoop = (args: string[], key = ADMIN_KEY) => runHoop(args, { apiUrl: t.baseUrl, key, home });

const connection = (name: string, extra: Record<string, unknown> = {}) => upsertConnection(t, target.url, name, extra);

const link = (email: string, slackUserId: string) => t.gateway.db.user.update({ where: { email }, data: { identities: { create: { provider: 'slack', externalId: slackUserId } } } });

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-doctor-'));
  teams = await startFakeTeams();
  target = await createTargetDatabase();
  t = await startTestGateway({ env: { TEAMS_WEBHOOK_URL: teams.urlOf('default'), PUBLIC_URL: 'https://hoop.example.com' } });
  t.slack.channels.set('C-REVIEWS', { name: 'reviews' });
  t.slack.channels.set('COPS', { name: 'ops' });
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  await link('dana@example.com', 'UDANA');
  await connection('prod-db', { slackChannel: 'COPS' });
});

afterAll(async () => {
  await t?.stop();
  await teams?.close();
  await target?.drop();
});

describe('on a gateway where everything is set up', () => {
  it('answers every check ok, having asked Slack about the token and each channel', async () => {
    const id = (await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'OPS-1' } })).body.id;
    await eventually(async () => teams.accepted.some((a) => JSON.stringify(a.card).includes(id)), 10_000, 'the Teams card');
    const checks = await doctor();
    expect(notOk(checks)).toEqual([]);
    expect(find(checks, 'slack', 'auth')?.message).toMatch(/bot @hoop \(UBOT\) in workspace acme \(T1\)/);
    expect(find(checks, 'slack', 'channel C-REVIEWS')?.message).toMatch(/#reviews .*SLACK_CHANNEL.* member/);
    expect(find(checks, 'slack', 'channel COPS')?.message).toMatch(/#ops \(set by connection prod-db\)/);
    expect(find(checks, 'slack', 'reviewers linked: prod-db')?.message).toMatch(/Every reviewer of prod-db \(1\)/);
    expect(find(checks, 'teams', 'delivery: prod-db')?.message).toMatch(/the last card arrived \d+ s ago/);
    expect(t.slack.callsOf('conversations.info').map((c) => c.args.channel).sort()).toEqual(['C-REVIEWS', 'COPS']);
    for (const c of checks) expect(c.fix, c.name).toBeNull();
  });

  it('prints them with ✓ and exits 0 (and the same as JSON with -o json)', async () => {
    const run = await hoop(['admin', 'doctor']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^✓ slack auth +Slack accepts the token/m);
    expect(run.stdout).not.toMatch(/^[!✗]/m);
    expect(run.stdout).toMatch(/\d+ ok, 0 warnings, 0 failed\.\n$/);
    const json = await hoop(['admin', 'doctor', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).checks.every((c: Check) => c.status === 'ok')).toBe(true);
  });
});

describe('when the bot cannot use a channel', () => {
  it('fails a public channel it is not in, with the /invite to run', async () => {
    t.slack.channels.set('COPS', { name: 'ops', isMember: false });
    const c = find(await doctor(), 'slack', 'channel COPS')!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/not a member of #ops/);
    expect(c.fix).toBe('In Slack, in #ops: /invite @hoop');
  });

  it('fails a private channel it is not in, an unknown channel and a channel given by name, each saying what to set', async () => {
    t.slack.channels.set('COPS', { name: 'ops', isPrivate: true, isMember: false });
    await connection('gone-db', { slackChannel: 'CGONE' });
    await connection('named-db', { slackChannel: '#db-reviews' });
    const checks = await doctor();
    for (const [name, conn] of [['channel COPS', 'prod-db'], ['channel CGONE', 'gone-db'], ['channel #db-reviews', 'named-db']]) {
      const c = find(checks, 'slack', name)!;
      expect(c.status, name).toBe('fail');
      expect(c.message, name).toMatch(/does not exist, or it is private and the bot is not in it/);
      expect(c.fix, name).toContain('/invite @hoop');
      expect(c.fix, name).toContain(`hoop admin create connection ${conn} --overwrite --channel`);
    }
    expect(find(checks, 'slack', 'channel #db-reviews')!.message).toMatch(/looks like a channel name: the gateway needs the channel's ID/);
    expect(find(checks, 'slack', 'channel C-REVIEWS')!.status).toBe('ok');
  });

  it('fails an archived channel, and exits 1 from the CLI with the fix under the failing check', async () => {
    t.slack.channels.set('COPS', { name: 'ops', isArchived: true });
    expect(find(await doctor(), 'slack', 'channel COPS')).toMatchObject({ status: 'fail', message: expect.stringMatching(/#ops .* is archived/) });
    const run = await hoop(['admin', 'doctor']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✗ slack channel CGONE +Slack knows no channel CGONE.*\n {4}fix: In Slack, in that channel: \/invite @hoop/m);
    expect(run.stdout).toMatch(/^✓ slack channel C-REVIEWS/m);
    expect(run.stdout).toMatch(/\d+ ok, \d+ warnings?, [1-9]\d* failed\.\n$/);
    const json = await hoop(['admin', 'doctor', '-o', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).checks.filter((c: Check) => c.status === 'fail').length).toBeGreaterThanOrEqual(3);
    await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'gone-db', reviewMode: 'none', plugins: ['teams'] } });
    await t.api('POST', '/api/connections?overwrite=true', { body: { name: 'named-db', reviewMode: 'none', plugins: ['teams'] } });
    t.slack.channels.set('COPS', { name: 'ops' });
  });
});

describe('reviewers who have not linked Slack', () => {
  it('are listed by email with their groups; linked ones are not', async () => {
    await t.createUser('bo@example.com', ['dba-team', 'security']);
    await t.createUser('cy@example.com', ['security']);
    await connection('prod-db', { slackChannel: 'COPS', reviewers: ['dba-team', 'security'] });
    const c = find(await doctor(), 'slack', 'reviewers linked: prod-db')!;
    expect(c.status).toBe('warn');
    expect(c.message).toMatch(/^2 of 3 reviewers of prod-db have not linked Slack/);
    expect(c.message).toContain('bo@example.com (dba-team, security), cy@example.com (security)');
    expect(c.message).not.toContain('dana@example.com');
    expect(c.message).not.toContain('alice@example.com');
    expect(c.fix).toBe('Each of them runs /hoop subscribe in Slack.');
    await link('bo@example.com', 'UBO');
    await link('cy@example.com', 'UCY');
    expect(find(await doctor(), 'slack', 'reviewers linked: prod-db')!.status).toBe('ok');
  });

  it('warns about reviewer groups nobody active is in, but not for a connection that reviews nothing', async () => {
    await connection('lonely-db', { slackChannel: 'COPS', reviewers: ['night-shift'] });
    await t.createUser('nia@example.com', ['night-shift']);
    await t.api('PATCH', '/api/users/nia@example.com', { body: { active: false } });
    let c = find(await doctor(), 'slack', 'reviewers linked: lonely-db')!;
    expect(c).toMatchObject({ status: 'warn', message: expect.stringMatching(/^No active user is in night-shift, the reviewer groups of lonely-db: nobody .* can approve them\.$/), fix: expect.stringMatching(/--groups night-shift/) });
    await t.api('PATCH', '/api/users/nia@example.com', { body: { active: true } });
    c = find(await doctor(), 'slack', 'reviewers linked: lonely-db')!;
    expect(c).toMatchObject({ status: 'warn', message: expect.stringMatching(/^1 of 1 reviewers of lonely-db .*: nia@example.com \(night-shift\)\.$/) });
    await connection('lonely-db', { slackChannel: 'COPS', reviewers: ['night-shift'], reviewMode: 'none' });
    expect(find(await doctor(), 'slack', 'reviewers linked: lonely-db')).toBeUndefined();
  });
});

describe('Teams', () => {
  it('fails a connection whose cards are stuck in posting, and warns when later cards arrived', async () => {
    const review = await t.gateway.db.review.findFirstOrThrow({ where: { connection: { name: 'prod-db' } } });
    const old = new Date(Date.now() - 10 * 60_000);
    await t.gateway.db.channelMessage.updateMany({ where: { channel: 'teams', reviewId: review.id }, data: { postedAt: new Date(Date.now() - 20 * 60_000) } });
    await t.gateway.db.channelMessage.create({ data: { reviewId: review.id, channel: 'teams', target: 'f'.repeat(64), kind: 'review.rejected', status: 'posting', attempts: 4, createdAt: old } });
    let c = find(await doctor(), 'teams', 'delivery: prod-db')!;
    expect(c.status).toBe('fail');
    expect(c.message).toMatch(/^1 card of prod-db not posted in the last day \(the oldest since .*, up to 4 attempts\); the last card arrived 20 min ago.*Teams has accepted nothing since\.$/);
    expect(c.fix).toMatch(/Workflows flow .* is on .*--teams-webhook-url/);
    await t.gateway.db.channelMessage.updateMany({ where: { channel: 'teams', reviewId: review.id, status: 'posted' }, data: { postedAt: new Date() } });
    c = find(await doctor(), 'teams', 'delivery: prod-db')!;
    expect(c.status).toBe('warn');
    // A card claimed a moment ago is its job at work, not stuck; one older than a day is left to history.
    await t.gateway.db.channelMessage.updateMany({ where: { channel: 'teams', reviewId: review.id, status: 'posting' }, data: { createdAt: new Date(Date.now() - 25 * 3600_000) } });
    expect(find(await doctor(), 'teams', 'delivery: prod-db')!.status).toBe('ok');
    await t.gateway.db.channelMessage.create({ data: { reviewId: review.id, channel: 'teams', target: 'f'.repeat(64), kind: 'review.expired', status: 'posting', attempts: 1 } });
    expect(find(await doctor(), 'teams', 'delivery: prod-db')!.status).toBe('ok');
  });

  it('never answers with a Workflows URL, its path or its signature', async () => {
    await connection('own-flow', { plugins: ['teams'], teamsWebhookUrl: teams.urlOf('own-flow-secret-path') });
    const res = await t.api('GET', '/api/admin/doctor');
    const text = JSON.stringify(res.body);
    expect(find(res.body.checks, 'teams', 'delivery: own-flow')?.status).toBe('ok');
    for (const url of [teams.urlOf('default'), teams.urlOf('own-flow-secret-path')]) {
      const u = new URL(url);
      for (const secret of [url, u.searchParams.get('sig')!, encodeURIComponent(u.searchParams.get('sig')!), u.pathname, u.host]) expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/sig=|own-flow-secret-path|workflows/i);
  });
});
