// The Access Requests page and a request's page in Chromium, against the real gateway, PostgreSQL
// and Redis: live rows, Approve → Executed with the output, Reject with a reason, and no buttons
// for those the vote rule refuses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createTargetDatabase } from '../helpers/databases.js';
import { eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { signIn, startBrowser, type TestBrowser } from '../helpers/browser.js';

let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let browser: TestBrowser;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let auditor: { id: string; apiKey: string };
let bo: { id: string; apiKey: string };

beforeAll(async () => {
  // First: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
  browser = await startBrowser();
  t = await startTestGateway({ slack: false });
  target = await createTargetDatabase();
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
  auditor = await t.createUser('auditor@example.com', ['auditors'], true);
  bo = await t.createUser('bo@example.com', ['dba-team', 'security']);
  expect((await t.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } })).status).toBe(201);
  expect((await t.api('POST', '/api/connections', { body: { name: 'dual', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'all' } })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.stop();
  await target?.drop();
});

/** Alice submits `input` through the API; the pending request's id. */
async function submit(input: string, reason = 'OPS-42', connection = 'prod-db'): Promise<string> {
  const res = await t.api('POST', `/api/connections/${connection}/exec`, { key: alice.apiKey, body: { input, reason } });
  expect(res.status).toBe(201);
  expect(res.body.status).toBe('PENDING');
  return res.body.id;
}

/** A page signed in as the key's owner at `path`; `width` 390 makes it a phone once signed in. */
async function pageOf(apiKey: string, path: string, width?: number): Promise<Page> {
  const { page } = await browser.newPage();
  // A step that fails says which locator it waited for, before the test's own timeout.
  page.setDefaultTimeout(15_000);
  await signIn(page, t.baseUrl, apiKey, path);
  if (width) await page.setViewportSize({ width, height: 860 });
  return page;
}

describe('Access Requests', () => {
  it('shows a request created through the API after the page is open, without a reload, and its status change', async () => {
    const page = await pageOf(dana.apiKey, '/reviews');
    await page.getByRole('heading', { name: 'Access Requests' }).waitFor();
    await expect(page.getByLabel('Status').inputValue()).resolves.toBe('pending');
    // A mark on the window: a reload would lose it.
    await page.evaluate(() => ((window as unknown as { mark: number }).mark = 1));
    const id = await submit("UPDATE users SET status = 'live' WHERE id = 2");
    const link = page.getByRole('link', { name: "UPDATE users SET status = 'live' WHERE id = 2" });
    await link.waitFor();
    const row = page.getByRole('row').filter({ has: link });
    await expect(row.getByText('alice@example.com').count()).resolves.toBe(1);
    await expect(row.getByText('0 of 1 group approved').count()).resolves.toBe(1);
    await expect(row.getByText('Pending', { exact: true }).count()).resolves.toBe(1);
    // Rejected elsewhere (the API, as the CLI or Slack would): the row shows it.
    expect((await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: { reason: 'elsewhere' } })).status).toBe(200);
    await row.getByText('Rejected', { exact: true }).waitFor();
    expect(await page.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(1);
    // The row links to the request's page.
    await link.click();
    await page.waitForURL(`${t.baseUrl}/reviews/${id}`);
    await page.getByText('elsewhere', { exact: true }).first().waitFor();
  });

  it('keeps its filters in the URL, so a link opens the same list', async () => {
    await submit("UPDATE users SET status = 'filtered' WHERE id = 3");
    const refused = await submit("UPDATE users SET status = 'refused' WHERE id = 3");
    expect((await t.api('PUT', `/api/reviews/${refused}/reject`, { key: dana.apiKey, body: {} })).status).toBe(200);
    const page = await pageOf(dana.apiKey, '/reviews?status=all&requester=alice%40example.com');
    await expect(page.getByLabel('Status').inputValue()).resolves.toBe('all');
    await expect(page.getByLabel('Requester').inputValue()).resolves.toBe('alice@example.com');
    await page.getByRole('link', { name: "UPDATE users SET status = 'filtered' WHERE id = 3" }).waitFor();
    // A command's first line that says something, marked when there is more.
    await submit("-- OPS-44: why\n\nDELETE FROM users\nWHERE id = 3");
    await page.getByRole('link', { name: 'DELETE FROM users …', exact: true }).waitFor();
    await page.getByLabel('Status').selectOption('rejected');
    await page.waitForURL(/status=rejected/);
    await page.getByRole('link', { name: "UPDATE users SET status = 'refused' WHERE id = 3" }).waitFor();
    await expect(page.getByRole('link', { name: "UPDATE users SET status = 'filtered' WHERE id = 3" }).count()).resolves.toBe(0);
    // Opened from its URL, the filtered list is the same.
    await page.reload();
    await expect(page.getByLabel('Status').inputValue()).resolves.toBe('rejected');
    await page.getByRole('link', { name: "UPDATE users SET status = 'refused' WHERE id = 3" }).waitFor();
  });

  it('shows when each request was made and counts down the time it has left', async () => {
    const id = await submit("UPDATE users SET status = 'clock' WHERE id = 2");
    const made = (await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body;
    const page = await pageOf(dana.apiKey, '/reviews');
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: "UPDATE users SET status = 'clock' WHERE id = 2" }) });
    const created = row.locator('td[data-label="Created"] time');
    const expires = row.locator('td[data-label="Expires in"] time');
    await created.waitFor();
    expect(await created.getAttribute('datetime')).toBe(made.createdAt);
    expect(await created.textContent()).toMatch(/^\d+ s ago$/);
    expect(await expires.getAttribute('datetime')).toBe(made.expiresAt);
    // The test gateway's requests expire after an hour.
    const first = await expires.textContent();
    expect(first).toMatch(/^5\d min \d+ s$/);
    await page.waitForTimeout(2_100);
    const second = await expires.textContent();
    expect(second).toMatch(/^5\d min \d+ s$/);
    expect(second).not.toBe(first);
    await page.close();
  });

  it('fits a phone (390 px) without scrolling sideways, and so does a request with its Approve button', async () => {
    const id = await submit("UPDATE users SET status = 'phone' WHERE id = 2 AND email <> 'a rather long value that must wrap on a phone screen'");
    const page = await pageOf(dana.apiKey, '/reviews', 390);
    await page.getByRole('link', { name: /status = 'phone'/ }).waitFor();
    const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.getByRole('link', { name: /status = 'phone'/ }).click();
    await page.waitForURL(`${t.baseUrl}/reviews/${id}`);
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.scrollIntoViewIfNeeded();
    const box = await approve.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.close();
  });

  it('pages with Load more, newest first, until there is no more', async () => {
    const conn = await t.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } });
    const base = Date.parse('2021-01-01T00:00:00.000Z');
    await t.gateway.db.review.createMany({
      data: Array.from({ length: 30 }, (_, i) => ({
        connectionId: conn.id, requesterId: alice.id, input: `SELECT ${i} AS paged`, status: 'EXPIRED' as const,
        createdAt: new Date(base + i * 1000), expiresAt: new Date(base), commandTags: [],
      })),
    });
    // Stored without reviewer groups: an admin sees them.
    const page = await pageOf(auditor.apiKey, '/reviews?status=expired');
    const links = page.getByRole('link', { name: /^SELECT \d+ AS paged$/ });
    await links.first().waitFor();
    expect(await links.allTextContents()).toEqual(Array.from({ length: 25 }, (_, i) => `SELECT ${29 - i} AS paged`));
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.getByRole('link', { name: 'SELECT 0 AS paged' }).waitFor();
    expect(await links.allTextContents()).toEqual(Array.from({ length: 30 }, (_, i) => `SELECT ${29 - i} AS paged`));
    await expect(page.getByRole('button', { name: 'Load more' }).count()).resolves.toBe(0);
  });
});

describe('a request', () => {
  it('approved by a reviewer, runs and shows the result as psql does', async () => {
    const id = await submit("UPDATE users SET status = 'approved' WHERE id = 1 RETURNING id, status");
    const page = await pageOf(dana.apiKey, `/reviews/${id}`);
    await page.getByRole('heading', { name: 'Access request on prod-db' }).waitFor();
    await page.getByLabel('The command, as submitted').getByText('RETURNING', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Result' }).waitFor();
    await page.getByLabel('Output, as psql shows it').getByText(/approved/).waitFor();
    const output = await page.getByLabel('Output, as psql shows it').textContent();
    const stored = await eventually(async () => {
      const r = await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey });
      return r.body.status === 'EXECUTED' ? r.body : undefined;
    });
    expect(output).toBe(stored.output);
    expect(output).toMatch(/^ id \| +status\n-+\+-+\n +1 \| approved\n\(1 row\)\n/);
    expect(output).toContain('UPDATE 1');
    await page.getByText('Executed', { exact: true }).first().waitFor();
    await expect(page.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await page.getByRole('cell', { name: 'review.approved' }).waitFor();
    expect((await target.query('SELECT status FROM users WHERE id = 1'))[0].status).toBe('approved');
  });

  it('rejected with a reason, shows the reason afterwards', async () => {
    const id = await submit('DELETE FROM users WHERE id = 3');
    const page = await pageOf(dana.apiKey, `/reviews/${id}`, 390);
    await page.getByRole('button', { name: 'Reject' }).click();
    const dialog = page.getByRole('dialog', { name: 'Reject this request' });
    await dialog.getByLabel('Reason').fill('Not during the freeze');
    await dialog.getByRole('button', { name: 'Reject request' }).click();
    await page.getByText('Rejected', { exact: true }).first().waitFor();
    await expect(dialog.isVisible()).resolves.toBe(false);
    await page.getByRole('definition').filter({ hasText: 'Not during the freeze' }).waitFor();
    const stored = await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey });
    expect(stored.body).toMatchObject({ status: 'REJECTED', rejectReason: 'Not during the freeze' });
    expect((await target.query('SELECT count(*)::int AS n FROM users WHERE id = 3'))[0].n).toBe(1);
  });

  it('shows no Approve or Reject to an admin outside the reviewer groups, nor Approve to the requester, and says why', async () => {
    const id = await submit("UPDATE users SET status = 'nobody' WHERE id = 5");
    const admin = await pageOf(auditor.apiKey, `/reviews/${id}`);
    await admin.getByText(/You cannot decide on this request: You are not in any group that still has to decide \(dba-team\)/).waitFor();
    await expect(admin.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await expect(admin.getByRole('button', { name: 'Reject' }).count()).resolves.toBe(0);
    const own = await pageOf(alice.apiKey, `/reviews/${id}`);
    await own.getByText(/You cannot approve your own request/).waitFor();
    await expect(own.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await expect(own.getByRole('button', { name: 'Reject' }).count()).resolves.toBe(0);
  });

  it('shows the API\'s words when a decision is refused (decided elsewhere meanwhile)', async () => {
    const id = await submit("UPDATE users SET status = 'race' WHERE id = 2");
    const { page } = await browser.newPage();
    await signIn(page, t.baseUrl, dana.apiKey, `/reviews/${id}`);
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    // Stop live updates reaching this page, so its buttons are stale when clicked.
    await page.route('**/api/reviews/*', (route) => (route.request().method() === 'GET' ? route.abort() : route.continue()));
    expect((await t.api('PUT', `/api/reviews/${id}/reject`, { key: dana.apiKey, body: {} })).status).toBe(200);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('alert').filter({ hasText: 'This request is already rejected; there is nothing left to decide.' }).waitFor();
  });

  it('lets a member of two pending groups choose the group, then only reject for the other', async () => {
    const id = await submit("UPDATE users SET status = 'two' WHERE id = 2", 'OPS-43', 'dual');
    const page = await pageOf(bo.apiKey, `/reviews/${id}`);
    const choice = page.getByLabel('Decide for group');
    // allTextContents does not wait: the page renders the choice once its review has loaded.
    await choice.locator('option', { hasText: 'security' }).waitFor({ state: 'attached' });
    await expect(choice.locator('option').allTextContents()).resolves.toEqual(['dba-team', 'security']);
    await choice.selectOption('security');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('1 of 2 groups approved').waitFor();
    const groups = page.getByRole('table', { name: "Each reviewer group's decision" });
    await groups.getByRole('row').filter({ hasText: 'security' }).getByText('bo@example.com').waitFor();
    // One person approves for one group: bo may still reject for dba-team, and is told why not approve.
    await page.getByText(/You already approved this request for "security"/).waitFor();
    await expect(page.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Reject' }).waitFor();
    const stored = (await t.api('GET', `/api/reviews/${id}`, { key: bo.apiKey })).body;
    expect(stored.groups).toMatchObject([{ group: 'dba-team', status: 'PENDING' }, { group: 'security', status: 'APPROVED', reviewer: 'bo@example.com' }]);
  });

  it('spells out characters that would hide or reorder what a reviewer reads', async () => {
    const id = await submit("UPDATE users SET status = 'a\u202e' WHERE id = 2 -- \u2066x\u2069");
    const page = await pageOf(dana.apiKey, `/reviews/${id}`);
    await page.getByRole('note').filter({ hasText: 'This command holds 3 characters you would not see' }).waitFor();
    const shown = await page.getByLabel('The command, as submitted').textContent();
    expect(shown).toBe("UPDATE users SET status = 'a⟦U+202E⟧' WHERE id = 2 -- ⟦U+2066⟧x⟦U+2069⟧");
  });

  it('spells out such characters in who asked too, on the list and on the request', async () => {
    // An email may hold a right-to-left override (the API's rule is "no space, one @"): shown raw,
    // "moc.elpmaxe@nimda" would read to a reviewer as someone else asking.
    const email = 'eve\u202emoc.elpmaxe@nimda.example.com';
    const eve = await t.createUser(email, ['developers']);
    const made = await t.api('POST', '/api/connections/prod-db/exec', { key: eve.apiKey, body: { input: "UPDATE users SET status = 'eve' WHERE id = 2", reason: 'OPS-45' } });
    expect(made.status).toBe(201);
    const marked = 'eve⟦U+202E⟧moc.elpmaxe@nimda.example.com';
    const page = await pageOf(dana.apiKey, `/reviews/${made.body.id}`);
    const requester = page.getByText('Requester', { exact: true }).locator('xpath=following-sibling::dd[1]');
    await requester.waitFor();
    expect(await requester.textContent()).toBe(marked);
    await page.goto(`${t.baseUrl}/reviews?requester=${encodeURIComponent(email)}`);
    const cell = page.getByRole('row', { name: /OPS|eve/ }).locator('td[data-label="Requester"]');
    await cell.first().waitFor();
    expect(await cell.first().textContent()).toBe(marked);
    await page.close();
  });

  it('shows each statement\'s classification with its warnings, and a failed run\'s error', async () => {
    const id = await submit('SELECT count(*) FROM users;\nDELETE FROM missing_table');
    expect((await t.api('PUT', `/api/reviews/${id}/approve`, { key: dana.apiKey, body: {} })).status).toBe(200);
    const failed = await eventually(async () => {
      const r = await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey });
      return r.body.status === 'FAILED' ? r.body : undefined;
    });
    expect(failed.error).toMatch(/missing_table/);
    const page = await pageOf(dana.apiKey, `/reviews/${id}`);
    await page.getByRole('heading', { name: 'What it does' }).waitFor();
    const statements = page.getByRole('table', { name: 'Statements and their classification' });
    const [select, del] = [statements.getByRole('row').nth(1), statements.getByRole('row').nth(2)];
    await expect(select.locator('td[data-label="Command"]').textContent()).resolves.toBe('SELECT');
    await expect(select.locator('td[data-label="Tables"]').textContent()).resolves.toBe('users');
    await expect(select.locator('td[data-label="Warnings"]').textContent()).resolves.toBe('none');
    await expect(del.locator('td[data-label="Command"]').textContent()).resolves.toBe('DELETE');
    await expect(del.locator('td[data-label="Tables"]').textContent()).resolves.toBe('missing_table');
    await expect(del.locator('td[data-label="Warnings"] li').allTextContents()).resolves.toEqual(failed.classification.statements[1].warnings);
    expect(failed.classification.statements[1].warnings.join(' ')).toMatch(/changes every row of missing_table/);
    // Each statement's kind, in the gateway's words.
    await expect(statements.locator('td[data-label="Kind"]').allTextContents()).resolves.toEqual(failed.classification.statements.map((x: { kind: string }) => x.kind));
    await page.getByText('Failed', { exact: true }).first().waitFor();
    const error = page.getByRole('status').filter({ hasText: 'Error:' });
    await expect(error.textContent()).resolves.toBe(`Error: ${failed.error}`);
    await page.close();
  });

  it('opened from a Teams card\'s Reject, opens the Reject dialog with Reason focused, and drops ?action from the address', async () => {
    const id = await submit("UPDATE users SET status = 'teams-reject' WHERE id = 2");
    const page = await pageOf(dana.apiKey, `/reviews/${id}?action=reject`);
    const dialog = page.getByRole('dialog', { name: 'Reject this request' });
    await dialog.waitFor();
    await page.waitForURL(`${t.baseUrl}/reviews/${id}`);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('reject-reason');
    await page.keyboard.type('Card said no');
    await dialog.getByRole('button', { name: 'Reject request' }).click();
    await page.getByRole('definition').filter({ hasText: 'Card said no' }).waitFor();
    expect((await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body).toMatchObject({ status: 'REJECTED', rejectReason: 'Card said no' });
    // A link to a request decided meanwhile says so, in the API's words.
    const late = await pageOf(bo.apiKey, `/reviews/${id}?action=reject`);
    await late.getByRole('note').filter({ hasText: 'You cannot decide on this request: This request is already rejected; there is nothing left to decide.' }).waitFor();
    await expect(late.getByRole('dialog').count()).resolves.toBe(0);
    await page.close();
    await late.close();
  });

  it('opened from a Teams card\'s Approve, asks "Approve this request?" with the focus on Approve, and decides nothing until it is pressed', async () => {
    const id = await submit("UPDATE users SET status = 'teams-approve' WHERE id = 2");
    const page = await pageOf(dana.apiKey, `/reviews/${id}?action=approve`);
    await page.getByText('Approve this request?', { exact: true }).waitFor();
    await page.waitForURL(`${t.baseUrl}/reviews/${id}`);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Approve');
    await expect(page.getByRole('dialog').count()).resolves.toBe(0);
    // Opening the link decided nothing; a reload (the address no longer asks) neither.
    await page.reload();
    await page.getByRole('button', { name: 'Approve' }).waitFor();
    await expect(page.getByText('Approve this request?').count()).resolves.toBe(0);
    const still = (await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body;
    expect(still.status).toBe('PENDING');
    const events = (await t.api('GET', `/api/reviews/${id}/events`, { key: dana.apiKey })).body.events as { action: string }[];
    expect(events.map((e) => e.action)).not.toContain('review.approved');
    // The requester gets the refusal, not a question.
    const own = await pageOf(alice.apiKey, `/reviews/${id}?action=approve`);
    await own.getByText(/You cannot decide on this request: You cannot approve your own request/).waitFor();
    await expect(own.getByText('Approve this request?').count()).resolves.toBe(0);
    await expect(own.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    // Pressed with the keyboard where the focus was put, it approves.
    const again = await pageOf(dana.apiKey, `/reviews/${id}?action=approve`);
    await again.getByText('Approve this request?', { exact: true }).waitFor();
    await again.keyboard.press('Enter');
    await eventually(async () => ['APPROVED', 'RUNNING', 'EXECUTED'].includes((await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body.status));
    for (const p of [page, own, again]) await p.close();
  });

  it('tells someone who may not see a request that there is none with that id', async () => {
    const id = await submit("UPDATE users SET status = 'hidden' WHERE id = 3");
    const outsider = await t.createUser('out@example.com', ['marketing']);
    const page = await pageOf(outsider.apiKey, `/reviews/${id}`);
    await page.getByRole('alert').filter({ hasText: `No request has the id ${id}` }).waitFor();
    await expect(page.getByText("UPDATE users SET status = 'hidden'").count()).resolves.toBe(0);
  });
});

describe('a forged form on another origin', () => {
  // Another port of 127.0.0.1 is another origin but the same site: SameSite=Lax still sends the
  // session cookie with its POST, so only the gateway's own checks stand in the way.
  let evil: Server;
  let evilUrl: string;
  beforeAll(async () => {
    evil = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://127.0.0.1');
      const action = u.searchParams.get('to') ?? '';
      // text/plain with a name and value that together read as JSON: the classic forged JSON body.
      const name = '{"input":"UPDATE users SET status = \'forged\' WHERE id = 2","reason":"forged","x":"';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form method="POST" enctype="text/plain" action="${action}"><input type="hidden" name='${name}' value='"}'></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => evil?.close(resolve));
  });

  /** Dana, signed in to the web app, opens the forged page aimed at `target`; the gateway's answer. */
  async function forge(target: string) {
    const page = await pageOf(dana.apiKey, '/reviews');
    const answer = page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST');
    await page.goto(`${evilUrl}?to=${encodeURIComponent(target)}`);
    const res = await answer;
    const sent = await res.request().allHeaders();
    const out = { status: res.status(), body: await res.text(), cookie: sent.cookie ?? '' };
    await page.close();
    return out;
  }

  it('cannot approve a pending request, nor submit a command in the signed-in reviewer\'s name', async () => {
    const id = await submit("UPDATE users SET status = 'target' WHERE id = 2");
    const approve = await forge(`${t.baseUrl}/api/reviews/${id}/approve`);
    // The session cookie went with it: the browser did not stop this, the gateway did. A form can
    // only POST, and deciding takes a PUT (which another origin's script cannot send without CORS).
    expect(approve.cookie).toContain('hoop_session=');
    expect(approve.status).toBe(404);
    expect(approve.body).toContain('No route POST');
    expect((await t.api('GET', `/api/reviews/${id}`, { key: dana.apiKey })).body.status).toBe('PENDING');

    const exec = await forge(`${t.baseUrl}/api/connections/prod-db/exec`);
    expect(exec.cookie).toContain('hoop_session=');
    expect(exec.status).toBe(403);
    expect(exec.body).toContain('came from another site');
    // Refused before it was read: nothing was submitted in Dana's name.
    const mine = await t.api('GET', '/api/reviews?requester=dana%40example.com', { key: dana.apiKey });
    expect(mine.status).toBe(200);
    expect(mine.body.reviews).toEqual([]);
  });
});
