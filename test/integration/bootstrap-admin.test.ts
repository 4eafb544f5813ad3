// ADMIN_EMAIL / ADMIN_API_KEY across restarts: real gateways started one after the other (and
// several at once) on one database, each with its start-up log captured.
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createStateDatabase, REDIS_URL, uniqueName } from '../helpers/databases.js';
import { deleteQueues } from '../helpers/gateway.js';

const KEY1 = 'hoop_bootstrap_key_one_0123456789';
const KEY2 = 'hoop_bootstrap_key_two_0123456789';

interface Booted {
  gateway: Gateway;
  logs: { msg: string; level: number; action?: string }[];
  api(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; body: any }>;
}

let state: { url: string; drop: () => Promise<void> };
const prefix = uniqueName('tb');
const running = new Set<Gateway>();

/** A gateway (HTTP only) on the shared database with ADMIN_EMAIL/ADMIN_API_KEY as given. */
async function boot(env: { ADMIN_EMAIL?: string; ADMIN_API_KEY?: string }): Promise<Booted> {
  const logs: Booted['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const config = loadConfig({ DATABASE_URL: state.url, REDIS_URL, PORT: '0', HOST: '127.0.0.1', QUEUE_PREFIX: prefix, ADMIN_EMAIL: 'root@example.com', ...env });
  const gateway = createGateway({ config, log, http: true, workers: false });
  running.add(gateway);
  try {
    await gateway.start();
  } catch (error) {
    running.delete(gateway);
    await gateway.stop().catch(() => {});
    throw error;
  }
  const api: Booted['api'] = async (method, path, key, body) => {
    const res = await fetch(`http://127.0.0.1:${gateway.port}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return { gateway, logs, api };
}

async function stop(...gws: Booted[]): Promise<void> {
  for (const g of gws) {
    running.delete(g.gateway);
    await g.gateway.stop();
  }
}

const whoAmI = async (gw: Booted, key: string) => {
  const res = await gw.api('GET', '/api/me', key);
  return res.status === 200 ? `${res.body.user.email}${res.body.user.admin ? ' (admin)' : ''}` : res.status;
};
const audits = (gw: Booted, action: string) => gw.gateway.db.auditEvent.findMany({ where: { action }, orderBy: { id: 'asc' } });
const admins = async (gw: Booted) => (await gw.gateway.db.user.findMany({ where: { isAdmin: true }, orderBy: { email: 'asc' } })).map((u) => u.email);

beforeEach(async () => {
  state = await createStateDatabase();
});

afterEach(async () => {
  for (const g of running) await g.stop().catch(() => {});
  running.clear();
  await state.drop();
});

afterAll(async () => {
  await deleteQueues(prefix);
});

describe('rotating ADMIN_API_KEY', () => {
  it('makes the old key fail with 401 and the new one work as admin, audited and logged once', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    expect(await whoAmI(first, KEY1)).toBe('root@example.com (admin)');
    await stop(first);

    const second = await boot({ ADMIN_API_KEY: KEY2 });
    expect(await whoAmI(second, KEY1)).toBe(401);
    expect(await whoAmI(second, KEY2)).toBe('root@example.com (admin)');
    const revoked = await audits(second, 'api_key.revoked');
    expect(revoked.map((e: any) => [e.actor, e.detail.prefix, e.detail.reason])).toEqual([['system', KEY1.slice(0, 9), 'admin_api_key_changed']]);
    expect(second.logs.some((l) => l.action === 'api_key.revoked' && l.msg.includes('ADMIN_API_KEY changed'))).toBe(true);
    expect(second.logs.some((l) => l.action === 'api_key.created')).toBe(true);
    const keys = (await second.api('GET', '/api/me/keys', KEY2)).body.keys;
    expect(keys.map((k: any) => [k.name, k.bootstrap, k.revokedAt === null])).toEqual([['ADMIN_API_KEY', true, true], ['ADMIN_API_KEY', true, false]]);
    await stop(second);

    // A restart with the same key changes nothing and writes nothing.
    const third = await boot({ ADMIN_API_KEY: KEY2 });
    expect(await whoAmI(third, KEY2)).toBe('root@example.com (admin)');
    expect(third.logs.filter((l) => l.action)).toEqual([]);
    expect(await audits(third, 'api_key.revoked')).toHaveLength(1);
    // Going back to a retired key does not bring it back: it was revoked for a reason.
    await stop(third);
    const back = await boot({ ADMIN_API_KEY: KEY1 });
    expect(await whoAmI(back, KEY1)).toBe(401);
    expect(back.logs.some((l) => l.level === 40 && l.msg.includes('stays revoked'))).toBe(true);
  });

  it('keeps a bootstrap key revoked through the API revoked after a restart', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    const deputy = (await first.api('POST', '/api/users', KEY1, { email: 'deputy@example.com', admin: true })).body.apiKey;
    const bootstrapKey = (await first.api('GET', '/api/users/root@example.com/keys', deputy)).body.keys.find((k: any) => k.bootstrap);
    expect((await first.api('DELETE', `/api/keys/${bootstrapKey.id}`, deputy)).status).toBe(200);
    expect(await whoAmI(first, KEY1)).toBe(401);
    await stop(first);
    const again = await boot({ ADMIN_API_KEY: KEY1 });
    expect(await whoAmI(again, KEY1)).toBe(401);
    expect(await whoAmI(again, deputy)).toBe('deputy@example.com (admin)');
  });

  it('refuses to start when ADMIN_API_KEY is somebody\'s personal key', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    const alice = (await first.api('POST', '/api/users', KEY1, { email: 'alice@example.com' })).body.apiKey;
    await stop(first);
    await expect(boot({ ADMIN_API_KEY: alice })).rejects.toThrow(/ADMIN_API_KEY is already the personal API key .* of alice@example\.com; set ADMIN_API_KEY to a new random secret/);
  });
});

describe('changing ADMIN_EMAIL', () => {
  it('takes admin away from the previous bootstrap admin instead of adding a second one', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    const rootOwn = (await first.api('POST', '/api/users/root@example.com/keys', KEY1, { name: 'laptop' })).body.apiKey;
    await stop(first);

    const second = await boot({ ADMIN_API_KEY: KEY1, ADMIN_EMAIL: 'Boss@Example.COM' });
    expect(await admins(second)).toEqual(['boss@example.com']);
    expect(await whoAmI(second, KEY1)).toBe('boss@example.com (admin)');
    // root keeps their own key and their history, as an ordinary user.
    expect(await whoAmI(second, rootOwn)).toBe('root@example.com');
    expect((await second.api('POST', '/api/users', rootOwn, { email: 'x@example.com' })).status).toBe(403);
    expect((await audits(second, 'user.bootstrap_admin_removed')).map((e: any) => e.detail)).toEqual([{ email: 'root@example.com', adminEmail: 'boss@example.com' }]);
    expect((await audits(second, 'api_key.reassigned')).map((e: any) => [e.detail.from, e.detail.to])).toEqual([['root@example.com', 'boss@example.com']]);
    expect(second.logs.some((l) => l.msg.includes('root@example.com is no longer admin'))).toBe(true);
    await stop(second);

    // A new email and a new key at once: the key and the admin move together.
    const third = await boot({ ADMIN_API_KEY: KEY2, ADMIN_EMAIL: 'chief@example.com' });
    expect(await admins(third)).toEqual(['chief@example.com']);
    expect(await whoAmI(third, KEY1)).toBe(401);
    expect(await whoAmI(third, KEY2)).toBe('chief@example.com (admin)');
    const users = await third.gateway.db.user.findMany({ where: { bootstrap: true } });
    expect(users.map((u) => u.email)).toEqual(['chief@example.com']);
  });

  it('leaves alone a previous bootstrap admin whom an admin has since made admin explicitly', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    const made = await first.api('PATCH', '/api/users/root@example.com', KEY1, { admin: true });
    expect(made.body.user).toMatchObject({ admin: true, bootstrap: false });
    const rootOwn = (await first.api('POST', '/api/users/root@example.com/keys', KEY1, {})).body.apiKey;
    await stop(first);
    const second = await boot({ ADMIN_API_KEY: KEY1, ADMIN_EMAIL: 'boss@example.com' });
    expect(await admins(second)).toEqual(['boss@example.com', 'root@example.com']);
    expect(await whoAmI(second, rootOwn)).toBe('root@example.com (admin)');
    expect(await audits(second, 'user.bootstrap_admin_removed')).toEqual([]);
  });

  it('names the same person in any case', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1, ADMIN_EMAIL: ' Root@Example.COM ' });
    expect(await whoAmI(first, KEY1)).toBe('root@example.com (admin)');
    await stop(first);
    for (const email of ['root@example.com', 'ROOT@EXAMPLE.COM']) {
      const again = await boot({ ADMIN_API_KEY: KEY1, ADMIN_EMAIL: email });
      expect(again.logs.filter((l) => l.action)).toEqual([]);
      await stop(again);
    }
    const check = await boot({ ADMIN_API_KEY: KEY1 });
    expect((await check.gateway.db.user.findMany()).map((u) => u.email)).toEqual(['root@example.com']);
    expect(await audits(check, 'user.bootstrap_admin_removed')).toEqual([]);
  });
});

describe('unsetting ADMIN_API_KEY', () => {
  it('revokes every bootstrap key and leaves the admin\'s own keys working', async () => {
    const first = await boot({ ADMIN_API_KEY: KEY1 });
    const rootOwn = (await first.api('POST', '/api/users/root@example.com/keys', KEY1, { name: 'laptop' })).body.apiKey;
    await stop(first);
    const second = await boot({ ADMIN_API_KEY: KEY2 });
    await stop(second);
    // Two bootstrap keys were ever configured; one is still valid until the key is unset.
    const third = await boot({ ADMIN_API_KEY: '' });
    expect(await whoAmI(third, KEY1)).toBe(401);
    expect(await whoAmI(third, KEY2)).toBe(401);
    expect(await whoAmI(third, rootOwn)).toBe('root@example.com (admin)');
    const revoked = await audits(third, 'api_key.revoked');
    expect(revoked.map((e: any) => [e.detail.prefix, e.detail.reason])).toEqual([
      [KEY1.slice(0, 9), 'admin_api_key_changed'],
      [KEY2.slice(0, 9), 'admin_api_key_unset'],
    ]);
    expect(await third.gateway.db.apiKey.count({ where: { bootstrap: true, revokedAt: null } })).toBe(0);
  });

  it('warns when that leaves no active admin', async () => {
    await stop(await boot({ ADMIN_API_KEY: KEY1 }));
    const moved = await boot({ ADMIN_EMAIL: 'someone-else@example.com' });
    expect(await admins(moved)).toEqual([]);
    expect(moved.logs.some((l) => l.level === 40 && l.msg.includes('no active admin is left'))).toBe(true);
  });
});

describe('several replicas starting at once', () => {
  it('make one admin and one key on a fresh database, and revoke a rotated key once', async () => {
    const three = await Promise.all([boot({ ADMIN_API_KEY: KEY1 }), boot({ ADMIN_API_KEY: KEY1 }), boot({ ADMIN_API_KEY: KEY1 })]);
    for (const gw of three) expect(await whoAmI(gw, KEY1)).toBe('root@example.com (admin)');
    const db = three[0].gateway.db;
    expect(await db.user.count()).toBe(1);
    expect(await db.apiKey.count()).toBe(1);
    expect(await audits(three[0], 'user.bootstrap_admin')).toHaveLength(1);
    expect(await audits(three[0], 'api_key.created')).toHaveLength(1);
    await stop(...three);

    const rotated = await Promise.all([boot({ ADMIN_API_KEY: KEY2, ADMIN_EMAIL: 'boss@example.com' }), boot({ ADMIN_API_KEY: KEY2, ADMIN_EMAIL: 'boss@example.com' })]);
    for (const gw of rotated) {
      expect(await whoAmI(gw, KEY1)).toBe(401);
      expect(await whoAmI(gw, KEY2)).toBe('boss@example.com (admin)');
    }
    expect(await audits(rotated[0], 'api_key.revoked')).toHaveLength(1);
    expect(await audits(rotated[0], 'user.bootstrap_admin_removed')).toHaveLength(1);
    expect(await admins(rotated[0])).toEqual(['boss@example.com']);
    expect(rotated.flatMap((g) => g.logs.filter((l) => l.action === 'api_key.revoked'))).toHaveLength(1);
  });
});
