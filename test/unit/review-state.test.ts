import { describe, expect, it } from 'vitest';
import {
  allGroupsApproved,
  canTransition,
  createReview,
  decide,
  expire,
  finishExecution,
  startExecution,
  type Actor,
  type ReviewState,
} from '../../src/core/review-state.js';
import { AppError, ErrorCode } from '../../src/errors.js';

const now = new Date('2026-01-01T10:00:00Z');
const later = (s: number) => new Date(now.getTime() + s * 1000);
const alice: Actor = { userId: 'alice', isAdmin: false, groups: ['developers'] };
const dana: Actor = { userId: 'dana', isAdmin: false, groups: ['dba-team'] };
const sam: Actor = { userId: 'sam', isAdmin: false, groups: ['security'] };
const bo: Actor = { userId: 'bo', isAdmin: false, groups: ['dba-team', 'security'] };
const root: Actor = { userId: 'root', isAdmin: true, groups: ['dba-team'] };

function pending(groups: string[], requester = alice, distinctApprovers?: boolean): ReviewState {
  return createReview({ requester, reviewerGroups: groups, now, timeoutSec: 3600, distinctApprovers }).state;
}

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e.code;
    throw e;
  }
  return undefined;
}

describe('createReview', () => {
  it('holds a request as PENDING with one pending row per distinct reviewer group', () => {
    const r = createReview({ requester: alice, reviewerGroups: ['dba-team', ' security ', 'dba-team'], now, timeoutSec: 60 });
    expect(r.state.status).toBe('PENDING');
    expect(r.state.groups.map((g) => [g.group, g.status])).toEqual([['dba-team', 'PENDING'], ['security', 'PENDING']]);
    expect(r.state.expiresAt).toEqual(later(60));
    expect(r.effects).toEqual([]);
  });

  it('runs directly when the connection has no reviewer groups', () => {
    const r = createReview({ requester: alice, reviewerGroups: [], now, timeoutSec: 60 });
    expect(r).toMatchObject({ state: { status: 'APPROVED' }, autoApproved: false, directReason: 'no-reviewers', effects: [{ type: 'execute' }] });
  });

  it('approves an admin\'s own request automatically, for every group, in the admin\'s name', () => {
    const r = createReview({ requester: root, reviewerGroups: ['dba-team', 'security'], now, timeoutSec: 60 });
    expect(r.autoApproved).toBe(true);
    expect(r.state.status).toBe('APPROVED');
    expect(r.state.groups.every((g) => g.status === 'APPROVED' && g.reviewerId === 'root')).toBe(true);
  });
});

describe('decide', () => {
  describe('with one reviewer group', () => {
    it('approves and asks for execution when any member approves', () => {
      const t = decide(pending(['dba-team']), { action: 'approve', actor: dana }, later(5));
      expect(t.next.status).toBe('APPROVED');
      expect(t.next.groups[0]).toMatchObject({ status: 'APPROVED', reviewerId: 'dana', decidedAt: later(5) });
      expect(t.effects).toContainEqual({ type: 'execute' });
      expect(t.action).toBe('review.approved');
    });

    it('rejects with the reason when any member rejects', () => {
      const t = decide(pending(['dba-team']), { action: 'reject', actor: dana, reason: '  no ticket ' }, later(5));
      expect(t.next).toMatchObject({ status: 'REJECTED', rejectReason: 'no ticket' });
      expect(t.effects).toContainEqual({ type: 'notify-requester', outcome: 'rejected' });
      expect(t.effects).not.toContainEqual({ type: 'execute' });
    });
  });

  describe('with two reviewer groups', () => {
    it('stays pending after the first group approves and approves once the second does', () => {
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: dana }, later(1));
      expect(first.next.status).toBe('PENDING');
      expect(first.action).toBe('review.group_approved');
      expect(first.effects).not.toContainEqual({ type: 'execute' });
      const second = decide(first.next, { action: 'approve', actor: sam }, later(2));
      expect(second.next.status).toBe('APPROVED');
      expect(second.effects).toContainEqual({ type: 'execute' });
    });

    it('lets either group reject, even after the other approved', () => {
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: dana }, later(1));
      const second = decide(first.next, { action: 'reject', actor: sam }, later(2));
      expect(second.next.status).toBe('REJECTED');
      expect(second.next.groups.map((g) => g.status)).toEqual(['APPROVED', 'REJECTED']);
    });

    it('approves only the group named by a reviewer who is in both groups', () => {
      const t = decide(pending(['dba-team', 'security']), { action: 'approve', actor: bo, group: 'security' }, later(1));
      expect(t.next.status).toBe('PENDING');
      expect(t.decidedGroups).toEqual(['security']);
      expect(t.next.groups.map((g) => g.status)).toEqual(['PENDING', 'APPROVED']);
    });

    it('approves only the one pending group of a reviewer in one of them when no group is named', () => {
      const t = decide(pending(['dba-team', 'security']), { action: 'approve', actor: dana }, later(1));
      expect(t.decidedGroups).toEqual(['dba-team']);
      expect(t.next.groups.map((g) => g.status)).toEqual(['APPROVED', 'PENDING']);
    });

    it('does not let the same group approve twice', () => {
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: dana }, later(1));
      expect(codeOf(() => decide(first.next, { action: 'approve', actor: bo, group: 'dba-team' }, later(2)))).toBe(ErrorCode.WrongState);
      expect(codeOf(() => decide(first.next, { action: 'approve', actor: dana }, later(2)))).toBe(ErrorCode.NotInGroup);
    });
  });

  describe('with distinct approvers (the default: one person decides for one group)', () => {
    const three = () => pending(['audit', 'dba-team', 'security']);
    const tri: Actor = { userId: 'tri', isAdmin: false, groups: ['audit', 'dba-team', 'security'] };

    it('stores the rule on a new review, on unless the connection turns it off', () => {
      expect(pending(['dba-team']).distinctApprovers).toBe(true);
      expect(pending(['dba-team'], alice, false).distinctApprovers).toBe(false);
    });

    it('refuses a second approval by the person who approved another group, whether the group is named or not', () => {
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: bo, group: 'dba-team' }, later(1));
      for (const vote of [{ group: 'security' }, {}]) {
        const e = errorOf(() => decide(first.next, { action: 'approve', actor: bo, ...vote }, later(2)));
        expect(e.code).toBe(ErrorCode.DistinctApprover);
        expect(e.httpStatus).toBe(403);
        expect(e.userMessage).toContain('already approved this request for "dba-team"');
        expect(e.userMessage).toContain('another member of "security"');
      }
    });

    it('refuses it for every group left when the person is in three groups', () => {
      const first = decide(three(), { action: 'approve', actor: tri, group: 'audit' }, later(1));
      for (const group of ['dba-team', 'security', undefined]) {
        expect(codeOf(() => decide(first.next, { action: 'approve', actor: tri, group }, later(2)))).toBe(ErrorCode.DistinctApprover);
      }
      // Two other people complete it.
      const second = decide(first.next, { action: 'approve', actor: dana }, later(2));
      expect(decide(second.next, { action: 'approve', actor: sam }, later(3)).next.status).toBe('APPROVED');
    });

    it('asks a reviewer in several pending groups to name one instead of approving any', () => {
      for (const [state, actor, names] of [
        [pending(['dba-team', 'security']), bo, 'dba-team, security'],
        [three(), tri, 'audit, dba-team, security'],
      ] as const) {
        const e = errorOf(() => decide(state, { action: 'approve', actor }, later(1)));
        expect(e.code).toBe(ErrorCode.BadInput);
        expect(e.userMessage).toContain(`several groups that still have to approve (${names})`);
        expect(e.userMessage).toContain('--group');
        expect(e.userMessage).toContain('{"group":');
      }
    });

    it('applies to an admin reviewing someone else\'s request too', () => {
      const boss: Actor = { userId: 'boss', isAdmin: true, groups: ['dba-team', 'security'] };
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: boss, group: 'security' }, later(1));
      expect(codeOf(() => decide(first.next, { action: 'approve', actor: boss, group: 'dba-team' }, later(2)))).toBe(ErrorCode.DistinctApprover);
    });

    it('still lets anyone in a pending group reject, even the person who approved another group', () => {
      const first = decide(pending(['dba-team', 'security']), { action: 'approve', actor: bo, group: 'dba-team' }, later(1));
      for (const vote of [{ group: 'security' }, {}]) {
        const t = decide(first.next, { action: 'reject', actor: bo, reason: 'second thoughts', ...vote }, later(2));
        expect(t.next).toMatchObject({ status: 'REJECTED', rejectReason: 'second thoughts' });
        expect(t.decidedGroups).toEqual(['security']);
      }
    });

    it('records a rejection without a group against one of the rejecter\'s groups, and stops the request', () => {
      const t = decide(pending(['dba-team', 'security']), { action: 'reject', actor: bo }, later(1));
      expect(t.next.status).toBe('REJECTED');
      expect(t.decidedGroups).toEqual(['dba-team']);
      expect(t.next.groups.map((g) => [g.group, g.status, g.reviewerId])).toEqual([['dba-team', 'REJECTED', 'bo'], ['security', 'PENDING', null]]);
    });

    it('keeps an admin\'s own request approved automatically for every group', () => {
      const r = createReview({ requester: root, reviewerGroups: ['dba-team', 'security'], now, timeoutSec: 60, distinctApprovers: true });
      expect(r.autoApproved).toBe(true);
      expect(r.state.groups.map((g) => [g.status, g.reviewerId])).toEqual([['APPROVED', 'root'], ['APPROVED', 'root']]);
    });
  });

  describe('when the connection allows one person to approve for several groups', () => {
    it('approves every pending group of the reviewer when no group is named', () => {
      const t = decide(pending(['dba-team', 'security'], alice, false), { action: 'approve', actor: bo }, later(1));
      expect(t.next.status).toBe('APPROVED');
      expect(t.decidedGroups.sort()).toEqual(['dba-team', 'security']);
    });

    it('lets the same person approve the groups one after the other', () => {
      const first = decide(pending(['dba-team', 'security'], alice, false), { action: 'approve', actor: bo, group: 'dba-team' }, later(1));
      const second = decide(first.next, { action: 'approve', actor: bo, group: 'security' }, later(2));
      expect(second.next.status).toBe('APPROVED');
      expect(second.next.groups.every((g) => g.reviewerId === 'bo')).toBe(true);
    });

    it('rejects for every pending group of the rejecter when no group is named', () => {
      const t = decide(pending(['dba-team', 'security'], alice, false), { action: 'reject', actor: bo }, later(1));
      expect(t.decidedGroups.sort()).toEqual(['dba-team', 'security']);
    });
  });

  describe('when the clicker is not allowed', () => {
    it('refuses a non-member with NotInGroup', () => {
      expect(codeOf(() => decide(pending(['dba-team']), { action: 'approve', actor: sam }, later(1)))).toBe(ErrorCode.NotInGroup);
      expect(codeOf(() => decide(pending(['dba-team']), { action: 'approve', actor: sam, group: 'dba-team' }, later(1)))).toBe(ErrorCode.NotInGroup);
    });

    it('refuses a group that does not review the request', () => {
      expect(codeOf(() => decide(pending(['dba-team']), { action: 'approve', actor: sam, group: 'security' }, later(1)))).toBe(ErrorCode.BadInput);
    });

    it('refuses self-approval by a requester who is a member', () => {
      const requesterInGroup: Actor = { userId: 'dana', isAdmin: false, groups: ['dba-team'] };
      expect(codeOf(() => decide(pending(['dba-team'], requesterInGroup), { action: 'approve', actor: dana }, later(1)))).toBe(ErrorCode.SelfApproval);
    });

    it('lets an admin approve a request they made when it is pending', () => {
      const state = { ...pending(['dba-team']), requesterId: 'root' };
      expect(decide(state, { action: 'approve', actor: root }, later(1)).next.status).toBe('APPROVED');
    });
  });

  describe('when the request is no longer pending', () => {
    it('refuses a decision after expiresAt even before the expiry job ran', () => {
      expect(codeOf(() => decide(pending(['dba-team']), { action: 'approve', actor: dana }, later(3600)))).toBe(ErrorCode.Expired);
    });

    it('refuses deciding a decided request', () => {
      const done = decide(pending(['dba-team']), { action: 'reject', actor: dana }, later(1)).next;
      expect(codeOf(() => decide(done, { action: 'approve', actor: bo }, later(2)))).toBe(ErrorCode.WrongState);
    });
  });
});

describe('expire', () => {
  it('expires a pending request at expiresAt and tells the requester', () => {
    const t = expire(pending(['dba-team']), later(3600));
    expect(t?.next.status).toBe('EXPIRED');
    expect(t?.effects).toContainEqual({ type: 'notify-requester', outcome: 'expired' });
  });

  it('does nothing before expiresAt or to a decided request', () => {
    expect(expire(pending(['dba-team']), later(3599))).toBeNull();
    const approved = decide(pending(['dba-team']), { action: 'approve', actor: dana }, later(1)).next;
    expect(expire(approved, later(7200))).toBeNull();
  });
});

describe('execution', () => {
  it('moves APPROVED → RUNNING → EXECUTED or FAILED, and nothing else can start', () => {
    const approved = decide(pending(['dba-team']), { action: 'approve', actor: dana }, later(1)).next;
    const running = startExecution(approved).next;
    expect(running.status).toBe('RUNNING');
    expect(codeOf(() => startExecution(running))).toBe(ErrorCode.WrongState);
    expect(finishExecution(running, true).next.status).toBe('EXECUTED');
    expect(finishExecution(running, false).next.status).toBe('FAILED');
    expect(codeOf(() => startExecution(pending(['dba-team'])))).toBe(ErrorCode.WrongState);
  });

  it('follows the documented transitions only', () => {
    expect(canTransition('PENDING', 'APPROVED')).toBe(true);
    expect(canTransition('PENDING', 'RUNNING')).toBe(false);
    expect(canTransition('REJECTED', 'APPROVED')).toBe(false);
    expect(canTransition('EXPIRED', 'RUNNING')).toBe(false);
    expect(canTransition('RUNNING', 'FAILED')).toBe(true);
  });

  it('counts "all groups approved", not a number of approvals', () => {
    const groups = pending(['a', 'b']).groups;
    expect(allGroupsApproved(groups)).toBe(false);
    expect(allGroupsApproved([{ ...groups[0], status: 'APPROVED' }, { ...groups[0], status: 'APPROVED' }])).toBe(true);
  });
});
