// Single sign-on through a real OpenID provider (oidc-provider, in this process) and the real
// gateway, PostgreSQL and Redis: the whole redirect dance with a cookie jar, then the session it
// gives on the API; and every way a sign-in must be refused, in words.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginStateSealer, LOGIN_STATE_COOKIE } from '../../src/gateway/oidc-login-state.js';
import { startFakeOidcProvider, type FakeOidcProvider } from '../fakes/oidc-provider.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { freePort } from '../helpers/free-port.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let idp: FakeOidcProvider;
let gw: TestGateway;
/** A second replica on the same database, with OIDC_AUTO_CREATE=true. */
let autoGw: TestGateway;
let db: pg.Client;

beforeAll(async () => {
  const [port, autoPort] = [await freePort(), await freePort()];
  const urls = [`http://127.0.0.1:${port}`, `http://127.0.0.1:${autoPort}`];
  idp = await startFakeOidcProvider({ redirectUris: urls.map((u) => `${u}/auth/oidc/callback`) });
  gw = await startTestGateway({ slack: false, env: { PORT: String(port), ...idp.env(urls[0]) } });
  autoGw = await startTestGateway({ slack: false, databaseUrl: gw.databaseUrl, env: { PORT: String(autoPort), ...idp.env(urls[1]), OIDC_AUTO_CREATE: 'true' } });
  db = new pg.Client({ connectionString: gw.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await autoGw?.stop();
  await gw?.stop();
  await idp?.close();
});

interface SignInResult {
  jar: CookieJar;
  /** The gateway's answer to the callback. */
  status: number;
  location: string;
  /** The words shown on the sign-in page, when refused. */
  error: string | null;
  callback: URL;
}

/** Starts a sign-in at `gateway`, logs in at the provider as `account`, and visits the callback. */
async function ssoSignIn(account: string, options: { gateway?: TestGateway; next?: string; jar?: CookieJar } = {}): Promise<SignInResult> {
  const gateway = options.gateway ?? gw;
  const jar = options.jar ?? new CookieJar();
  const start = await jar.fetch(`${gateway.baseUrl}/auth/oidc/login${options.next === undefined ? '' : `?next=${encodeURIComponent(options.next)}`}`);
  expect(start.status).toBe(302);
  // What the callback needs rides in this browser's cookie, out of scripts' reach, and comes back
  // on the provider's top-level redirect (Lax).
  expect(jar.get(LOGIN_STATE_COOKIE)).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/auth/oidc' });
  const callback = await idp.logIn(jar, start.headers.get('location')!, account);
  expect(callback.origin).toBe(gateway.baseUrl);
  return { ...(await visit(jar, callback)), jar, callback };
}

async function visit(jar: CookieJar, url: URL | string) {
  const res = await jar.fetch(url);
  const location = res.headers.get('location') ?? '';
  return { status: res.status, location, error: new URL(location, 'http://x').searchParams.get('sso_error') };
}

/** GET /api/me with the jar's session cookie only. */
async function me(jar: CookieJar, gateway = gw) {
  const res = await jar.fetch(`${gateway.baseUrl}/api/me`);
  return { status: res.status, body: (await res.json()) as any };
}

async function userRow(email: string) {
  const { rows } = await db.query('SELECT id, email, groups, active FROM "User" WHERE email = $1', [email]);
  return rows[0] as { id: string; email: string; groups: string[]; active: boolean } | undefined;
}

async function auditOf(userId: string) {
  const { rows } = await db.query(`SELECT action, actor, source, detail FROM "AuditEvent" WHERE detail->>'userId' = $1 OR "actorId" = $1::uuid ORDER BY id`, [userId]);
  return rows as { action: string; actor: string; source: string; detail: any }[];
}

describe('single sign-on of a known user', () => {
  it('lands on `next` signed in, with the email matched in any case and the groups from the claim, audited', async () => {
    const { id } = await gw.createUser('alice@example.com', ['old-group']);
    idp.accounts.set('sub-alice', { email: 'Alice@Example.COM', email_verified: true, name: 'Alice', groups: ['sre', 'dba', 'Domain Users'] });

    const r = await ssoSignIn('sub-alice', { next: '/reviews/123?x=1' });
    expect(r.error).toBeNull();
    expect(r.status).toBe(302);
    expect(r.location).toBe('/reviews/123?x=1');
    // The sign-in cookie is spent; the session cookie stays out of scripts' reach.
    expect(r.jar.get(LOGIN_STATE_COOKIE)).toBeUndefined();

    expect(r.jar.get('hoop_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const session = await r.jar.fetch(`${gw.baseUrl}/auth/session`);
    expect(await session.json()).toMatchObject({ user: { email: 'alice@example.com', method: 'oidc' }, sso: { enabled: true } });
    const who = await me(r.jar);
    expect(who.status).toBe(200);
    expect(who.body.user).toMatchObject({ id, email: 'alice@example.com', groups: ['dba', 'sre'] });

    const { rows: identities } = await db.query(`SELECT provider, "externalId" FROM "Identity" WHERE "userId" = $1`, [id]);
    expect(identities).toEqual([{ provider: 'oidc', externalId: `${idp.issuer}#sub-alice` }]);
    const audit = await auditOf(id);
    expect(audit.find((e) => e.action === 'user.updated')).toMatchObject({
      actor: 'alice@example.com',
      source: 'web',
      detail: { before: { groups: ['old-group'] }, after: { groups: ['dba', 'sre'] }, via: 'oidc', idp: { issuer: idp.issuer, subject: 'sub-alice' }, ignoredGroups: ['Domain Users'] },
    });
    expect(audit.find((e) => e.action === 'identity.linked')).toMatchObject({ detail: { provider: 'oidc', externalId: `${idp.issuer}#sub-alice` } });
    expect(audit.find((e) => e.action === 'web.sign_in')).toMatchObject({ actor: 'alice@example.com', source: 'web', detail: { method: 'oidc', idpSubject: 'sub-alice', idp: { subject: 'sub-alice' } } });
  });

  it('replaces the groups at the next sign-in, and leaves them when the provider sends no groups claim', async () => {
    const { id } = await gw.createUser('bob@example.com', ['keep-me']);
    idp.accounts.set('sub-bob', { email: 'bob@example.com', email_verified: true });
    expect((await ssoSignIn('sub-bob')).error).toBeNull();
    expect((await userRow('bob@example.com'))!.groups).toEqual(['keep-me']);
    expect((await auditOf(id)).some((e) => e.action === 'user.updated')).toBe(false);

    idp.accounts.set('sub-bob', { email: 'bob@example.com', email_verified: true, groups: [] });
    expect((await ssoSignIn('sub-bob')).error).toBeNull();
    expect((await userRow('bob@example.com'))!.groups).toEqual([]);
  });

  it('ends the session the browser had before (a planted one included)', async () => {
    const { apiKey } = await gw.createUser('carla@example.com', []);
    idp.accounts.set('sub-carla', { email: 'carla@example.com', email_verified: true });
    const jar = new CookieJar();
    const keyed = await jar.fetch(`${gw.baseUrl}/auth/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiKey }) });
    expect(keyed.status).toBe(201);
    const before = jar.get('hoop_session')!.value;
    expect((await ssoSignIn('sub-carla', { jar })).error).toBeNull();
    expect(jar.get('hoop_session')!.value).not.toBe(before);
    const old = await fetch(`${gw.baseUrl}/api/me`, { headers: { cookie: `hoop_session=${before}` } });
    expect(old.status).toBe(401);
    expect((await me(jar)).status).toBe(200);
  });

  it('lands on / when no next is given', async () => {
    await gw.createUser('nonext@example.com', []);
    idp.accounts.set('sub-nonext', { email: 'nonext@example.com', email_verified: true });
    expect((await ssoSignIn('sub-nonext')).location).toBe('/');
  });
});

describe('single sign-on of a new email', () => {
  it('is refused in words when OIDC_AUTO_CREATE is off, and creates nobody', async () => {
    idp.accounts.set('sub-carol', { email: 'carol@example.com', email_verified: true, groups: ['dba'] });
    const r = await ssoSignIn('sub-carol', { next: '/reviews' });
    expect(r.location.startsWith('/?')).toBe(true);
    expect(r.error).toBe('No hoop user has the email carol@example.com. Ask an admin to add you (hoop admin create user carol@example.com), then sign in again.');
    expect(new URL(r.location, 'http://x').searchParams.get('next')).toBe('/reviews');
    expect(await userRow('carol@example.com')).toBeUndefined();
    expect((await me(r.jar)).status).toBe(401);
  });

  it('creates the user without groups, then gives them the claim\'s groups, when OIDC_AUTO_CREATE is on', async () => {
    idp.accounts.set('sub-dave', { email: 'Dave@Example.com', email_verified: true, name: 'Dave', groups: ['dba'] });
    const r = await ssoSignIn('sub-dave', { gateway: autoGw });
    expect(r.error).toBeNull();
    const user = (await userRow('dave@example.com'))!;
    expect(user.groups).toEqual(['dba']);
    const audit = await auditOf(user.id);
    expect(audit.map((e) => e.action).slice(0, 3)).toEqual(['user.created', 'user.updated', 'identity.linked']);
    expect(audit[0].detail).toMatchObject({ email: 'dave@example.com', groups: [], admin: false, via: 'oidc' });
    expect(audit[1].detail).toMatchObject({ before: { groups: [] }, after: { groups: ['dba'] } });
    expect((await me(r.jar, autoGw)).body.user).toMatchObject({ email: 'dave@example.com', admin: false, groups: ['dba'] });
  });
});

describe('single sign-on refused', () => {
  it('refuses an email the provider has not verified, or no email at all', async () => {
    await gw.createUser('erin@example.com', []);
    idp.accounts.set('sub-erin', { email: 'erin@example.com', email_verified: false });
    const r = await ssoSignIn('sub-erin');
    expect(r.error).toBe('The sign-in provider has not verified the email erin@example.com. Verify it there (or ask its admin to), then sign in again.');
    expect((await me(r.jar)).status).toBe(401);

    idp.accounts.set('sub-noemail', { email_verified: true });
    expect((await ssoSignIn('sub-noemail')).error).toMatch(/^The sign-in provider did not send your email address/);
  });

  it("refuses an agent's address: an identity provider cannot speak for an agent, nor change its groups", async () => {
    await gw.createUser('sso-owner@example.com', []);
    expect((await gw.api('POST', '/api/agents', { body: { name: 'sso-bot', owner: 'sso-owner@example.com', groups: ['developers'] } })).status).toBe(201);
    idp.accounts.set('sub-bot', { email: 'SSO-Bot@agents.invalid', email_verified: true, groups: ['dba'] });
    const r = await ssoSignIn('sub-bot');
    expect(r.error).toMatch(/^sso-bot@agents\.invalid is an agent's address/);
    expect((await me(r.jar)).status).toBe(401);
    expect((await userRow('sso-bot@agents.invalid'))!.groups).toEqual(['developers']);
  });

  it('refuses a deactivated user', async () => {
    await gw.createUser('frank@example.com', ['dba']);
    expect((await gw.api('PATCH', '/api/users/frank@example.com', { body: { active: false } })).status).toBe(200);
    idp.accounts.set('sub-frank', { email: 'frank@example.com', email_verified: true, groups: ['other'] });
    const r = await ssoSignIn('sub-frank');
    expect(r.error).toMatch(/^The user frank@example\.com is deactivated, so they cannot sign in/);
    expect((await userRow('frank@example.com'))!.groups).toEqual(['dba']);
    expect((await me(r.jar)).status).toBe(401);
  });

  describe('a callback that is not this browser\'s own, fresh answer', () => {
    const known = async (name: string) => {
      await gw.createUser(`${name}@example.com`, []);
      idp.accounts.set(`sub-${name}`, { email: `${name}@example.com`, email_verified: true });
    };
    /** A sign-in up to the provider's redirect back, not visited yet. */
    async function untilCallback(account: string) {
      const jar = new CookieJar();
      const start = await jar.fetch(`${gw.baseUrl}/auth/oidc/login`);
      return { jar, callback: await idp.logIn(jar, start.headers.get('location')!, account), authorization: new URL(start.headers.get('location')!) };
    }

    it('refuses a changed state', async () => {
      await known('gina');
      const { jar, callback } = await untilCallback('sub-gina');
      callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
      const r = await visit(jar, callback);
      expect(r.error).toBe('The answer of the sign-in provider could not be verified. Start again from the sign-in page.');
      expect((await me(jar)).status).toBe(401);
    });

    it('refuses the callback in another browser (no sign-in cookie) and with a forged cookie', async () => {
      await known('hank');
      const { callback, jar } = await untilCallback('sub-hank');
      const other = await visit(new CookieJar(), callback);
      expect(other.error).toMatch(/^This sign-in was not started in this browser, took longer than 10 minutes, or was already used/);
      const forged = jar.clone();
      forged.set(gw.baseUrl, LOGIN_STATE_COOKIE, 'AAAA' + 'B'.repeat(80), '/auth/oidc');
      expect((await visit(forged, callback)).error).toMatch(/^This sign-in was not started in this browser/);
      // The untouched browser can still finish (the code was not spent by the refusals).
      expect((await visit(jar, callback)).error).toBeNull();
    });

    it('refuses a replayed callback, with or without the spent sign-in cookie', async () => {
      await known('ivy');
      const { jar, callback } = await untilCallback('sub-ivy');
      const snapshot = jar.clone();
      expect((await visit(jar, callback)).error).toBeNull();
      expect((await visit(jar, callback)).error).toMatch(/^This sign-in was not started in this browser/);
      // Replayed with the cookie as it was: the provider refuses the spent code.
      const replay = await visit(snapshot, callback);
      expect(replay.error).toBe('The sign-in provider no longer accepts this sign-in (it was used already or took too long). Start again from the sign-in page.');
      expect((await me(snapshot)).status).toBe(401);
    });

    it('refuses an ID token whose nonce is not the one this browser sent', async () => {
      await known('jay');
      const { jar, callback } = await untilCallback('sub-jay');
      // Someone who could seal cookies (they cannot: the key comes from the client secret) swaps the nonce.
      const sealer = createLoginStateSealer(idp.clientSecret);
      const state = sealer.open(jar.get(LOGIN_STATE_COOKIE)!.value)!;
      expect(state.state).toBe(callback.searchParams.get('state'));
      jar.set(gw.baseUrl, LOGIN_STATE_COOKIE, sealer.seal({ ...state, nonce: 'another-nonce' }), '/auth/oidc');
      const r = await visit(jar, callback);
      expect(r.error).toBe('The answer of the sign-in provider could not be verified. Start again from the sign-in page.');
      expect((await me(jar)).status).toBe(401);
    });

    it('refuses a PKCE verifier that is not the one of the challenge', async () => {
      await known('kim');
      const { jar, callback } = await untilCallback('sub-kim');
      const sealer = createLoginStateSealer(idp.clientSecret);
      const state = sealer.open(jar.get(LOGIN_STATE_COOKIE)!.value)!;
      jar.set(gw.baseUrl, LOGIN_STATE_COOKIE, sealer.seal({ ...state, codeVerifier: 'x'.repeat(43) }), '/auth/oidc');
      expect((await visit(jar, callback)).error).toMatch(/^The sign-in provider no longer accepts this sign-in|^The answer of the sign-in provider could not be verified/);
      expect((await me(jar)).status).toBe(401);
    });

    it('shows a denial at the provider in its own words, not the description the URL carries', async () => {
      const jar = new CookieJar();
      const start = await jar.fetch(`${gw.baseUrl}/auth/oidc/login`);
      const authorization = new URL(start.headers.get('location')!);
      const denied = new URL(`${gw.baseUrl}/auth/oidc/callback`);
      denied.search = new URLSearchParams({ error: 'access_denied', error_description: 'Call +1 555 0100 to restore access', state: authorization.searchParams.get('state')!, iss: idp.issuer }).toString();
      const r = await visit(jar, denied);
      expect(r.error).toBe('The sign-in was cancelled or denied at the sign-in provider. Start again from the sign-in page.');
    });
  });

  it('says so in words when the provider does not answer, and the gateway without SSO has no such routes', async () => {
    const [port, closed] = [await freePort(), await freePort()];
    const down = await startTestGateway({ slack: false, databaseUrl: gw.databaseUrl, env: { PORT: String(port), OIDC_ISSUER_URL: `http://127.0.0.1:${closed}`, OIDC_CLIENT_ID: 'x', OIDC_CLIENT_SECRET: 'y', PUBLIC_URL: `http://127.0.0.1:${port}` } });
    const plain = await startTestGateway({ slack: false, databaseUrl: gw.databaseUrl });
    try {
      const r = await visit(new CookieJar(), `${down.baseUrl}/auth/oidc/login?next=/reviews`);
      expect(r.status).toBe(302);
      expect(r.error).toBe(`The sign-in provider (http://127.0.0.1:${closed}) did not answer; try again in a minute, or sign in with an API key.`);
      expect((await fetch(`${plain.baseUrl}/auth/oidc/login`)).status).toBe(404);
      expect(await (await fetch(`${plain.baseUrl}/auth/session`)).json()).toMatchObject({ sso: { enabled: false } });
    } finally {
      await down.stop();
      await plain.stop();
    }
  });

  it.each(['//evil.example.com/x', '/\\evil.example.com', 'https://evil.example.com/', '/\\/evil.example.com', 'javascript:alert(1)', '/api/me'])('lands on / for next=%j', async (next) => {
    const name = `next${Math.random().toString(36).slice(2, 8)}`;
    await gw.createUser(`${name}@example.com`, []);
    idp.accounts.set(`sub-${name}`, { email: `${name}@example.com`, email_verified: true });
    const r = await ssoSignIn(`sub-${name}`, { next });
    expect(r.error).toBeNull();
    expect(r.location).toBe('/');
  });
});

describe('an identity that moves', () => {
  it('audits the unlink of each account that stops naming someone: moved to another user, or replaced by a new subject', async () => {
    const moira = await gw.createUser('moira@example.com', []);
    const nils = await gw.createUser('nils@example.com', []);
    idp.accounts.set('sub-moira', { email: 'moira@example.com', email_verified: true });
    expect((await ssoSignIn('sub-moira')).error).toBeNull();

    // The provider now gives that account nils's email: it moves from moira to nils.
    idp.accounts.set('sub-moira', { email: 'nils@example.com', email_verified: true });
    expect((await ssoSignIn('sub-moira')).error).toBeNull();
    const moved = (await auditOf(moira.id)).filter((e) => e.action === 'identity.unlinked');
    expect(moved).toMatchObject([{ actor: 'nils@example.com', source: 'web', detail: { userId: moira.id, provider: 'oidc', externalId: `${idp.issuer}#sub-moira`, reason: 'moved', movedToUserId: nils.id } }]);

    // nils signs in with another account of the same email: his earlier one is replaced.
    idp.accounts.set('sub-nils', { email: 'nils@example.com', email_verified: true });
    expect((await ssoSignIn('sub-nils')).error).toBeNull();
    const replaced = (await auditOf(nils.id)).filter((e) => e.action === 'identity.unlinked' && e.detail.userId === nils.id);
    expect(replaced).toMatchObject([{ detail: { provider: 'oidc', externalId: `${idp.issuer}#sub-moira`, reason: 'replaced', replacedBy: `${idp.issuer}#sub-nils` } }]);
    const { rows } = await db.query(`SELECT "userId", "externalId" FROM "Identity" WHERE provider = 'oidc' AND "userId" = ANY($1::uuid[])`, [[moira.id, nils.id]]);
    expect(rows).toEqual([{ userId: nils.id, externalId: `${idp.issuer}#sub-nils` }]);
  });
});
