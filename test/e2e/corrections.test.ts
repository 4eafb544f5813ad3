// Corrections (issue 14) in the web app, in a real Chromium against the real gateway: a reviewer
// suggests a change on the request's page (the command edited, a comment required), lands on the
// correction's page with the diff; the requester opens it, sees the diff and accepts it; it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: Awaited<ReturnType<typeof startBrowser>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

async function pageOf(key: string, path: string): Promise<Page> {
  const { page } = await browser.newPage();
  await signIn(page, t.baseUrl, key, path);
  return page;
}

describe('a correction in the web app', () => {
  it('is suggested by a reviewer, shows its diff, and runs once the requester accepts it', async () => {
    const r = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'off'", reason: 'OPS-5' } });
    expect(r.status).toBe(201);
    const reviewer = await pageOf(dana.apiKey, `/reviews/${r.body.id}`);
    await reviewer.getByRole('button', { name: 'Suggest a change' }).click();
    const dialog = reviewer.getByRole('dialog', { name: 'Suggest a change' });
    const command = dialog.getByLabel('Command');
    expect(await command.inputValue()).toBe("UPDATE users SET status = 'off'");
    await command.fill("UPDATE users SET status = 'off'\nWHERE id = 2");
    // The comment is required before anything is sent.
    expect(await dialog.getByRole('button', { name: 'Suggest change' }).isDisabled()).toBe(true);
    await dialog.getByLabel('Comment').fill('only Bob');
    await dialog.getByRole('button', { name: 'Suggest change' }).click();
    // Lands on the correction's page: what it corrects, and the diff.
    const panel = reviewer.getByRole('region', { name: /Correction of/ });
    await panel.waitFor();
    expect(await panel.getByRole('link', { name: r.body.id }).count()).toBe(1);
    expect(await panel.locator('.diff-added').allTextContents()).toEqual(['+WHERE id = 2']);
    expect(await panel.getByText('only Bob').count()).toBe(1);
    expect(await panel.getByRole('button', { name: 'Accept change' }).count()).toBe(0);
    const correctionId = reviewer.url().split('/reviews/')[1]!;
    expect((await t.api('GET', `/api/reviews/${r.body.id}`)).body).toMatchObject({ status: 'REJECTED', correctedBy: correctionId });

    const requester = await pageOf(alice.apiKey, `/reviews/${correctionId}`);
    const mine = requester.getByRole('region', { name: /Correction of/ });
    await mine.waitFor();
    expect(await mine.locator('.diff-removed').count()).toBe(0);
    expect(await mine.locator('.diff-kept').allTextContents()).toEqual([" UPDATE users SET status = 'off'"]);
    await mine.getByRole('button', { name: 'Accept change' }).click();
    await mine.getByText('The requester accepted this change.').waitFor();
    await eventually(async () => (await t.api('GET', `/api/reviews/${correctionId}`)).body.status === 'EXECUTED');
    expect((await target.query('SELECT id, status FROM users ORDER BY id')).map((u) => u.status)).toEqual(['active', 'off', 'active']);
    await reviewer.close();
    await requester.close();
  });

  it('lets the requester decline a correction, which then never runs', async () => {
    const r = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 1", reason: 'OPS-6' } });
    const s = await t.api('POST', `/api/reviews/${r.body.id}/suggest`, { key: dana.apiKey, body: { input: "UPDATE users SET status = 'x' WHERE id = 3", comment: 'id 3' } });
    expect(s.status).toBe(201);
    const id = s.body.correction.id;
    const requester = await pageOf(alice.apiKey, `/reviews/${id}`);
    const panel = requester.getByRole('region', { name: /Correction of/ });
    await panel.getByRole('button', { name: 'Decline change' }).click();
    await eventually(async () => (await t.api('GET', `/api/reviews/${id}`)).body.status === 'REJECTED');
    expect((await t.api('GET', `/api/reviews/${id}`)).body.rejectReason).toBe('The requester declined the change.');
    expect((await target.query("SELECT count(*)::int AS n FROM users WHERE status = 'x'"))[0].n).toBe(0);
    await requester.close();
  });
});
