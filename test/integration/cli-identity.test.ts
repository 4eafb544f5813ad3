// The built `hoop` binary against a real gateway: API keys, user updates, and dual approval from
// the terminal.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDatabase } from '../helpers/databases.js';
import { ADMIN_KEY, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { runHoop } from '../helpers/hoop-cli.js';


let t: TestGateway;
let target: Awaited<ReturnType<typeof createTargetDatabase>>;
let home: string;
let alice: { id: string; apiKey: string };
let bo: { id: string; apiKey: string };
let sam: { id: string; apiKey: string };

const hoop = (args: string[], key = ADMIN_KEY) => runHoop(args, { apiUrl: t.baseUrl, key, home });

/** The key printed by `create user` / `create key`. */
const printedKey = (out: string) => /API key \(shown once, store it now\): (\S+)/.exec(out)?.[1];

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), 'hoop-cli-identity-'));
  target = await createTargetDatabase();
  t = await startTestGateway({ slack: false });
  alice = await t.createUser('alice@example.com', ['developers']);
  bo = await t.createUser('bo@example.com', ['dba-team', 'security']);
  sam = await t.createUser('sam@example.com', ['security']);
});

afterAll(async () => {
  await t?.stop();
  await target?.drop();
});

describe('hoop admin create key / get keys / revoke key', () => {
  it('creates a named key for an email in any case, prints it once, lists it and revokes it', async () => {
    await t.createUser('carol@example.com', ['dba-team']);
    const made = await hoop(['admin', 'create', 'key', 'Carol@Example.COM', '--name', 'laptop']);
    expect(made.code).toBe(0);
    const key = printedKey(made.stdout)!;
    expect(key).toMatch(/^hoop_/);
    const id = /API key (\S+) created for carol@example\.com \(laptop\)/.exec(made.stdout)?.[1];
    expect(made.stdout).toContain(`hoop admin revoke key ${id}`);

    const listed = await hoop(['admin', 'get', 'keys', 'CAROL@example.com']);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+PREFIX\s+NAME\s+USER\s+CREATED\s+LAST USED\s+REVOKED\s+BOOTSTRAP$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^${id}\\s+${key.slice(0, 9)}…\\s+laptop\\s+carol@example\\.com\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+-\\s+-\\s+no$`));
    expect(listed.stdout).not.toContain(key);

    // Using the key shows up in "last used".
    expect((await hoop(['admin', 'get', 'connections'], key)).code).toBe(0);
    const json = JSON.parse((await hoop(['admin', 'get', 'keys', 'carol@example.com', '-o', 'json'])).stdout);
    expect(json.find((k: any) => k.id === id)).toMatchObject({ name: 'laptop', revokedAt: null, bootstrap: false, user: 'carol@example.com' });
    expect(json.find((k: any) => k.id === id).lastUsedAt).not.toBeNull();
    expect(JSON.stringify(json)).not.toMatch(/hash/);

    const revoked = await hoop(['admin', 'revoke', 'key', id!]);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Key ${key.slice(0, 9)}… (${id}) of carol@example.com revoked`);
    const refused = await hoop(['admin', 'get', 'connections'], key);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('Authentication failed');
    expect(refused.stderr).toContain('revoked');
    const twice = await hoop(['admin', 'revoke', 'key', id!]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('already revoked');
    expect((await hoop(['admin', 'get', 'keys', 'carol@example.com'])).stdout).toMatch(new RegExp(`${id}.*\\d\\d:\\d\\d:\\d\\d\\s+no$`, 'm'));
  });

  it('does not fold a look-alike email onto another user (KELVIN SIGN is not k)', async () => {
    await t.createUser('kate@kiosk.example', ['developers']);
    for (const args of [['admin', 'get', 'keys', 'kate@\u212Aiosk.example'], ['admin', 'create', 'key', 'kate@\u212Aiosk.example']]) {
      const out = await hoop(args);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toContain('No user is "kate@\u212Aiosk.example"');
    }
    expect((await hoop(['admin', 'get', 'keys', 'KATE@kiosk.example'])).code).toBe(0);
  });

  it('lets a user manage their own keys, and only those', async () => {
    const mine = await hoop(['admin', 'get', 'keys'], alice.apiKey);
    expect(mine.code).toBe(0);
    expect(mine.stdout).toContain('alice@example.com');
    const made = await hoop(['admin', 'create', 'key', 'ALICE@example.com', '-o', 'json'], alice.apiKey);
    expect(made.code).toBe(0);
    const created = JSON.parse(made.stdout);
    expect(created).toMatchObject({ key: { user: 'alice@example.com', name: null } });
    const others = await hoop(['admin', 'get', 'keys', 'bo@example.com'], alice.apiKey);
    expect(others.code).toBe(2);
    expect(others.stderr).toContain('only manage your own API keys');
    const boKey = JSON.parse((await hoop(['admin', 'get', 'keys', 'bo@example.com', '-o', 'json'])).stdout)[0].id;
    const steal = await hoop(['admin', 'revoke', 'key', boKey], alice.apiKey);
    expect(steal.code).toBe(2);
    expect(steal.stderr).toContain('No API key has the id');
    expect((await hoop(['admin', 'revoke', 'key', created.key.id, '-o', 'json'], alice.apiKey)).code).toBe(0);
    expect((await hoop(['admin', 'get', 'keys'], created.apiKey)).code).toBe(5);
    expect((await hoop(['admin', 'get', 'keys'], alice.apiKey)).code).toBe(0);
  });
});

describe('hoop admin update user', () => {
  it('changes groups, admin, name and activation by email in any case; get users shows them', async () => {
    const dan = await t.createUser('dan@example.com', ['developers']);
    const out = await hoop(['admin', 'update', 'user', 'Dan@Example.com', '--groups', 'dba-team,security', '--admin', '--name', 'Dan']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('Updated dan@example.com (Dan): groups dba-team, security; admin yes; active.\n');
    const off = await hoop(['admin', 'update', 'user', 'DAN@example.com', '--deactivate', '--no-admin', '--groups', '', '-o', 'json']);
    expect(JSON.parse(off.stdout)).toMatchObject({ email: 'dan@example.com', groups: [], admin: false, active: false });
    expect((await hoop(['admin', 'get', 'users'])).stdout).toMatch(/dan@example\.com\s+Dan\s+no\s+no\s+-/);
    const locked = await hoop(['admin', 'get', 'connections'], dan.apiKey);
    expect(locked.code).toBe(5);
    expect(locked.stderr).toContain('dan@example.com is deactivated');
    expect(locked.stderr).toContain('--activate');
    expect((await hoop(['admin', 'update', 'user', 'dan@example.com', '--activate', '--name', ''])).stdout).toContain('Updated dan@example.com: groups none; admin no; active.');
    expect((await hoop(['admin', 'get', 'connections'], dan.apiKey)).code).toBe(0);
  });

  it('says what to do on every kind of mistake, and changes nothing', async () => {
    const before = await t.gateway.db.user.findUniqueOrThrow({ where: { id: sam.id } });
    const cases: [string[], string, number][] = [
      [['admin', 'update', 'user', 'sam@example.com'], 'Nothing to change', 2],
      [['admin', 'update', 'user', 'sam@example.com', '--activate', '--deactivate'], 'not both', 2],
      [['admin', 'update', 'user', 'sam@example.com', '--groups', 'has space'], 'not a valid group name', 2],
      [['admin', 'update', 'user', 'nobody@example.com', '--admin'], 'No user is "nobody@example.com"', 2],
      [['admin', 'update', 'user', 'sam@example.com', '--frobnicate'], "unknown option '--frobnicate'", 2],
      [['admin', 'update', 'user', 'root@example.com', '--no-admin'], 'ADMIN_EMAIL', 2],
    ];
    for (const [args, message, code] of cases) {
      const out = await hoop(args);
      expect(out.code, args.join(' ')).toBe(code);
      expect(out.stderr).toContain(message);
    }
    const notAdmin = await hoop(['admin', 'update', 'user', 'sam@example.com', '--admin'], sam.apiKey);
    expect(notAdmin.code).toBe(2);
    expect(notAdmin.stderr).toContain('Only an admin');
    expect(await t.gateway.db.user.findUniqueOrThrow({ where: { id: sam.id } })).toEqual(before);
  });
});

describe('dual approval from the terminal', () => {
  beforeAll(async () => {
    const u = new URL(target.url);
    const psql = ['--', 'psql', '-h', u.hostname, '-p', u.port || '5432', '-U', 'postgres', u.pathname.slice(1)];
    expect((await hoop(['admin', 'create', 'connection', 'dual', '--reviewers', 'dba-team,security', '--review-mode', 'all', ...psql])).code).toBe(0);
    expect((await hoop(['admin', 'create', 'connection', 'dual-legacy', '--reviewers', 'dba-team,security', '--review-mode', 'all', '--no-distinct-approvers', ...psql])).code).toBe(0);
  });

  it('shows the option in get connections and changes it with --overwrite', async () => {
    const table = (await hoop(['admin', 'get', 'connections'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+REVIEWERS\s+DISTINCT APPROVERS\s+PLUGINS\s+SLACK CHANNEL$/);
    expect(table).toMatch(/^dual\s+postgres\s+dba-team,security\s+yes\s+\(all\)\s+-$/m);
    expect(table).toMatch(/^dual-legacy\s+postgres\s+dba-team,security\s+no\s+\(all\)\s+-$/m);
    const json = JSON.parse((await hoop(['admin', 'get', 'connections', '-o', 'json'])).stdout);
    expect(json.map((c: any) => [c.name, c.distinctApprovers])).toEqual([['dual', true], ['dual-legacy', false]]);
    await hoop(['admin', 'create', 'connection', 'dual-legacy', '--overwrite', '--distinct-approvers']);
    expect((await hoop(['admin', 'get', 'connections'])).stdout).toMatch(/^dual-legacy\s+\S+\s+\S+\s+yes/m);
    await hoop(['admin', 'create', 'connection', 'dual-legacy', '--overwrite', '--no-distinct-approvers']);
    // --overwrite without the flag keeps what was set.
    await hoop(['admin', 'create', 'connection', 'dual-legacy', '--overwrite', '--reviewers', 'dba-team,security']);
    expect((await hoop(['admin', 'get', 'connections'])).stdout).toMatch(/^dual-legacy\s+\S+\s+\S+\s+no/m);
  });

  it('asks a reviewer in both groups for --group, and refuses their approval of the second group', async () => {
    const id = (await hoop(['exec', 'dual', '-i', 'SELECT 41 AS dual_cli', '--no-wait'], alice.apiKey)).stdout.trim();
    const unnamed = await hoop(['review', 'approve', id], bo.apiKey);
    expect(unnamed.code).toBe(2);
    expect(unnamed.stderr).toContain('several groups that still have to approve (dba-team, security)');
    expect(unnamed.stderr).toContain('--group dba-team');
    const first = await hoop(['review', 'approve', id, '--group', 'dba-team'], bo.apiKey);
    expect(first.stdout).toContain(`Approved. Review ${id} is PENDING (1 of 2 groups).`);
    const second = await hoop(['review', 'approve', id, '--group', 'security'], bo.apiKey);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain('already approved this request for "dba-team"');
    expect((await hoop(['review', 'approve', id], sam.apiKey)).stdout).toContain('(2 of 2 groups)');
    await eventually(async () => (await t.api('GET', `/api/reviews/${id}`)).body.status === 'EXECUTED');
  });

  it('lets one person approve both groups at once with --no-distinct-approvers', async () => {
    const id = (await hoop(['exec', 'dual-legacy', '-i', 'SELECT 42 AS legacy_cli', '--no-wait'], alice.apiKey)).stdout.trim();
    const out = await hoop(['review', 'approve', id], bo.apiKey);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/is (APPROVED|RUNNING|EXECUTED) \(2 of 2 groups\)/);
  });
});
