// Slack links are Identity rows, unique both ways: subscribes and unsubscribes racing each other
// leave one link, one audit event, and a refusal (never a 500) for the losers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../src/db/client.js';
import { AppError } from '../../src/errors.js';
import { createSlackLinks, type SlackLinks } from '../../src/service/slack-links.js';
import { createStateDatabase } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let links: SlackLinks;
const ctx = (slackUserId: string) => ({ actorId: null, actor: `slack:${slackUserId}`, source: 'slack' as const });
const profile = (slackUserId: string, email: string) => ({ slackUserId, email, emailConfirmed: true, teamId: 'T1' });

async function newUser(email: string) {
  return db.user.create({ data: { email, groups: ['dba-team'] } });
}

/** What each attempt ended in: 'linked', 'already', or the refusal's reason. */
async function outcomes(attempts: Promise<{ already: boolean }>[]): Promise<string[]> {
  const settled = await Promise.allSettled(attempts);
  return settled.map((s) => {
    if (s.status === 'fulfilled') return s.value.already ? 'already' : 'linked';
    if (s.reason instanceof AppError) return String((s.reason.details as { reason?: string } | undefined)?.reason);
    throw s.reason;
  });
}

const audits = (action: string, email: string) => db.auditEvent.count({ where: { action, actor: email } });

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 8 });
  links = createSlackLinks(db);
});

afterAll(async () => {
  await db?.$disconnect();
  await state?.drop();
});

describe('Slack accounts subscribing to one hoop user at the same moment', () => {
  for (const n of [2, 5]) {
    it(`links exactly one of ${n}, refuses the others as linked to another Slack account, audits one link`, async () => {
      const email = `race${n}@example.com`;
      const user = await newUser(email);
      const got = await outcomes(Array.from({ length: n }, (_, i) => links.linkSlackUser(profile(`URACE${n}_${i}`, email), 'T1', ctx(`URACE${n}_${i}`))));
      expect(got.filter((o) => o === 'linked')).toHaveLength(1);
      expect(got.filter((o) => o !== 'linked')).toEqual(Array(n - 1).fill('email_linked_to_other_slack_account'));
      const rows = await db.identity.findMany({ where: { userId: user.id } });
      expect(rows).toHaveLength(1);
      expect(rows[0].externalId).toBe(`URACE${n}_${got.indexOf('linked')}`);
      expect(await audits('user.slack_linked', email)).toBe(1);
    });
  }
});

describe('one Slack account subscribing twice at the same moment', () => {
  it('links once and answers the other as already linked', async () => {
    const email = 'twice@example.com';
    await newUser(email);
    const got = await outcomes([0, 1, 2].map(() => links.linkSlackUser(profile('UTWICE', email), 'T1', ctx('UTWICE'))));
    expect(got.sort()).toEqual(['already', 'already', 'linked']);
    expect(await db.identity.count({ where: { provider: 'slack', externalId: 'UTWICE' } })).toBe(1);
    expect(await audits('user.slack_linked', email)).toBe(1);
  });
});

describe('unsubscribing', () => {
  it('twice at the same moment unlinks once and audits once', async () => {
    const email = 'leaver@example.com';
    await newUser(email);
    await links.linkSlackUser(profile('ULEAVER', email), 'T1', ctx('ULEAVER'));
    const got = await Promise.all([0, 1, 2].map(() => links.unlinkSlackUser('ULEAVER', ctx('ULEAVER'))));
    expect(got.sort()).toEqual([false, false, true]);
    expect(await db.identity.count({ where: { externalId: 'ULEAVER' } })).toBe(0);
    expect(await audits('user.slack_unlinked', email)).toBe(1);
  });

  it('frees the Slack account and the hoop user for a new link', async () => {
    const email = 'relink@example.com';
    const user = await newUser(email);
    await links.linkSlackUser(profile('URELINK1', email), 'T1', ctx('URELINK1'));
    await expect(links.linkSlackUser(profile('URELINK2', email), 'T1', ctx('URELINK2'))).rejects.toThrow(/already linked to another Slack account/);
    expect(await links.unlinkSlackUser('URELINK1', ctx('URELINK1'))).toBe(true);
    expect((await links.linkSlackUser(profile('URELINK2', email), 'T1', ctx('URELINK2'))).already).toBe(false);
    expect((await db.identity.findMany({ where: { userId: user.id } })).map((r) => r.externalId)).toEqual(['URELINK2']);
  });
});

describe('a link change', () => {
  it("changes the user's updatedAt, so a cached authentication of their key is checked again", async () => {
    const email = 'cached@example.com';
    const user = await newUser(email);
    const before = user.updatedAt.getTime();
    await new Promise((r) => setTimeout(r, 5));
    await links.linkSlackUser(profile('UCACHED', email), 'T1', ctx('UCACHED'));
    const linked = (await db.user.findUniqueOrThrow({ where: { id: user.id } })).updatedAt.getTime();
    expect(linked).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 5));
    await links.unlinkSlackUser('UCACHED', ctx('UCACHED'));
    expect((await db.user.findUniqueOrThrow({ where: { id: user.id } })).updatedAt.getTime()).toBeGreaterThan(linked);
  });

  it('a deleted user takes their links along', async () => {
    const email = 'gone@example.com';
    const user = await newUser(email);
    await links.linkSlackUser(profile('UGONE', email), 'T1', ctx('UGONE'));
    await db.user.delete({ where: { id: user.id } });
    expect(await db.identity.count({ where: { externalId: 'UGONE' } })).toBe(0);
  });
});
