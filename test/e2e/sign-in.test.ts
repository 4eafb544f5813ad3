// The web app in Chromium: sign in with an API key, the session cookie's flags, sign out, and a
// page that loads under the strict Content-Security-Policy without a refused script or style.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';

describe('web sign-in', () => {
  let gw: TestGateway;
  let browser: TestBrowser;
  beforeAll(async () => {
    gw = await startTestGateway({ slack: false });
    browser = await startBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('signs in with an API key, keeps the session in an httpOnly cookie, and signs out', async () => {
    const { context, page } = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) violations.push(m.text());
    });
    await page.goto(gw.baseUrl + '/');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.getByLabel('API key').fill('hoop_wrong_key_0123456789abcdef');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not valid/);

    await signIn(page, gw.baseUrl, ADMIN_KEY);
    expect(await page.getByRole('navigation', { name: 'Main' }).textContent()).toContain('Access Requests');
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'hoop_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('hoop_web_');

    // A reload keeps the session (it is the server's, not the page's).
    await page.reload();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    // The old cookie's value no longer works anywhere.
    const res = await fetch(`${gw.baseUrl}/api/me`, { headers: { cookie: `hoop_session=${session!.value}` } });
    expect(res.status).toBe(401);
    expect(violations).toEqual([]);
  });

  it('shows the sign-in page, saying why, when the person is deactivated while a page is open', async () => {
    const target = await createTargetDatabase();
    try {
      await gw.api('POST', '/api/connections', { body: { name: 'ended-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
      const dana = await gw.createUser('dana@example.com', ['dba-team']);
      const alice = await gw.createUser('alice@example.com', ['developers']);
      const { page } = await browser.newPage();
      await signIn(page, gw.baseUrl, dana.apiKey, '/reviews');
      await page.getByRole('heading', { name: 'Access Requests' }).waitFor();
      expect((await gw.api('PATCH', '/api/users/dana@example.com', { body: { active: false } })).status).toBe(200);
      // The next change the stream carries finds the person deactivated: the stream ends, and the page asks why.
      expect((await gw.api('POST', '/api/connections/ended-db/exec', { key: alice.apiKey, body: { input: 'UPDATE users SET status = status', reason: 'x' } })).status).toBe(201);
      await page.getByLabel('API key').waitFor({ timeout: 15_000 });
      await page.getByText('Your session ended').waitFor();
    } finally {
      await target.drop();
    }
  });
});
