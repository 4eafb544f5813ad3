// Screenshots of the web app's main pages for the README (docs/*.png): a real gateway, PostgreSQL
// and Redis with a few requests in every state, and Debian's Chromium. `npm run screenshots`.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import pg from 'pg';
import { ADMIN_URL, createTargetDatabase, uniqueName, withDatabase } from '../test/helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway } from '../test/helpers/gateway.js';
import { signIn, startBrowser } from '../test/helpers/browser.js';

const OUT = 'docs';

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const template = uniqueName('hoop_shots_template');
await admin(`CREATE DATABASE ${template}`);
execFileSync('npx', ['prisma', 'migrate', 'deploy'], { env: { ...process.env, DATABASE_URL: withDatabase(ADMIN_URL, template) }, stdio: 'pipe' });
process.env.HOOP_TEST_TEMPLATE = template;

// A webhook receiver that accepts everything, so the Webhooks page has deliveries to show.
const receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks/hoop`;

// The browser first: it rebuilds dist/web when web/ changed, and the gateway reads dist/web once, at start.
const browser = await startBrowser();
const gw = await startTestGateway({ slack: false, env: { REVIEW_TIMEOUT_SEC: '3600', WEBHOOK_ALLOW_PRIVATE: 'true' } });
const target = await createTargetDatabase();
try {
  await target.query(`DROP TABLE users; CREATE TABLE users (id int PRIMARY KEY, email text, name text, status text)`);
  await target.query(`INSERT INTO users SELECT i, 'user' || i || '@example.com', 'User ' || i, 'active' FROM generate_series(1, 12) i`);
  const alice = await gw.createUser('alice@example.com', ['developers']);
  const dana = await gw.createUser('dana@example.com', ['dba-team']);
  const sam = await gw.createUser('sam@example.com', ['security']);
  await gw.createUser('bo@example.com', ['dba-team', 'security']);
  await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all', plugins: ['webhooks'] } });
  await gw.api('POST', '/api/connections', { body: { name: 'billing', url: target.url, reviewers: ['dba-team', 'security'], reviewMode: 'writes', maskColumns: ['email'] } });
  await gw.api('POST', '/api/connections', { body: { name: 'analytics', url: target.url, reviewers: [] } });
  const exec = async (conn: string, input: string, reason: string, key = alice.apiKey) => (await gw.api('POST', `/api/connections/${conn}/exec`, { key, body: { input, reason } })).body;

  await gw.api('POST', '/api/webhooks', { body: { url: receiverUrl, events: ['review.created', 'review.approved', 'review.rejected', 'review.executed', 'review.failed'], description: 'Ticketing: open an incident per request' } });
  const done = await exec('prod-db', "UPDATE users SET status = 'inactive' WHERE id = 3", 'OPS-1412: close account on request');
  await gw.api('PUT', `/api/reviews/${done.id}/approve`, { key: dana.apiKey, body: {} });
  await eventually(async () => (await gw.api('GET', `/api/reviews/${done.id}`)).body.status === 'EXECUTED');
  const rejected = await exec('prod-db', 'DELETE FROM users', 'cleanup');
  await gw.api('PUT', `/api/reviews/${rejected.id}/reject`, { key: dana.apiKey, body: { reason: 'No WHERE clause: this deletes every user. Add the ids.' } });
  const dual = await exec('billing', "UPDATE users SET name = 'Ann Lee' WHERE id = 7;\nUPDATE users SET status = 'active' WHERE id = 7", 'SUP-88: fix a customer record');
  await gw.api('PUT', `/api/reviews/${dual.id}/approve`, { key: sam.apiKey, body: {} });
  const pending = await exec('prod-db', "UPDATE users\n   SET status = 'suspended'\n WHERE id IN (4, 5, 6)\n   AND status = 'active'", 'INC-2210: suspend three accounts flagged by fraud');
  await exec('analytics', 'SELECT id, name, status FROM users ORDER BY id LIMIT 5', 'weekly report');
  // Agents (issue 13): two, and a request of one through an MCP client, as reviewers see it.
  const bot = (await gw.api('POST', '/api/agents', { body: { name: 'ci-bot', owner: 'alice@example.com', groups: ['developers'] } })).body;
  await gw.api('POST', '/api/agents', { body: { name: 'report-agent', owner: 'sam@example.com', groups: ['developers', 'security'] } });
  const byAgent = (
    await gw.api('POST', '/api/connections/prod-db/exec', {
      key: bot.apiKey,
      headers: { 'user-agent': 'hoop-cli/0.1.0 (mcp; node 22.11.0; linux x64)', 'hoop-mcp-client': 'claude-desktop/1.2.0' },
      body: { input: "UPDATE users SET status = 'inactive' WHERE id = 9", reason: 'OPS-1502: the user asked to close their account (agent triage)' },
    })
  ).body;

  const shoot = async (name: string, path: string, key: string, width = 1280, height = 820) => {
    const { page, context } = await browser.newPage({ width, height });
    await signIn(page, gw.baseUrl, key, path);
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${OUT}/${name}.png`, fullPage: false });
    await context.close();
  };
  {
    const { page, context } = await browser.newPage({ width: 1280, height: 620 });
    await page.goto(`${gw.baseUrl}/`);
    await page.getByLabel('API key').waitFor();
    await page.screenshot({ path: `${OUT}/web-sign-in.png` });
    await context.close();
  }
  await shoot('web-access-requests', '/reviews?status=all', dana.apiKey);
  await shoot('web-request-pending', `/reviews/${pending.id}`, dana.apiKey, 1280, 1000);
  await shoot('web-request-executed', `/reviews/${done.id}`, alice.apiKey, 1280, 1100);
  {
    // Run: a read on analytics, which runs at once, with its result.
    const { page, context } = await browser.newPage({ width: 1280, height: 900 });
    await signIn(page, gw.baseUrl, alice.apiKey, '/run?connection=analytics');
    await page.getByLabel('SQL').fill('SELECT id, name, status\n  FROM users\n ORDER BY id\n LIMIT 5');
    await page.getByLabel('Reason').fill('weekly report');
    await page.getByRole('button', { name: /^Run/ }).click();
    await page.getByText('(5 rows)').waitFor();
    await page.screenshot({ path: `${OUT}/web-run.png` });
    await context.close();
  }
  await shoot('web-connections', '/connections', ADMIN_KEY);
  await shoot('web-connection-edit', '/connections/prod-db', ADMIN_KEY, 1280, 1100);
  await shoot('web-users', '/users', ADMIN_KEY);
  await shoot('web-agents', '/agents', ADMIN_KEY, 1280, 620);
  await shoot('web-request-agent', `/reviews/${byAgent.id}`, dana.apiKey, 1280, 900);
  await shoot('web-webhooks', '/webhooks', ADMIN_KEY);
  await shoot('web-analytics', '/analytics', ADMIN_KEY, 1280, 1500);
  await shoot('web-phone', `/reviews/${pending.id}`, dana.apiKey, 390, 844);
  {
    // Just-in-Time access: a window asked for on a connection that grants them, approved (made last,
    // so the other pages show what they showed before).
    await gw.api('POST', '/api/connections', { body: { name: 'orders-db', url: target.url, reviewers: ['dba-team'], accessMode: 'both', maxAccessDuration: '4h' } });
    const asked = (await gw.api('POST', '/api/connections/orders-db/access', { key: alice.apiKey, body: { duration: '30m', reason: 'INC-2231: debugging slow checkouts' } })).body;
    await gw.api('PUT', `/api/reviews/${asked.id}/approve`, { key: dana.apiKey, body: {} });
    await shoot('web-access', `/reviews/${asked.id}`, alice.apiKey, 1280, 900);
  }
  console.log(`screenshots written to ${OUT}/`);
} finally {
  await browser.close();
  await gw.stop();
  await target.drop();
  receiver.close();
  await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
}
