// The Users page in Chromium against the real gateway: an admin creates a user whose key is shown
// once and works against the API, changes their groups, deactivates them (their key is refused)
// and reactivates them, makes and revokes a key, and sees the gateway's refusal in its words; a
// non-admin sees neither the Users nor the Webhooks page's controls.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

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

const me = (key: string) => gw.api('GET', '/api/me', { key });

async function adminPage(path = '/users'): Promise<Page> {
  const { page } = await browser.newPage();
  await signIn(page, gw.baseUrl, ADMIN_KEY, path);
  return page;
}

/** Creates a user through the page and returns the key it showed once. */
async function createThroughPage(page: Page, email: string, groups: string): Promise<string> {
  await page.getByRole('button', { name: 'New user' }).click();
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Name', { exact: true }).fill('Carol Example');
  await page.getByLabel('Groups', { exact: true }).fill(groups);
  await page.getByRole('button', { name: 'Create user' }).click();
  const field = page.getByRole('textbox', { name: `API key of ${email}` });
  await field.waitFor();
  return field.inputValue();
}

describe('the Users page, for an admin', () => {
  it('creates a user whose key is shown once, with a warning, and works against the API', async () => {
    const page = await adminPage();
    const key = await createThroughPage(page, 'carol@example.com', 'developers, security');
    expect(key).toMatch(/^hoop_/);
    expect(await page.getByRole('region', { name: 'API key of carol@example.com, shown once' }).textContent()).toContain('you will not see it again');
    await page.getByRole('button', { name: 'Copy' }).waitFor();

    const res = await me(key);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ email: 'carol@example.com', groups: ['developers', 'security'], admin: false });

    // Done: the user's panel opens, and nothing on the page (nor after a reload) shows the key again.
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('heading', { name: 'carol@example.com' }).waitFor();
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await page.getByRole('heading', { name: 'carol@example.com' }).waitFor();
    expect(await page.content()).not.toContain(key);
    const row = page.getByRole('row').filter({ hasText: 'carol@example.com' });
    expect(await row.textContent()).toContain('1 active');
  });

  it('lists people only: an agent is not among them', async () => {
    expect((await gw.api('POST', '/api/agents', { body: { name: 'page-bot', owner: 'carol@example.com', groups: ['developers'] } })).status).toBe(201);
    const page = await adminPage();
    await page.getByRole('row').filter({ hasText: 'carol@example.com' }).waitFor();
    expect(await page.content()).not.toContain('page-bot');
  });

  it('refuses a duplicate email in the API\'s words', async () => {
    const page = await adminPage();
    await page.getByRole('button', { name: 'New user' }).click();
    await page.getByLabel('Email', { exact: true }).fill('root@example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe('A user with the email root@example.com already exists.');
  });

  it('changes a user\'s groups and admin flag', async () => {
    const u = await gw.createUser('grouped@example.com', ['developers']);
    const page = await adminPage('/users?user=grouped@example.com');
    await page.getByLabel('Groups', { exact: true }).fill('dba-team security');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await me(u.apiKey)).body.user.groups).toEqual(['dba-team', 'security']);
    const row = page.getByRole('row').filter({ hasText: 'grouped@example.com' });
    await row.getByText('dba-team').waitFor();

    await page.getByLabel('Admin', { exact: true }).check();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await me(u.apiKey)).body.user.admin).toBe(true);
    // Back to one admin, as the last-admin test below needs.
    await page.getByLabel('Admin', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('row').filter({ hasText: 'grouped@example.com' }).getByRole('cell', { name: 'No', exact: true }).waitFor();
    expect((await me(u.apiKey)).body.user.admin).toBe(false);
  });

  it('deactivates a user after a confirmation, refusing their key, and reactivates them', async () => {
    const u = await gw.createUser('leaving@example.com', ['developers']);
    const page = await adminPage('/users?user=leaving@example.com');
    await page.getByRole('button', { name: 'Deactivate user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate leaving@example.com?' });
    await dialog.waitFor();
    // Cancel changes nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await me(u.apiKey)).status).toBe(200);

    await page.getByRole('button', { name: 'Deactivate user' }).click();
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: 'Reactivate user' }).waitFor();
    const refused = await me(u.apiKey);
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toContain('deactivated');
    await page.getByRole('row').filter({ hasText: 'leaving@example.com' }).getByText('Deactivated').waitFor();

    await page.getByRole('button', { name: 'Reactivate user' }).click();
    await page.getByRole('button', { name: 'Deactivate user' }).waitFor();
    expect((await me(u.apiKey)).status).toBe(200);
  });

  it('shows the gateway\'s refusal in its words when the last admin would deactivate themselves', async () => {
    const page = await adminPage('/users?user=root@example.com');
    await page.getByRole('button', { name: 'Deactivate user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Deactivate root@example.com?' });
    expect(await dialog.textContent()).toContain('This is you');
    await dialog.getByRole('button', { name: 'Deactivate' }).click();
    await dialog.getByRole('alert').waitFor();
    expect(await dialog.getByRole('alert').textContent()).toContain('root@example.com is the last active admin');
    expect((await me(ADMIN_KEY)).status).toBe(200);
  });

  it('makes a new key shown once, and revokes a key after a confirmation', async () => {
    const u = await gw.createUser('keyed@example.com', ['developers']);
    const page = await adminPage('/users?user=keyed@example.com');
    await page.getByLabel("New key's name").fill('laptop');
    await page.getByRole('button', { name: 'Make a new key' }).click();
    const field = page.getByRole('textbox', { name: 'New API key of keyed@example.com' });
    const laptopKey = await field.inputValue();
    expect(laptopKey).toMatch(/^hoop_/);
    expect(laptopKey).not.toBe(u.apiKey);
    expect((await me(laptopKey)).status).toBe(200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await field.waitFor({ state: 'detached' });

    await page.getByRole('button', { name: `Revoke key ${laptopKey.slice(0, 9)}… (laptop)` }).click();
    const dialog = page.getByRole('dialog', { name: `Revoke key ${laptopKey.slice(0, 9)}…?` });
    await dialog.getByRole('button', { name: 'Revoke key' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('row').filter({ hasText: 'laptop' }).getByText('Revoked').waitFor();
    expect((await me(laptopKey)).status).toBe(401);
    // The user's other key still works.
    expect((await me(u.apiKey)).status).toBe(200);
  });
});

describe('a non-admin', () => {
  it('sees no Users or Webhooks link, and at their URLs only the gateway\'s refusal', async () => {
    const dev = await gw.createUser('dev@example.com', ['developers']);
    // At phone width: the links are behind the menu.
    const { page } = await browser.newPage({ width: 390 });
    await signIn(page, gw.baseUrl, dev.apiKey, '/reviews');
    await page.getByRole('button', { name: 'Menu' }).click();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Access Requests' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Webhooks' }).count()).toBe(0);

    for (const [path, api] of [
      ['/users', '/api/users'],
      ['/webhooks', '/api/webhooks'],
    ]) {
      const refusal = await gw.api('GET', api, { key: dev.apiKey });
      expect(refusal.status).toBe(403);
      await page.goto(gw.baseUrl + path);
      await page.getByRole('alert').waitFor();
      expect(await page.getByRole('alert').textContent()).toBe(refusal.body.error.message);
      const main = page.getByRole('main');
      expect(await main.getByRole('button').count(), path).toBe(0);
      expect(await main.getByRole('table').count(), path).toBe(0);
      expect(await main.getByRole('textbox').count(), path).toBe(0);
    }
  });
});

describe('the admin pages\' API calls, made with a non-admin\'s session', () => {
  it('are refused by the gateway itself, not only hidden by the page', async () => {
    const dev = await gw.createUser('dev2@example.com', ['developers']);
    const other = await gw.createUser('other2@example.com', ['finance']);
    const made = await gw.api('POST', '/api/webhooks', { body: { url: 'https://93.184.216.34/hoop', events: ['review.created'] } });
    expect(made.status).toBe(201);
    const hook = made.body.webhook.id as string;
    const { page } = await browser.newPage();
    await signIn(page, gw.baseUrl, dev.apiKey, '/reviews');
    // The session's own cookie and CSRF token, as the page sends them: a refusal is then about
    // who is asking, not about a missing token.
    const csrf = await page.evaluate(async () => ((await (await fetch('/auth/session')).json()) as { csrfToken: string }).csrfToken);
    const calls: [string, string, unknown?][] = [
      ['GET', '/api/users'],
      ['GET', `/api/users/${other.id}`],
      ['GET', '/api/users/other2@example.com'],
      ['GET', `/api/users/${other.id}/keys`],
      ['POST', '/api/users', { email: 'mallory@example.com', groups: ['dba-team'] }],
      ['PATCH', `/api/users/${dev.id}`, { admin: true }],
      ['PATCH', `/api/users/${dev.id}`, { groups: ['dba-team'] }],
      ['POST', `/api/users/${other.id}/keys`, {}],
      ['GET', '/api/webhooks'],
      ['GET', `/api/webhooks/${hook}`],
      ['GET', `/api/webhooks/${hook}/deliveries`],
      ['POST', '/api/webhooks', { url: 'https://evil.example/', events: ['review.created'] }],
      ['PATCH', `/api/webhooks/${hook}`, { url: 'https://evil.example/' }],
      ['DELETE', `/api/webhooks/${hook}`],
      ['POST', '/api/connections', { name: 'mallory-db', url: 'postgresql://x@127.0.0.1/x', reviewers: [] }],
    ];
    for (const [method, path, body] of calls) {
      const answer = await page.evaluate(
        async ({ method, path, body, csrf }) => {
          const res = await fetch(path, { method, headers: { 'x-csrf-token': csrf, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
          return { status: res.status, message: ((await res.json()) as { error?: { message?: string } }).error?.message ?? '' };
        },
        { method, path, body, csrf },
      );
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.message, `${method} ${path}`).not.toContain('CSRF');
    }
    // Nothing changed.
    expect((await me(dev.apiKey)).body.user).toMatchObject({ admin: false, groups: ['developers'] });
    expect((await gw.api('GET', `/api/webhooks/${hook}`)).body.webhook.url).toBe('https://93.184.216.34/hoop');
    await page.close();
  });
});
