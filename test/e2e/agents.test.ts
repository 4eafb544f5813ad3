// Agents in the web app (issue 13), in Chromium against the real gateway: an admin creates an agent
// whose key is shown once and works, and sees it listed apart from people with its owner, groups,
// state and creation time; a non-admin cannot reach the page; and the page of an agent's request
// says which agent asked, its owner, and from where — hostile text shown as text.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gw: TestGateway;
let browser: TestBrowser;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  [gw, browser, target] = await Promise.all([startTestGateway({ slack: false }), startBrowser(), createTargetDatabase()]);
  await gw.createUser('alice@example.com', ['developers']);
  dana = await gw.createUser('dana@example.com', ['dba-team']);
  const conn = await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
  expect(conn.status).toBe(201);
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
  await target?.drop();
});

async function pageAs(key: string, path: string, width?: number): Promise<Page> {
  const { page } = await browser.newPage(width ? { width } : undefined);
  await signIn(page, gw.baseUrl, key, path);
  return page;
}

describe('the Agents page, for an admin', () => {
  it("creates an agent (after the gateway's refusal of an unknown owner) whose key is shown once and works, then lists it with its owner, groups, state and creation", async () => {
    const page = await pageAs(ADMIN_KEY, '/agents');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).waitFor();
    await page.getByRole('button', { name: 'New agent' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Deploy-Bot');
    await page.getByLabel('Groups', { exact: true }).fill('developers, release');
    // First an owner who is no one: the gateway's refusal, in its words; then the right one.
    await page.getByLabel('Owner', { exact: true }).fill('nobody@example.com');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('No user is "nobody@example.com"');
    await page.getByLabel('Owner', { exact: true }).fill('alice@example.com');
    await page.getByRole('button', { name: 'Create agent' }).click();
    const field = page.getByRole('textbox', { name: 'API key of agent deploy-bot' });
    await field.waitFor();
    const key = await field.inputValue();
    expect(key).toMatch(/^hoop_/);
    expect(await page.getByRole('region', { name: 'API key of agent deploy-bot, shown once' }).textContent()).toContain('you will not see it again');
    const me = await gw.api('GET', '/api/me', { key });
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email: 'deploy-bot@agents.invalid', groups: ['developers', 'release'], admin: false });

    await page.getByRole('button', { name: 'I have copied it' }).click();
    await field.waitFor({ state: 'detached' });
    const row = page.getByRole('row').filter({ hasText: 'deploy-bot' });
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells.slice(0, 5)).toEqual(['deploy-bot', 'alice@example.com', 'developersrelease', 'Active', '1 active']);
    expect(cells[5]).not.toBe('—');
    expect(await page.content()).not.toContain(key);
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'deploy-bot' }).waitFor();
    expect(await page.content()).not.toContain(key);
    // Listed apart: the Users page does not show it.
    await page.goto(`${gw.baseUrl}/users`);
    await page.getByRole('row').filter({ hasText: 'alice@example.com' }).waitFor();
    expect(await page.content()).not.toContain('deploy-bot');
  });
});

describe('a non-admin', () => {
  it('sees no Agents link, and at /agents only the gateway\'s refusal', async () => {
    const refusal = await gw.api('GET', '/api/agents', { key: dana.apiKey });
    expect(refusal.status).toBe(403);
    const page = await pageAs(dana.apiKey, '/agents');
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toBe(refusal.body.error.message);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).count()).toBe(0);
    const main = page.getByRole('main');
    expect(await main.getByRole('button').count()).toBe(0);
    expect(await main.getByRole('table').count()).toBe(0);
  });
});

describe("an agent's request page", () => {
  it('names the agent and its owner, its MCP client, address and User-Agent, as text', async () => {
    const made = await gw.api('POST', '/api/agents', { body: { name: 'ci-bot', owner: 'alice@example.com', groups: ['developers'] } });
    expect(made.status).toBe(201);
    const hostile = '<img src=x onerror="document.title=1"> **bold**';
    const res = await gw.api('POST', '/api/connections/prod-db/exec', {
      key: made.body.apiKey,
      headers: { 'user-agent': hostile, 'hoop-mcp-client': 'claude-desktop/1.2.0' },
      body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'OPS-5: nightly cleanup' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const page = await pageAs(dana.apiKey, `/reviews/${res.body.id}`);
    const requester = page.getByTestId('requester');
    await requester.waitFor();
    expect(await requester.textContent()).toBe('Agent ci-bot (owner alice@example.com)');
    expect(await page.getByTestId('origin-client').textContent()).toBe('claude-desktop 1.2.0 (MCP client)');
    expect(await page.getByTestId('origin-ip').textContent()).toBe('127.0.0.1');
    expect(await page.getByTestId('origin-user-agent').textContent()).toBe(hostile);
    expect(await page.getByRole('main').locator('img').count()).toBe(0);
    expect(await page.title()).not.toBe('1');
    // An agent never decides, and the page of its request still lets a person do so.
    await page.getByRole('button', { name: /Approve/ }).waitFor();
    // In the list too, an agent's request is marked as one.
    await page.goto(`${gw.baseUrl}/reviews`);
    const cell = page.getByRole('row', { name: /OPS-5|ci-bot/ }).locator('td[data-label="Requester"]');
    await cell.first().waitFor();
    expect(await cell.first().textContent()).toBe('Agent ci-bot');
  });
});
