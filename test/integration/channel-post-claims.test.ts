// Review of i10 (Teams post claims, now ChannelMessage rows): "two attempts never both get 'claimed'". An attempt
// whose lease lapsed (a post hanging past it, a paused process) and that then fails gives back
// the claim with releasePost, even though another attempt has taken it over meanwhile: a third
// attempt then claims the post while the second is still sending it, and the card goes out twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimPost, markPosted, releasePost, targetOf, type PostKey } from '../../src/db/channel-posts.js';
import { createDb, type Db } from '../../src/db/client.js';
import { createStateDatabase } from '../helpers/databases.js';

let state: Awaited<ReturnType<typeof createStateDatabase>>;
let db: Db;
let reviewId: string;

beforeAll(async () => {
  state = await createStateDatabase();
  db = createDb(state.url, { max: 4 });
  const requesterId = (await db.user.create({ data: { email: 'ann@example.com', groups: ['dev'] } })).id;
  const connectionId = (await db.connection.create({ data: { name: 'prod-db', url: 'postgresql://x@127.0.0.1/x', reviewers: ['dba'] } })).id;
  reviewId = (await db.review.create({ data: { connectionId, requesterId, input: 'DELETE FROM t', status: 'PENDING', expiresAt: new Date(Date.now() + 3600_000), groups: { create: [{ group: 'dba' }] } } })).id;
});

afterAll(async () => {
  await db?.$disconnect();
  await state?.drop();
});

const LEASE = 60_000;
const key = (kind: string): PostKey => ({ reviewId, channel: 'teams', target: targetOf('https://example.invalid/flow?sig=x'), kind });

describe('a Teams post claim (ChannelMessage)', () => {
  it('is held by one attempt at a time, even after an attempt whose lease lapsed gives it back', async () => {
    const k = key('review.created');
    // A claims and hangs; its lease lapses (a lease of 0 ms stands for "the lease has lapsed").
    const a = await claimPost(db, k, LEASE);
    expect(a.outcome).toBe('claimed');
    await new Promise((r) => setTimeout(r, 20));
    // B takes the stale claim over and starts posting.
    expect((await claimPost(db, k, 0)).outcome).toBe('claimed');
    // A's post now fails: it releases "its" claim, which is B's.
    await releasePost(db, k, a.outcome === 'claimed' ? a.attempts : 0);
    // C must wait for B; it may not post the same card at the same time.
    expect((await claimPost(db, k, LEASE)).outcome).toBe('held');
  });

  it('stays posted once marked, whatever a late failing attempt does', async () => {
    const k = key('review.approved');
    const a = await claimPost(db, k, LEASE);
    expect(a.outcome).toBe('claimed');
    await markPosted(db, k);
    await releasePost(db, k, a.outcome === 'claimed' ? a.attempts : 0);
    expect((await claimPost(db, k, 0)).outcome).toBe('posted');
  });
});
