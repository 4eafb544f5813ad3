// The Connections page in a real Chromium against the real gateway: the seeds' "Connections →
// Additional Configuration → Access Requests → Add Group → Save" holds the next command for that
// group; an admin creates a connection whose URL (and password) never reaches the browser again;
// a user who is not an admin sees the list with no edit controls.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTargetDatabase, withDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser } from '../helpers/browser.js';

// The test PostgreSQL trusts local connections, so the password is ignored there, but the gateway
// stores it in the URL like any other: it must never be sent to a page.
const PASSWORD = 'Tr0ub4dor-and-3-horses';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: Awaited<ReturnType<typeof startBrowser>>;
let alice: { id: string; apiKey: string };
let secretUrl: string;

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  const database = new URL(target.url).pathname.slice(1);
  secretUrl = withDatabase(`postgresql://postgres:${PASSWORD}@127.0.0.1:5432/postgres`, database);
  alice = await t.createUser('alice@example.com', ['developers']);
  await t.createUser('dana@example.com', ['dba-team']);
  const made = await t.api('POST', '/api/connections', { body: { name: 'sandbox', url: secretUrl, reviewers: [] } });
  expect(made.status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'audited', url: secretUrl, reviewers: ['dba-team'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

/** Every response body the page receives, to look for what must never be in one. */
function recordResponses(page: Page): string[] {
  const bodies: string[] = [];
  page.on('response', (res) => {
    // An event stream never ends: its body cannot be awaited (it carries only ids and statuses).
    if ((res.headers()['content-type'] ?? '').startsWith('text/event-stream')) return;
    res.text().then((b) => bodies.push(b), () => undefined);
  });
  return bodies;
}

const exec = (connection: string, input: string) => t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input, reason: 'e2e' } });

describe('Connections', () => {
  it('lets an admin turn Access Requests on and add a group; the next command waits for that group', async () => {
    // Before: no review at all.
    expect((await exec('sandbox', "UPDATE users SET status = 'a' WHERE id = 1")).body.status).toBe('EXECUTED');

    const { page } = await browser.newPage();
    const bodies = recordResponses(page);
    await signIn(page, t.baseUrl, ADMIN_KEY);
    await page.goto(`${t.baseUrl}/connections`);
    await page.getByRole('link', { name: 'Configure sandbox' }).click();
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    const toggle = page.getByRole('switch', { name: 'Access Requests' });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check();
    await page.getByLabel('Group', { exact: true }).fill('dba-team');
    await page.getByRole('button', { name: 'Add Group' }).click();
    expect(await page.getByRole('list', { name: 'Approver groups' }).textContent()).toContain('dba-team');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection sandbox saved.' }).waitFor();

    // The next command, through the API, is held for dba-team; the URL was kept (a read still runs).
    const held = await exec('sandbox', "UPDATE users SET status = 'b' WHERE id = 1");
    expect(held.body.status).toBe('PENDING');
    expect(held.body.groups.map((g: { group: string }) => g.group)).toEqual(['dba-team']);
    expect((await exec('sandbox', 'SELECT 1 AS one')).body.status).toBe('EXECUTED');

    // The list says so too.
    await page.getByRole('link', { name: 'Back to connections' }).click();
    const row = page.getByRole('row', { name: /sandbox/ });
    expect(await row.textContent()).toContain('dba-team');

    for (const b of bodies) {
      expect(b).not.toContain(PASSWORD);
      expect(b).not.toContain(secretUrl);
    }
    await page.close();
  });

  it('lets an admin create a connection whose URL never comes back to the page', async () => {
    const { page } = await browser.newPage();
    const bodies = recordResponses(page);
    await signIn(page, t.baseUrl, ADMIN_KEY);
    await page.goto(`${t.baseUrl}/connections`);
    await page.getByRole('link', { name: 'New connection' }).click();
    await page.getByLabel('Name').fill('reporting');
    const urlField = page.getByLabel('Database URL');
    expect(await urlField.getAttribute('type')).toBe('password');
    await urlField.fill(secretUrl);
    await page.getByRole('checkbox', { name: 'email' }).check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection reporting created.' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/connections/reporting');
    // The form shows no URL back: an empty password field that keeps the stored one when left so.
    expect(await page.getByLabel('Database URL').inputValue()).toBe('');
    expect(await page.content()).not.toContain(PASSWORD);

    // Saved as typed: it masks emails and runs commands on the database.
    const read = await exec('reporting', 'SELECT email FROM users WHERE id = 2');
    expect(read.body.status).toBe('EXECUTED');
    expect(read.body.output).not.toContain('bob@example.com');

    await page.reload();
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    expect(bodies.length).toBeGreaterThan(3);
    for (const b of bodies) {
      expect(b).not.toContain(PASSWORD);
      expect(b).not.toContain(secretUrl);
    }
    await page.close();
  });

  it('saves what an admin changes (review mode, a guardrail, masked columns, allowed groups, plugins) and shows it after a reload', async () => {
    expect((await t.api('POST', '/api/connections', { body: { name: 'settings', url: secretUrl, reviewers: ['dba-team'] } })).status).toBe(201);
    const { page } = await browser.newPage();
    page.setDefaultTimeout(15_000);
    await signIn(page, t.baseUrl, ADMIN_KEY, '/connections/settings');
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    const form = page.getByRole('form', { name: 'Configure settings' });
    await form.getByLabel('Review mode').selectOption('all');
    await form.getByLabel('New rule').selectOption('regex');
    await form.getByLabel('Pattern').fill('pg_sleep');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await form.getByLabel('Column', { exact: true }).fill('email');
    await form.getByRole('button', { name: 'Add column' }).click();
    await form.getByLabel('Allowed group', { exact: true }).fill('developers');
    await form.getByRole('button', { name: 'Add allowed group' }).click();
    // Webhooks: the one channel this test gateway serves (a plugin it does not serve is refused).
    await form.getByRole('checkbox', { name: 'Webhooks' }).check();
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection settings saved.' }).waitFor();

    // Read back from the gateway, not from what the page kept.
    await page.reload();
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    await expect(form.getByLabel('Review mode').inputValue()).resolves.toBe('all');
    await form.getByRole('list', { name: 'Guardrails' }).getByText('Block SQL matching /pg_sleep/').waitFor();
    await expect(form.getByRole('list', { name: 'Masked columns' }).getByRole('listitem').allTextContents()).resolves.toEqual(['email×']);
    await expect(form.getByRole('list', { name: 'Allowed groups' }).getByRole('listitem').allTextContents()).resolves.toEqual(['developers×']);
    await expect(form.getByRole('checkbox', { name: 'Webhooks' }).isChecked()).resolves.toBe(true);
    await expect(form.getByRole('checkbox', { name: 'Slack' }).isChecked()).resolves.toBe(false);
    await expect(form.getByRole('checkbox', { name: 'Microsoft Teams' }).isChecked()).resolves.toBe(false);

    const listed = (await t.api('GET', '/api/connections')).body.connections as { name: string; reviewMode: string; guardrails: { type: string; pattern?: string }[]; maskColumns: string[]; allowedGroups: string[]; plugins: string[] }[];
    const saved = listed.find((c) => c.name === 'settings')!;
    expect(saved).toMatchObject({ reviewMode: 'all', maskColumns: ['email'], allowedGroups: ['developers'] });
    expect(saved.plugins).toEqual(['webhooks']);
    expect(saved.guardrails).toContainEqual(expect.objectContaining({ type: 'regex', pattern: 'pg_sleep' }));
    // The defaults the form was opened with are kept beside the new rule.
    expect(saved.guardrails.filter((g) => g.type === 'deny-command').length).toBeGreaterThan(0);
    await page.close();
  });

  it('fits the configuration form on a phone (390 px) without scrolling sideways', async () => {
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, ADMIN_KEY, '/connections/audited');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    expect(scroll).toBeLessThanOrEqual(client);
    await page.close();
  });

  it('keeps the keyboard in the chip list when a group is removed with its Remove button', async () => {
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, ADMIN_KEY, '/connections/audited');
    await page.getByRole('heading', { name: 'Additional Configuration' }).waitFor();
    const group = page.getByLabel('Group', { exact: true });
    await group.fill('ops');
    await group.press('Enter');
    await group.fill('sre');
    await group.press('Enter');
    const chips = page.getByRole('list', { name: 'Approver groups' });
    // Removing a chip moves focus to the next chip's Remove button, and from the last one to the
    // input: never to the page's start, where a keyboard user would have to tab all the way back.
    await page.getByRole('button', { name: 'Remove dba-team' }).focus();
    await page.keyboard.press('Enter');
    expect(await chips.textContent()).not.toContain('dba-team');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Remove ops');
    await page.getByRole('button', { name: 'Remove sre' }).focus();
    await page.keyboard.press('Space');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(await group.getAttribute('id'));
    // Nothing was saved: the connection still has its one group.
    const listed = (await t.api('GET', '/api/connections')).body.connections as { name: string; reviewers: string[] }[];
    expect(listed.find((c) => c.name === 'audited')?.reviewers).toEqual(['dba-team']);
    await page.close();
  });

  it('shows a user who is not an admin the list, read-only', async () => {
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, alice.apiKey);
    await page.goto(`${t.baseUrl}/connections`);
    await page.getByRole('row', { name: /audited/ }).waitFor();
    expect(await page.getByRole('link', { name: 'New connection' }).count()).toBe(0);
    await page.getByRole('link', { name: /audited/ }).click();
    await page.getByText('Access Requests').first().waitFor();
    expect(await page.getByRole('button', { name: 'Save' }).count()).toBe(0);
    expect(await page.getByRole('switch').count()).toBe(0);
    expect(await page.getByRole('textbox').count()).toBe(0);
    expect(await page.locator('main').textContent()).toContain('On: approved by dba-team');
    await page.goto(`${t.baseUrl}/connections/new`);
    // The form's route renders its refusal; waitFor throws if it never does.
    await page.getByText('Only an admin can create or configure connections').waitFor();
    expect(await page.getByRole('button', { name: 'Create connection' }).count()).toBe(0);
    await page.close();
  });
});
