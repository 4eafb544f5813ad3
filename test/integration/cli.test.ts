// The built `hoop` binary as a child process against a real gateway.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const BIN = path.resolve('bin/hoop.mjs');

let t: TestGateway;
let short: TestGateway; // REVIEW_TIMEOUT_SEC=2
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let alice: { id: string; apiKey: string };
let dana: { id: string; apiKey: string };
let home: string;
const children = new Set<ReturnType<typeof spawn>>();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function hoop(args: string[], opts: { key?: string; url?: string; env?: Record<string, string>; stdin?: string; onSpawn?: (pid: number) => void; onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1' };
    if (opts.url !== '') env.HOOP_API_URL = opts.url ?? t.baseUrl;
    if (opts.key !== '') env.HOOP_API_KEY = opts.key ?? alice.apiKey;
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else child.stdin.end();
    opts.onSpawn?.(child.pid!);
  });
}

/** The newest pending review of the gateway, once the CLI has created it. */
async function pendingReview(gw: TestGateway, input: string): Promise<any> {
  return eventually(async () => {
    const res = await gw.api('GET', '/api/reviews?status=pending');
    return res.body.reviews.find((r: any) => r.input === input);
  }, 10_000, `a pending review of ${input}`);
}

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-cli-'));
  target = await createTargetDatabase();
  t = await startTestGateway({ slack: false });
  short = await startTestGateway({ slack: false, env: { REVIEW_TIMEOUT_SEC: '2' } });
  for (const gw of [t, short]) {
    await gw.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
    await gw.api('POST', '/api/connections', { body: { name: 'sandbox', url: target.url, reviewers: [] } });
  }
  alice = await t.createUser('alice@example.com', ['developers']);
  dana = await t.createUser('dana@example.com', ['dba-team']);
});

afterAll(async () => {
  // A failed test must not leave a waiting CLI (or a pseudo-terminal and its CLI) behind.
  for (const child of children) {
    try {
      if (child.spawnargs[0] === 'script') process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  await t?.stop();
  await short?.stop();
  await target?.drop();
});

// The tests on the shared gateways t and short run in order (later ones count the reviews and
// pending requests earlier ones leave); the describes below it need nothing of theirs (no gateway,
// a request of their own, or a gateway of their own) and run beside them.
describe.concurrent('on the shared gateways', () => {
  describe.sequential('hoop exec', () => {
    it('waits for approval, then prints the command tag and exits 0', async () => {
      const sql = "UPDATE users SET status = 'cli' WHERE id = 1";
      const run = hoop(['exec', 'prod-db', '-i', sql, '--reason', 'OPS-7']);
      const r = await pendingReview(t, sql);
      expect(r.reason).toBe('OPS-7');
      expect((await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey })).status).toBe(200);
      const out = await run;
      expect(out.code).toBe(0);
      expect(out.stdout).toBe('UPDATE 1\n');
      expect(out.stderr).not.toContain('Waiting for approval'); // no spinner without a terminal
      expect(out.stderr).toBe(`hoop: review ${r.id} is pending; waiting on dba-team. Ctrl-C stops waiting and leaves the request as it is.\n`);
    });

    it('prints a result table as psql does', async () => {
      const out = await hoop(['exec', 'sandbox', '-i', 'SELECT id, email FROM users WHERE id = 2']);
      expect(out.code).toBe(0);
      expect(out.stdout).toBe(' id |      email\n----+-----------------\n  2 | bob@example.com\n(1 row)\n');
    });

    it('reads the SQL from a file and from stdin', async () => {
      const file = path.join(home, 'q.sql');
      writeFileSync(file, 'SELECT 40 + 2 AS answer');
      expect((await hoop(['exec', 'sandbox', '-f', file])).stdout).toContain('42');
      expect((await hoop(['exec', 'sandbox'], { stdin: 'SELECT 6 * 7 AS answer' })).stdout).toContain('42');
    });

    it('exits 1 and prints PostgreSQL\'s error when the SQL fails', async () => {
      const out = await hoop(['exec', 'sandbox', '-i', 'SELECT * FROM missing_table']);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('ERROR:  relation "missing_table" does not exist');
    });

    it('exits 3 with who rejected and why', async () => {
      const sql = 'DELETE FROM users WHERE id = 3';
      const run = hoop(['exec', 'prod-db', '-i', sql]);
      const r = await pendingReview(t, sql);
      await t.api('PUT', `/api/reviews/${r.id}/reject`, { key: dana.apiKey, body: { reason: 'use a soft delete' } });
      const out = await run;
      expect(out.code).toBe(3);
      expect(out.stderr).toContain('Rejected by dana@example.com (dba-team): use a soft delete');
      expect(await target.query('SELECT count(*)::int AS n FROM users WHERE id = 3')).toEqual([{ n: 1 }]);
    });

    it('exits 4 and says to resubmit when the request expires', async () => {
      const key = (await short.createUser('late@example.com', ['developers'])).apiKey;
      const out = await hoop(['exec', 'prod-db', '-i', 'UPDATE users SET status = status WHERE id = 2'], { url: short.baseUrl, key });
      expect(out.code).toBe(4);
      expect(out.stderr).toMatch(/expired .* not executed\. Resubmit it\./);
    });

    it('--no-wait prints only the review id and exits 0', async () => {
      const out = await hoop(['exec', 'prod-db', '-i', 'SELECT 1', '--no-wait']);
      expect(out.code).toBe(0);
      const id = out.stdout.trim();
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(out.stderr).toContain(`hoop get review ${id}`);
      expect((await t.api('GET', `/api/reviews/${id}`)).body.status).toBe('PENDING');
    });

    it('-o json prints the final review as JSON', async () => {
      const out = await hoop(['exec', 'sandbox', '-i', 'SELECT 1 AS one', '-o', 'json']);
      expect(out.code).toBe(0);
      const review = JSON.parse(out.stdout);
      expect(review).toMatchObject({ status: 'EXECUTED', commandTags: ['SELECT 1'], connection: 'sandbox' });
    });

    it('leaves the request pending on Ctrl-C and says how to check it', async () => {
      const sql = 'SELECT 99 AS interrupted';
      let pid = 0;
      let said = '';
      const run = hoop(['exec', 'prod-db', '-i', sql], { onSpawn: (p) => (pid = p), onStderr: (text) => (said = text) });
      const r = await pendingReview(t, sql);
      // Interrupt once the CLI holds the review (an earlier Ctrl-C is the "interrupted while submitting" case).
      await eventually(async () => said.includes(`review ${r.id} is pending; waiting on dba-team`), 10_000, 'the waiting line');
      process.kill(pid, 'SIGINT');
      const out = await run;
      expect(out.code).toBe(130);
      expect(out.stderr).toContain(`hoop get review ${r.id}`);
      expect((await t.api('GET', `/api/reviews/${r.id}`)).body.status).toBe('PENDING');
    });

    it('shows the spinner only on a terminal', async () => {
      const sql = 'SELECT 123 AS on_a_tty';
      const env = { PATH: process.env.PATH ?? '', HOME: home, HOOP_API_URL: t.baseUrl, HOOP_API_KEY: alice.apiKey, TERM: 'xterm' };
      const command = `${process.execPath} ${BIN} exec prod-db -i '${sql}'`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      children.add(child);
      child.on('exit', () => children.delete(child));
      let screen = '';
      child.stdout.on('data', (d) => (screen += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      const r = await pendingReview(t, sql);
      await eventually(async () => screen.includes('Waiting for approval'), 10_000, 'the spinner');
      expect(screen).toContain(r.id);
      expect(screen).toContain('dba-team');
      await t.api('PUT', `/api/reviews/${r.id}/approve`, { key: dana.apiKey });
      expect(await closed).toBe(0);
      expect(screen).toContain('(1 row)');
      expect(screen.length).toBeLessThan(20_000); // a spinner, not a flood of escape codes
    });
  });

  describe.sequential('login and configuration', () => {
    it('stores URL and key in a 0600 file that later commands use; the environment overrides it', async () => {
      // A home of its own: the CLI of a test running beside this one reads the config file of the shared home.
      const env = { HOME: mkdtempSync(path.join(tmpdir(), 'hoop-cli-')) };
      const login = await hoop(['login', '--api-url', t.baseUrl + '/', '--api-key', alice.apiKey], { url: '', key: '', env });
      expect(login.code).toBe(0);
      expect(login.stdout).toContain('as alice@example.com');
      const file = path.join(env.HOME, '.hoop', 'config.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ apiUrl: t.baseUrl, apiKey: alice.apiKey });

      const fromFile = await hoop(['admin', 'get', 'connections'], { url: '', key: '', env });
      expect(fromFile.code).toBe(0);
      expect(fromFile.stdout).toContain('prod-db');
      const overridden = await hoop(['admin', 'get', 'connections'], { url: '', key: 'hoop_not_a_key', env });
      expect(overridden.code).toBe(5);
      expect(overridden.stderr).toContain('Authentication failed');
    });

    it('exits 5 when the gateway cannot be reached, and refuses a login with a bad key', async () => {
      const down = await hoop(['admin', 'get', 'connections'], { url: 'http://127.0.0.1:9' });
      expect(down.code).toBe(5);
      expect(down.stderr).toContain('Cannot reach the gateway at http://127.0.0.1:9');
      const bad = await hoop(['login', '--api-url', t.baseUrl, '--api-key', 'wrong'], { url: '', key: '', env: { HOME: mkdtempSync(path.join(tmpdir(), 'hoop-cli-')) } });
      expect(bad.code).toBe(5);
    });
  });

  describe.sequential('admin and reviewer commands', () => {
    it('creates a connection from the psql command line of the seeds and runs on it', async () => {
      const u = new URL(target.url);
      const db = u.pathname.slice(1);
      const seeds = (plugin: string) => ['admin', 'create', 'connection', 'from-psql', '--agent', 'default', '--reviewers', 'dba-team,security', '--plugin', plugin, '--', 'psql', '-h', '127.0.0.1', '-p', '5432', '-U', 'postgres', db];
      // This gateway runs without Slack: the seeds' --plugin slack would announce requests nowhere.
      const noSlack = await hoop(seeds('slack'), { key: ADMIN_KEY });
      expect(noSlack.code).toBe(2);
      expect(noSlack.stderr).toContain('set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET');
      const out = await hoop(seeds('webhooks'), { key: ADMIN_KEY });
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain('Connection from-psql created; reviewers: dba-team, security');
      expect(out.stdout).toContain('plugins: webhooks.');
      const plugins = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--plugin', 'webhooks,WEBHOOKS', '--plugin', 'webhooks'], { key: ADMIN_KEY });
      expect(plugins.code, plugins.stderr).toBe(0);
      expect(plugins.stdout).toContain('plugins: webhooks.');
      const listed = await hoop(['admin', 'get', 'connections'], { key: ADMIN_KEY });
      expect(listed.stdout).toMatch(/from-psql .* webhooks /);
      // The Workflows URL is a secret: read from stdin (out of shell history), removed with none.
      const viaStdin = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--teams-webhook-url', '-'], { key: ADMIN_KEY, stdin: 'https://teams.example.com/workflows/x?sig=SECRET\n' });
      expect(viaStdin.code, viaStdin.stderr).toBe(0);
      expect(viaStdin.stdout + viaStdin.stderr).not.toContain('SECRET');
      const withUrl = () => t.api('GET', '/api/connections').then((r) => r.body.connections.find((c: any) => c.name === 'from-psql'));
      expect((await withUrl()).teamsWebhookUrlSet).toBe(true);
      const nothing = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--teams-webhook-url', '-'], { key: ADMIN_KEY, stdin: '' });
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toContain('read nothing from stdin');
      expect((await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--teams-webhook-url', 'none'], { key: ADMIN_KEY })).code).toBe(0);
      expect((await withUrl()).teamsWebhookUrlSet).toBe(false);
      // This gateway has no Teams URL: a connection listing teams would be announced nowhere there.
      const noTeams = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--plugin', 'teams'], { key: ADMIN_KEY });
      expect(noTeams.code).toBe(2);
      expect(noTeams.stderr).toContain('set TEAMS_WEBHOOK_URL');
      const unknownPlugin = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--plugin', 'email'], { key: ADMIN_KEY });
      expect(unknownPlugin.code).toBe(2);
      expect(unknownPlugin.stderr).toContain('use slack, teams or webhooks');
      const again = await hoop(['admin', 'create', 'connection', 'from-psql', '--', 'psql', '-h', '127.0.0.1'], { key: ADMIN_KEY });
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('--overwrite');
      const over = await hoop(['admin', 'create', 'connection', 'from-psql', '--overwrite', '--reviewers', ''], { key: ADMIN_KEY });
      expect(over.code).toBe(0);
      expect(over.stdout).toContain('reviewers: none');
      const run = await hoop(['exec', 'from-psql', '-i', 'SELECT count(*) AS n FROM users']);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('(1 row)');
      const policy = await hoop(
        ['admin', 'create', 'connection', 'guarded', '--reviewers', 'dba-team', '--review-mode', 'all', '--guardrail', 'deny:DROP TABLE', '--guardrail', 'no-unbounded-write|Always use WHERE.', '--guardrail', 'regex:pg_sleep', '--mask-column', 'email', '--mask-detector', 'credit_card', '--allowed-groups', 'developers', '-o', 'json', '--', 'psql', '-h', '127.0.0.1', '-U', 'postgres', db],
        { key: ADMIN_KEY },
      );
      expect(policy.code).toBe(0);
      expect(JSON.parse(policy.stdout)).toMatchObject({
        reviewMode: 'all',
        guardrails: [{ type: 'deny-command', command: 'DROP TABLE' }, { type: 'deny-unbounded-write', message: 'Always use WHERE.' }, { type: 'regex', pattern: 'pg_sleep' }],
        maskColumns: ['email'],
        maskDetectors: ['credit_card'],
        allowedGroups: ['developers'],
      });
      const blocked = await hoop(['exec', 'guarded', '-i', 'DELETE FROM users']);
      expect(blocked.code).toBe(2);
      expect(blocked.stderr).toContain('Always use WHERE.');
      const badRule = await hoop(['admin', 'create', 'connection', 'x', '--guardrail', 'forbid:everything', '--', 'psql', '-h', 'db'], { key: ADMIN_KEY });
      expect(badRule.code).toBe(2);
      expect(badRule.stderr).toContain("use 'deny:DROP TABLE'");
      const badFlag = await hoop(['admin', 'create', 'connection', 'x', '--', 'psql', '-h', 'db', '-W'], { key: ADMIN_KEY });
      expect(badFlag.code).toBe(2);
      expect(badFlag.stderr).toContain('Unknown psql flag -W');
    });

    it('creates a user and prints the key once; lists users, connections and reviews as tables', async () => {
      const out = await hoop(['admin', 'create', 'user', 'carol@example.com', '--groups', 'dba-team,security'], { key: ADMIN_KEY });
      expect(out.code).toBe(0);
      const key = /API key \(shown once, store it now\): (\S+)/.exec(out.stdout)?.[1];
      expect(key).toMatch(/^hoop_/);
      expect((await hoop(['admin', 'get', 'connections'], { key: key! })).code).toBe(0);

      const users = await hoop(['admin', 'get', 'users'], { key: ADMIN_KEY });
      expect(users.stdout.split('\n')[0]).toMatch(/^EMAIL\s+NAME\s+ADMIN\s+ACTIVE\s+GROUPS\s+SLACK$/);
      expect(users.stdout).toMatch(/carol@example\.com\s+-\s+no\s+yes\s+dba-team,security/);
      const reviews = await hoop(['admin', 'get', 'reviews', '--status', 'pending'], { key: ADMIN_KEY });
      expect(reviews.stdout.split('\n')[0]).toMatch(/^ID\s+CONNECTION\s+REQUESTER\s+STATUS/);
      expect(reviews.stdout).toContain('PENDING');
      const asJson = await hoop(['admin', 'get', 'reviews', '--status', 'pending', '-o', 'json'], { key: ADMIN_KEY });
      expect(JSON.parse(asJson.stdout).every((r: any) => r.status === 'PENDING')).toBe(true);
      expect((await hoop(['admin', 'get', 'reviews', '--status', 'bogus'], { key: ADMIN_KEY })).code).toBe(2);
    });

    it('gets, approves and rejects reviews from the terminal', async () => {
      const a = (await hoop(['exec', 'prod-db', '-i', 'SELECT 5 AS five', '--no-wait'])).stdout.trim();
      const b = (await hoop(['exec', 'prod-db', '-i', 'SELECT 6 AS six', '--no-wait'])).stdout.trim();
      const shown = await hoop(['get', 'review', a]);
      expect(shown.stdout).toContain('Status:      PENDING');
      expect(shown.stdout).toContain('dba-team: PENDING');
      const self = await hoop(['review', 'approve', a]);
      expect(self.code).toBe(2);
      expect(self.stderr).toContain('own request');
      expect((await hoop(['review', 'approve', a], { key: dana.apiKey })).stdout).toContain('Approved.');
      await eventually(async () => (await t.api('GET', `/api/reviews/${a}`)).body.status === 'EXECUTED');
      expect((await hoop(['get', 'review', a])).stdout).toContain('Output:\n five\n------\n    5\n(1 row)');
      const history = (await hoop(['get', 'review', a, '--history'])).stdout;
      expect(history).toMatch(/History:\nTIME\s+ACTION\s+ACTOR\s+SOURCE\s+IP\n/);
      // Votes from the CLI are audited with the CLI as their source; the refused self-approval too.
      expect(history).toMatch(/approved\s+dana@example\.com\s+cli\s+/);
      expect(history).toMatch(/vote_denied\s+alice@example\.com\s+cli\s+/);
      expect(history).toMatch(/executed\s+system\s+system/);
      expect((await hoop(['review', 'reject', b, '--reason', 'dup'], { key: dana.apiKey })).stdout).toContain('will not run');
      expect((await t.api('GET', `/api/reviews/${b}`)).body).toMatchObject({ status: 'REJECTED', rejectReason: 'dup' });
      expect((await hoop(['get', 'review', '00000000-0000-0000-0000-000000000000'])).code).toBe(2);
    });
  });

  describe.sequential('hoop admin get reviews and pages', () => {
    it('follows the cursor up to --limit (50 by default), newest first, each review once', async () => {
      const conn = await short.gateway.db.connection.findUniqueOrThrow({ where: { name: 'prod-db' } });
      const root = await short.gateway.db.user.findUniqueOrThrow({ where: { email: 'root@example.com' } });
      const others = await short.gateway.db.review.count(); // newer ones, from the tests above
      const base = Date.parse('2021-01-01T00:00:00.000Z');
      await short.gateway.db.review.createMany({
        data: Array.from({ length: 260 }, (_, i) => ({
          connectionId: conn.id, requesterId: root.id, input: `SELECT ${i} -- page`, status: 'EXPIRED' as const,
          createdAt: new Date(base + i * 1000), expiresAt: new Date(base), commandTags: [],
        })),
      });
      const run = (args: string[]) => hoop(['admin', 'get', 'reviews', '-o', 'json', ...args], { key: ADMIN_KEY, url: short.baseUrl });
      const many = JSON.parse((await run(['--limit', '230'])).stdout);
      expect(many).toHaveLength(230);
      expect(new Set(many.map((r: any) => r.id)).size).toBe(230);
      const paged = many.slice(others).map((r: any) => r.input);
      expect(paged).toEqual(Array.from({ length: 230 - others }, (_, i) => `SELECT ${259 - i} -- page`));
      expect(JSON.parse((await run([])).stdout)).toHaveLength(50);
      expect(JSON.parse((await run(['--limit', '1000'])).stdout)).toHaveLength(260 + others);
      const table = await hoop(['admin', 'get', 'reviews', '--limit', '3'], { key: ADMIN_KEY, url: short.baseUrl });
      expect(table.stdout.trim().split('\n')).toHaveLength(4);
      const bad = await hoop(['admin', 'get', 'reviews', '--limit', '0'], { key: ADMIN_KEY, url: short.baseUrl });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('"0" is not a positive whole number');
    });
  });
});

describe.concurrent('hoop sql classify', () => {
  it('prints one JSON line per statement without a gateway', async () => {
    const out = await hoop(['sql', 'classify'], { url: '', key: '', stdin: "SELECT 'a\\'; DROP TABLE users; --'" });
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { index: 0, kind: 'read', statement: "SELECT 'a\\'", tables: [], warnings: [] },
      { index: 1, kind: 'ddl', statement: 'DROP TABLE users', tables: ['users'], warnings: [] },
    ]);
  });

  it('reads a query log as JSON lines and prints the strictest kind per line', async () => {
    const file = path.join(home, 'log.jsonl');
    writeFileSync(file, ['"SELECT 1"', '"SELECT 1; UPDATE t SET a = 1 WHERE id = 2"', '"SELEC 1"', ''].join('\n'));
    const out = await hoop(['sql', 'classify', '--input-format', 'jsonl', '-f', file], { url: '', key: '' });
    const lines = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.line, l.kind, l.statements.length])).toEqual([[1, 'read', 1], [2, 'write', 2], [3, 'unknown', 1]]);
    const bad = await hoop(['sql', 'classify', '--input-format', 'jsonl'], { url: '', key: '', stdin: 'SELECT 1\n' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('line 1: not a JSON string');
  });

  it('classifies MySQL with --dialect mysql', async () => {
    const out = await hoop(['sql', 'classify', '--dialect', 'mysql'], { url: '', key: '', stdin: 'DELETE FROM users' });
    expect(JSON.parse(out.stdout)).toMatchObject({ kind: 'write', tables: ['users'], warnings: ['DELETE without WHERE changes every row of users'] });
  });
});

describe.concurrent('usage errors', () => {
  it('exit 2 with a message for missing SQL, an unknown flag and an unknown connection', async () => {
    const none = await hoop(['exec', 'prod-db']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No SQL given');
    const flag = await hoop(['exec', 'prod-db', '-i', 'SELECT 1', '--frobnicate']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("unknown option '--frobnicate'");
    const conn = await hoop(['exec', 'nope', '-i', 'SELECT 1']);
    expect(conn.code).toBe(2);
    expect(conn.stderr).toContain('There is no connection named "nope"');
  });

  it('every command has --help with its flags', async () => {
    for (const args of [['--help'], ['exec', '--help'], ['admin', 'create', 'connection', '--help'], ['review', 'reject', '--help']]) {
      const out = await hoop(args);
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('Usage: hoop');
    }
    expect((await hoop(['admin', 'create', 'connection', '--help'])).stdout).toContain('--reviewers <groups>');
  });
});

describe.concurrent('text from the gateway on a terminal', () => {
  it('spells out control characters in a command and reason, and keeps -o json valid', async () => {
    const input = 'SELECT 1 /* \u001b[2K\r\u009b2J */ AS one';
    const reason = 'OPS-1 \u202eelbat pord';
    const res = await t.api('POST', '/api/connections/prod-db/exec', { key: alice.apiKey, body: { input, reason } });
    expect(res.status).toBe(201);
    const shown = await hoop(['get', 'review', res.body.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('SELECT 1 /* \\x1b[2K\\r\\x9b2J */ AS one');
    expect(shown.stdout).toContain('OPS-1 \\u202eelbat pord');
    expect(shown.stdout).not.toMatch(/[\u001b\r\u009b\u202e]/);
    const json = await hoop(['get', 'review', res.body.id, '-o', 'json']);
    expect(json.stdout).not.toMatch(/[\u001b\r\u009b\u202e]/);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: res.body.id, input, reason });
  });
});

describe.concurrent('hoop exec and the gateway\'s limits', () => {
  it('waits out a 429 on its long-poll as Retry-After says, and ends with exit 5 on a refused submit', async () => {
    const tight = await startTestGateway({ slack: false, env: { RATE_LIMIT_SUBMITS: '2', LONG_POLLS_PER_KEY: '1' } });
    try {
      await tight.api('POST', '/api/connections', { body: { name: 'prod-db', url: target.url, reviewers: ['dba-team'], reviewMode: 'all' } });
      const erin = await tight.createUser('erin@example.com', ['developers']);
      const fay = await tight.createUser('fay@example.com', ['dba-team']);
      const opts = { url: tight.baseUrl, key: erin.apiKey };
      // Submit 1, and erin's only long-poll slot held by a wait on it for 4 s.
      const first = await tight.api('POST', '/api/connections/prod-db/exec', { key: erin.apiKey, body: { input: 'SELECT 1 AS held' } });
      const holding = fetch(`${tight.baseUrl}/api/reviews/${first.body.id}?wait=4`, { headers: { authorization: `Bearer ${erin.apiKey}` } });
      await new Promise((r) => setTimeout(r, 300));
      expect((await fetch(`${tight.baseUrl}/api/reviews/${first.body.id}?wait=1`, { headers: { authorization: `Bearer ${erin.apiKey}` } })).status).toBe(429);
      // Submit 2 through the CLI: its long-poll is refused (429) until the slot is free, then it waits on.
      const sql = 'SELECT 2 AS waited';
      const run = hoop(['exec', 'prod-db', '-i', sql], opts);
      const r = await pendingReview(tight, sql);
      expect((await holding).status).toBe(200);
      expect((await tight.api('PUT', `/api/reviews/${r.id}/approve`, { key: fay.apiKey })).status).toBe(200);
      const out = await run;
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('(1 row)');
      // Submit 3 is over the limit: the CLI says so and exits 5.
      const third = await hoop(['exec', 'prod-db', '-i', 'SELECT 3', '--no-wait'], opts);
      expect(third.code).toBe(5);
      expect(third.stderr).toContain('Too many requests from your account');
    } finally {
      await tight.stop();
    }
  }, 60_000);
});
