// The impact preview and a row-limited approval in a real Chromium (issue 14): the request page
// shows what the write would change, with its sample, flags a statement that matches nothing, and
// approves "at most N rows" from the Row limit field; a run over the limit is rolled back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: Awaited<ReturnType<typeof startBrowser>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };

const submit = async (input: string) => {
  const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input, reason: 'OPS-21' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.id as string;
  await eventually(async () => (await t.api('GET', `/api/reviews/${id}`)).body.preview?.state === 'measured', 10_000, 'the preview measured');
  return id;
};

beforeAll(async () => {
  browser = await startBrowser();
  t = await startTestGateway({ slack: false, env: { PREVIEW_DEFAULT_MODE: 'auto' } });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], maskDetectors: ['email'] } })).status).toBe(201);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

describe('a write request in the web app', () => {
  it('shows what it would change, flags what matches nothing, and masks the sample', async () => {
    const id = await submit("UPDATE users SET status = 'off' WHERE id <= 2; DELETE FROM users WHERE id = 99");
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, dana.apiKey, `/reviews/${id}`);
    const panel = page.getByRole('region', { name: 'Impact preview' });
    await panel.getByText('1. would update 2 rows in users').waitFor();
    expect(await panel.getByRole('listitem').allTextContents()).toEqual(['1. would update 2 rows in users', '2. would delete 0 rows from users — matches nothing']);
    expect(await panel.locator('li.warning').count()).toBe(1);
    await expect(panel.getByText('Counted by a dry run that was rolled back.').isVisible()).resolves.toBe(true);
    const sample = panel.getByRole('table', { name: 'Statement 1: a few of the rows as it would leave them' });
    expect(await sample.locator('th').allTextContents()).toEqual(['id', 'email', 'status']);
    const cells = await sample.locator('tbody td').allTextContents();
    expect(cells).toContain('off');
    expect(cells.join(' ')).not.toContain('ann@example.com');
    expect(cells.some((c) => /^a\*+@example\.com$/.test(c))).toBe(true);
    await page.close();
  });

  it('approves at most N rows from the Row limit field, and the run over it is rolled back', async () => {
    const id = await submit("UPDATE users SET status = 'locked' WHERE id <= 3");
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, dana.apiKey, `/reviews/${id}`);
    const limit = page.getByLabel('Row limit (optional)');
    await limit.fill('two');
    await page.getByText('A whole number of rows, or empty for no limit.').waitFor();
    expect(await page.getByRole('button', { name: 'Approve' }).isDisabled()).toBe(true);
    await limit.fill('2');
    await page.getByRole('button', { name: 'Approve, at most 2 rows' }).click();
    await page.getByText('the command affected 3 rows, approved for at most 2 rows; rolled back, nothing was changed').first().waitFor();
    expect(await target.query("SELECT count(*)::int AS n FROM users WHERE status = 'locked'")).toEqual([{ n: 0 }]);
    const groups = page.getByRole('region', { name: 'Reviewer groups' });
    await groups.getByText('at most 2 rows', { exact: false }).waitFor();
    await page.close();
  });
});
