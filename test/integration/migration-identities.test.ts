// Migration 20261130160000_identities: every Slack link in User."slackUserId" becomes an Identity
// row ('slack', that id) of the same user, the column goes, and the table keeps the link unique
// both ways (one Slack account, one hoop user; one Slack account per hoop user).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseBefore, type MigratingDatabase } from '../helpers/migrations.js';

const MIGRATION = '20261130160000_identities';
let db: MigratingDatabase;
const ids = { ann: '', bob: '', cy: '', dee: '' };

beforeAll(async () => {
  db = await databaseBefore(MIGRATION);
  const user = async (email: string, slackUserId: string | null, updatedAt = '2026-11-01T10:00:00Z') =>
    (await db.client.query(
      `INSERT INTO "User" ("id", "email", "groups", "slackUserId", "active", "updatedAt") VALUES (gen_random_uuid(), $1, '{}', $2, $3, $4) RETURNING "id"`,
      [email, slackUserId, !email.startsWith('dee'), updatedAt],
    )).rows[0].id as string;
  ids.ann = await user('ann@example.com', 'UANN', '2026-11-02T03:04:05.678Z');
  ids.bob = await user('bob@example.com', null);
  ids.cy = await user('cy@example.com', 'ucy-lower');
  ids.dee = await user('dee@example.com', 'UDEE'); // deactivated: the link stays, as it did
  await db.apply(MIGRATION);
});

afterAll(async () => {
  await db?.drop();
});

const identities = async () => (await db.client.query(`SELECT "userId", "provider", "externalId", "createdAt" FROM "Identity" ORDER BY "externalId" COLLATE "C"`)).rows;

describe('the identities migration', () => {
  it('moves every Slack link to a slack identity of the same user, and only those', async () => {
    const rows = await identities();
    expect(rows.map((r) => [r.userId, r.provider, r.externalId])).toEqual([
      [ids.ann, 'slack', 'UANN'],
      [ids.dee, 'slack', 'UDEE'],
      [ids.cy, 'slack', 'ucy-lower'],
    ]);
    expect(rows.find((r) => r.externalId === 'UANN')!.createdAt.toISOString()).toBe('2026-11-02T03:04:05.678Z');
  });

  it('drops the User column and its index', async () => {
    const cols = await db.client.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'User' AND column_name = 'slackUserId'`);
    expect(cols.rowCount).toBe(0);
    expect((await db.client.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'User_slackUserId_key'`)).rowCount).toBe(0);
  });

  it('refuses a second hoop user for one Slack account', async () => {
    await expect(db.client.query(`INSERT INTO "Identity" ("id", "userId", "provider", "externalId") VALUES (gen_random_uuid(), $1, 'slack', 'UANN')`, [ids.bob])).rejects.toThrow(/Identity_provider_externalId_key/);
  });

  it('refuses a second Slack account for one hoop user, but not an account on another provider', async () => {
    await expect(db.client.query(`INSERT INTO "Identity" ("id", "userId", "provider", "externalId") VALUES (gen_random_uuid(), $1, 'slack', 'UANN2')`, [ids.ann])).rejects.toThrow(/Identity_userId_provider_key/);
    await db.client.query(`INSERT INTO "Identity" ("id", "userId", "provider", "externalId") VALUES (gen_random_uuid(), $1, 'teams', 'UANN')`, [ids.ann]);
    expect((await identities()).filter((r) => r.userId === ids.ann).map((r) => r.provider).sort()).toEqual(['slack', 'teams']);
  });

  it('refuses an identity of no user, and deleting a user deletes their identities', async () => {
    await expect(db.client.query(`INSERT INTO "Identity" ("id", "userId", "provider", "externalId") VALUES (gen_random_uuid(), gen_random_uuid(), 'slack', 'UGHOST')`)).rejects.toThrow(/Identity_userId_fkey/);
    await db.client.query(`DELETE FROM "User" WHERE "id" = $1`, [ids.cy]);
    expect((await identities()).some((r) => r.externalId === 'ucy-lower')).toBe(false);
  });
});
