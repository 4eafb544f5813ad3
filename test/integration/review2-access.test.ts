// Second outside review of issue 7: who is who in Slack and the API — replayed Slack requests,
// `/hoop subscribe` by look-alike emails, per-key limits, deactivated users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedForm, slashCommand } from '../fakes/slack-requests.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, SIGNING_SECRET, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
const keys: Record<string, string> = {};

async function send(req: ReturnType<typeof signedForm>) {
  const res = await fetch(`${t.baseUrl}/slack/events`, { method: 'POST', headers: req.headers, body: req.body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : '' };
}
const linkOf = async (email: string) => (await t.gateway.db.identity.findFirst({ where: { provider: 'slack', user: { email } } }))?.externalId ?? null;

beforeAll(async () => {
  target = await createTargetDatabase();
  t = await startTestGateway({ env: { RATE_LIMIT_SUBMITS: '2', LONG_POLLS_PER_KEY: '1' } });
  for (const [name, email, groups, slackId] of [
    ['alice', 'alice@example.com', ['developers'], 'UALICE'],
    ['dana', 'dana@example.com', ['dba-team'], 'UDANA'],
    ['carol', 'carol@example.com', ['developers'], 'UCAROL'],
    ['kate', 'kate@kiosk.example', ['dba-team'], null],
  ] as const) {
    keys[name] = (await t.createUser(email, [...groups])).apiKey;
    if (slackId) {
      t.slack.users.set(slackId, { email });
      expect((await t.slackPost(slashCommand(slackId, 'subscribe'))).body.text).toContain('Subscribed');
    }
  }
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

// Second review, finding O (fixed; medium) — replay protection is keyed on the exact `x-slack-signature` string, but Bolt's
// verifySlackRequest reads it as `signature.split('=')` and keeps only the first two parts: `v0=<hash>=x`
// (or `=anything`) verifies and is a string never seen before. Any signed request captured within its
// five minutes (a proxy log, a browser extension, a shared HAR) can be replayed as often as the
// attacker likes by appending `=1`, `=2`, … (src/bot/slack-receiver.ts checkReplay keys on the
// raw header; verify() hands the same header to verifySlackRequest).
describe('a Slack request replayed with a suffixed signature is refused', () => {
  it('a captured /hoop unsubscribe is replayed after the user subscribed again', async () => {
    const captured = signedForm(SIGNING_SECRET, slashCommand('UDANA', 'unsubscribe'));
    expect((await send(captured)).body.text).toContain('Unsubscribed');
    expect((await t.slackPost(slashCommand('UDANA', 'subscribe'))).body.text).toContain('Subscribed');
    expect(await send(captured)).toEqual({ status: 200, body: '' }); // the plain replay is refused
    const replay = { body: captured.body, headers: { ...captured.headers, 'x-slack-signature': `${captured.headers['x-slack-signature']}=1` } };
    const answer = await send(replay);
    // Refused (a signature not in Slack's exact form is not verified at all), nothing done, dana still linked.
    expect({ status: answer.status, link: await linkOf('dana@example.com') }).toEqual({ status: 401, link: 'UDANA' });
  });
});

// Second review, finding P (fixed; medium) — emails are compared after String.prototype.toLowerCase(), which maps some
// non-ASCII letters onto ASCII ones: KELVIN SIGN U+212A → "k" (also U+0130 "İ" → "i̇"). A Slack member
// whose confirmed email is `kate@\u212Aiosk.example` — an internationalised domain the attacker owns and
// receives mail at, so Slack confirms it — is linked by `/hoop subscribe` to the hoop user
// kate@kiosk.example and approves requests for dba-team as her. (src/service/slack-links.ts
// linkSlackUser: `profile.email.trim().toLowerCase()`; src/service/user-fields.ts normalizeEmail.)
describe('/hoop subscribe with a look-alike email links nobody', () => {
  it('a confirmed email with a KELVIN SIGN links to the hoop user spelled with k', async () => {
    t.slack.users.set('UMALLORY', { email: 'kate@\u212Aiosk.example' });
    const text = (await t.slackPost(slashCommand('UMALLORY', 'subscribe'))).body.text;
    // What should be: "No hoop user has the email ..." (or a refusal), and kate stays unlinked.
    expect({ link: await linkOf('kate@kiosk.example'), text }).toMatchObject({ link: null });
  });
});

// Second review, finding Q (fixed; low) — limits are counted per API key, and every user may create as many keys as they
// like (POST /api/users/:me/keys, no cap, no limit): N keys give N × RATE_LIMIT_SUBMITS submits and
// N × LONG_POLLS_PER_KEY open waits — the memory the long-poll cap of issue 7 was meant to bound.
describe('limits count per person, whatever keys they make', () => {
  it('alice makes 4 keys and gets 4 times the submits and the long-polls', async () => {
    const mine = [keys.alice];
    for (let i = 0; i < 3; i++) mine.push((await t.api('POST', '/api/users/alice@example.com/keys', { key: keys.alice, body: { name: `k${i}` } })).body.apiKey);
    const accepted = [];
    for (const key of mine) {
      for (let i = 0; i < 2; i++) {
        const res = await t.api('POST', '/api/connections/prod-db/exec', { key, body: { input: `SELECT ${i}` } });
        accepted.push(res.status);
      }
    }
    const pending = (await t.api('GET', '/api/reviews?status=pending', { key: keys.alice })).body.reviews.map((r: { id: string }) => r.id);
    expect(pending).toHaveLength(2);
    // Each key waits on one of her (existing) requests at once.
    const waits = mine.map((key, i) => fetch(`${t.baseUrl}/api/reviews/${pending[i % pending.length]}?wait=2`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status));
    // alice (one user) gets RATE_LIMIT_SUBMITS = 2 submits and LONG_POLLS_PER_KEY = 1 wait; the rest are 429.
    expect({ submits: accepted.filter((s) => s === 201).length, refused: accepted.filter((s) => s === 429).length, waits: (await Promise.all(waits)).sort() }).toEqual({
      submits: 2,
      refused: 6,
      waits: [200, 429, 429, 429],
    });
  });
});

// Second review, finding R (fixed; low) — a deactivated requester still gets the result of their request by DM (and the
// request still runs once approved): postResult() sends `requester-result` to the requester's Slack id
// without looking at `active` (nor at whether they may still use a restricted connection). The
// README: a deactivated user cannot "receive review messages". (src/notify/slack/slack-jobs.ts postResult)
describe('a deactivated requester receives no result by DM', () => {
  it('carol is deactivated while her request waits; dana approves; carol gets no result', async () => {
    const r = await t.api('POST', '/api/connections/prod-db/exec', { key: keys.carol, body: { input: 'SELECT 42 AS answer' } });
    expect(r.body.status).toBe('PENDING');
    expect((await t.api('PATCH', '/api/users/carol@example.com', { body: { active: false } })).status).toBe(200);
    expect((await t.api('PUT', `/api/reviews/${r.body.id}/approve`, { key: keys.dana })).status).toBe(200);
    await eventually(async () => ['EXECUTED', 'FAILED'].includes((await t.api('GET', `/api/reviews/${r.body.id}`)).body.status));
    // The result has been posted (in the request's thread), so a DM would have been sent by now too.
    await t.slack.waitFor((calls) => calls.some((c) => c.method === 'chat.postMessage' && c.args.thread_ts && JSON.stringify(c.args).includes(r.body.id)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const dms = t.slack.callsOf('chat.postMessage').filter((c) => c.args.channel === 'UCAROL' && JSON.stringify(c.args).includes(r.body.id));
    expect(dms).toHaveLength(0);
  });
});
