// Single sign-on in Chromium: Sign in with SSO on the sign-in page, the login form of a real
// OpenID provider (oidc-provider, in this process), back on the page asked for, signed in with
// the provider's groups; an approval made in that session records the provider's subject.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOidcProvider, type FakeOidcProvider } from '../fakes/oidc-provider.js';
import { startBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/free-port.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

describe('single sign-on in the browser', () => {
  let idp: FakeOidcProvider;
  let gw: TestGateway;
  let browser: TestBrowser;
  let target: Awaited<ReturnType<typeof createTargetDatabase>>;

  beforeAll(async () => {
    // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web when it starts.
    browser = await startBrowser();
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startFakeOidcProvider({ redirectUris: [`${publicUrl}/auth/oidc/callback`] });
    gw = await startTestGateway({ slack: false, env: { PORT: String(port), ...idp.env(publicUrl) } });
    target = await createTargetDatabase();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await target?.drop();
    await idp?.close();
  });

  it('signs in at the provider, lands on the page asked for, and approvals record the IdP subject', async () => {
    // Alice is known to hoop without groups; the provider says she is in dba-team.
    await gw.createUser('alice@example.com', []);
    idp.accounts.set('idp-alice-7f3a', { email: 'alice@example.com', email_verified: true, name: 'Alice', groups: ['dba-team'] });
    const bob = await gw.createUser('bob@example.com', ['dev']);
    expect((await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'] } })).status).toBe(201);
    const request = await gw.api('POST', '/api/connections/prod-db/exec', { key: bob.apiKey, body: { input: 'CREATE TABLE sso_probe (id int)', reason: 'sso test' } });
    expect(request.status).toBe(201);
    expect(request.body.status).toBe('PENDING');
    const id = request.body.id as string;

    const { page } = await browser.newPage();
    await page.goto(`${gw.baseUrl}/reviews/${id}`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    // The provider's own login page.
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.getByPlaceholder('Enter any login').fill('idp-alice-7f3a');
    await page.getByPlaceholder('and password').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.waitForURL(`${gw.baseUrl}/reviews/${id}`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();

    // The page's session, as the app sees it: Alice, through SSO, with the provider's groups.
    const session = await page.evaluate(async () => (await fetch('/auth/session')).json());
    expect(session.user).toMatchObject({ email: 'alice@example.com', method: 'oidc', groups: ['dba-team'] });
    // The session cookie is out of the page's reach.
    expect(await page.evaluate(() => document.cookie)).not.toContain('hoop_web_');

    // Approve with the page's session, as the web app does (CSRF token from /auth/session).
    const approved = await page.evaluate(async ([reviewId, csrf]) => {
      const res = await fetch(`/api/reviews/${reviewId}/approve`, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
      return { status: res.status, body: await res.json() };
    }, [id, session.csrfToken as string] as const);
    expect(approved.status).toBe(200);

    const events = await gw.api('GET', `/api/reviews/${id}/events`);
    const vote = (events.body.events as any[]).find((e) => e.actor === 'alice@example.com');
    expect(vote).toMatchObject({ source: 'web', detail: { idp: { issuer: idp.issuer, subject: 'idp-alice-7f3a' } } });
  }, 120_000);

  it('shows a refusal on the sign-in page, in words', async () => {
    idp.accounts.set('idp-nobody', { email: 'nobody@example.com', email_verified: true });
    const { page } = await browser.newPage();
    await page.goto(`${gw.baseUrl}/`);
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    await page.getByPlaceholder('Enter any login').fill('idp-nobody');
    await page.getByPlaceholder('and password').fill('anything');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('No hoop user has the email nobody@example.com. Ask an admin to add you (hoop admin create user nobody@example.com), then sign in again.');
    expect(await page.getByLabel('API key').isVisible()).toBe(true);
  }, 60_000);

  it('shows no words a link brought: /?sso_error=… opened from elsewhere puts no alert on the page', async () => {
    // Anyone can send a link to the gateway with words of their choosing in it; shown in the red
    // alert of the real sign-in page, on the real origin, they would read as the gateway's own.
    const { page } = await browser.newPage();
    const lure = 'Your account is locked. Paste your API key at https://evil.example/unlock to keep access.';
    await page.goto(`${gw.baseUrl}/?${new URLSearchParams({ sso_error: lure })}`);
    await page.getByLabel('API key').waitFor();
    expect(await page.getByText('evil.example').count()).toBe(0);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  }, 60_000);
});
