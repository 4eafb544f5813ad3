// What a page offers a viewer of a request: exactly the votes `decide` accepts, and its words otherwise.
import { describe, expect, it } from 'vitest';
import { AGENT_CANNOT_VOTE, createReview, decidableGroups, decide, type Actor, type ReviewState } from '../../src/core/review-state.js';
import { voteOptions } from '../../src/core/vote-options.js';

const now = new Date('2026-01-01T10:00:00Z');
const alice: Actor = { userId: 'alice', isAdmin: false, groups: ['developers'] };
const dana: Actor = { userId: 'dana', isAdmin: false, groups: ['dba-team'] };
const bo: Actor = { userId: 'bo', isAdmin: false, groups: ['dba-team', 'security'] };
const outsider: Actor = { userId: 'out', isAdmin: false, groups: ['marketing'] };
const root: Actor = { userId: 'root', isAdmin: true, groups: [] };

function pending(groups: string[], requester = alice, distinctApprovers = true): ReviewState {
  return createReview({ requester, reviewerGroups: groups, now, timeoutSec: 3600, distinctApprovers }).state;
}

describe('voteOptions', () => {
  it('offers an agent nothing, even in every reviewer group and as an admin would be, and decide refuses each of its votes', () => {
    const bot: Actor = { userId: 'bot', isAdmin: false, groups: ['dba-team', 'security'], kind: 'agent' };
    const review = pending(['dba-team', 'security']);
    expect(voteOptions(review, bot, now)).toEqual({ canDecide: false, groups: [], approveGroups: [], why: AGENT_CANNOT_VOTE });
    expect(decidableGroups(review, bot, now)).toEqual([]);
    for (const vote of [{ action: 'approve' as const }, { action: 'approve' as const, group: 'dba-team' }, { action: 'reject' as const, reason: 'no' }]) {
      expect(() => decide(review, { ...vote, actor: bot }, now)).toThrow(AGENT_CANNOT_VOTE);
      // Its own request, too: no self-approval by way of an admin's exception either.
      expect(() => decide(pending(['dba-team'], bot), { ...vote, actor: { ...bot, isAdmin: true } }, now)).toThrow(AGENT_CANNOT_VOTE);
    }
  });

  it('offers a member of the reviewer group approve and reject for that group', () => {
    expect(voteOptions(pending(['dba-team']), dana, now)).toEqual({ canDecide: true, groups: ['dba-team'], approveGroups: ['dba-team'], why: null });
  });

  it('offers nothing to someone outside the reviewer groups, with the words of the refusal', () => {
    const o = voteOptions(pending(['dba-team']), outsider, now);
    expect(o).toMatchObject({ canDecide: false, groups: [], approveGroups: [] });
    expect(o.why).toContain('You are not in any group that still has to decide (dba-team)');
  });

  it('lets a requester in a reviewer group reject but not approve their own request, and says why', () => {
    const own = pending(['developers']);
    const o = voteOptions(own, alice, now);
    expect(o).toMatchObject({ canDecide: true, groups: ['developers'], approveGroups: [] });
    expect(o.why).toContain('You cannot approve your own request');
  });

  it('offers a member of two pending groups both, so the page can ask which one', () => {
    expect(voteOptions(pending(['dba-team', 'security']), bo, now)).toMatchObject({ groups: ['dba-team', 'security'], approveGroups: ['dba-team', 'security'] });
  });

  it('after approving for one group, offers only rejection for the other when approvers must differ', () => {
    const t = decide(pending(['dba-team', 'security']), { action: 'approve', actor: bo, group: 'dba-team' }, now);
    const o = voteOptions(t.next, bo, now);
    expect(o).toMatchObject({ canDecide: true, groups: ['security'], approveGroups: [] });
    expect(o.why).toContain('You already approved this request for "dba-team"');
    expect(voteOptions(decide(pending(['dba-team', 'security'], alice, false), { action: 'approve', actor: bo, group: 'dba-team' }, now).next, bo, now).approveGroups).toEqual(['security']);
  });

  it('offers nothing once the request expired or was decided', () => {
    const r = pending(['dba-team']);
    expect(voteOptions(r, dana, new Date(r.expiresAt.getTime()))).toMatchObject({ canDecide: false, why: expect.stringContaining('expired') });
    const done = decide(r, { action: 'reject', actor: dana, reason: 'no' }, now).next;
    expect(voteOptions(done, dana, now)).toMatchObject({ canDecide: false, why: expect.stringContaining('already rejected') });
  });

  it('lets an admin outside the groups decide nothing (admins see every request but vote as members)', () => {
    expect(voteOptions(pending(['dba-team']), root, now).canDecide).toBe(false);
  });
});
