import { describe, expect, it } from 'vitest';
import { acceptCorrection, createReview, decide, suggestCorrection, type Actor, type ReviewState, AGENT_CANNOT_ACCEPT } from '../../src/core/review-state.js';
import { lineDiff } from '../../src/core/line-diff.js';
import { AppError, ErrorCode } from '../../src/errors.js';

const now = new Date('2026-01-01T10:00:00Z');
const alice: Actor = { userId: 'alice', isAdmin: false, groups: ['developers'] };
const dana: Actor = { userId: 'dana', isAdmin: false, groups: ['dba-team'] };
const sam: Actor = { userId: 'sam', isAdmin: false, groups: ['security'] };
const bot: Actor = { userId: 'bot', isAdmin: false, groups: ['dba-team'], kind: 'agent' };

function pending(groups: string[], requester = alice): ReviewState {
  return createReview({ requester, reviewerGroups: groups, now, timeoutSec: 3600 }).state;
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

describe('lineDiff', () => {
  it('marks the changed line removed and added and keeps the rest', () => {
    expect(lineDiff('UPDATE t\nSET a = 1\nWHERE id = 2', 'UPDATE t\nSET a = 1\nWHERE id = 3')).toBe(' UPDATE t\n SET a = 1\n-WHERE id = 2\n+WHERE id = 3');
  });
  it('shows an added line between kept ones', () => {
    expect(lineDiff('DELETE FROM t\n;', 'DELETE FROM t\nWHERE id = 1\n;')).toBe(' DELETE FROM t\n+WHERE id = 1\n ;');
  });
  it('keeps the common lines of a reordering and moves the rest', () => {
    expect(lineDiff('a\nb\nc', 'c\na\nb')).toBe('+c\n a\n b\n-c');
  });
  it('treats CRLF and a final newline as the same lines', () => {
    expect(lineDiff('a\r\nb\r\n', 'a\nb')).toBe(' a\n b');
  });
});

describe('suggestCorrection', () => {
  it("rejects the original and counts the suggester's approval for their group", () => {
    const s = suggestCorrection(pending(['dba-team', 'security']), { actor: dana, reason: 'add a WHERE' }, now, 600);
    expect(s.original.next.status).toBe('REJECTED');
    expect(s.original.next.rejectReason).toBe('add a WHERE');
    expect(s.group).toBe('dba-team');
    expect(s.correction.status).toBe('PENDING');
    expect(s.correction.groups.map((g) => [g.group, g.status, g.reviewerId])).toEqual([['dba-team', 'APPROVED', 'dana'], ['security', 'PENDING', null]]);
    expect(s.correction.expiresAt.getTime()).toBe(now.getTime() + 600_000);
  });
  it('never approves a correction its requester has not accepted, even with every group approved', () => {
    const s = suggestCorrection(pending(['dba-team']), { actor: dana, reason: 'fix' }, now, 600);
    expect(s.correction.groups.every((g) => g.status === 'APPROVED')).toBe(true);
    expect(s.correction.status).toBe('PENDING');
  });
  it('refuses an agent, whatever its groups', () => {
    expect(codeOf(() => suggestCorrection(pending(['dba-team']), { actor: bot, reason: 'x' }, now, 600))).toBe(ErrorCode.Forbidden);
  });
  it('refuses the requester of the request', () => {
    const mine = pending(['dba-team'], dana);
    expect(codeOf(() => suggestCorrection(mine, { actor: dana, reason: 'x' }, now, 600))).toBe(ErrorCode.SelfApproval);
  });
  it('refuses someone outside the pending groups', () => {
    expect(codeOf(() => suggestCorrection(pending(['dba-team']), { actor: sam, reason: 'x' }, now, 600))).toBe(ErrorCode.NotInGroup);
  });
});

describe('acceptCorrection', () => {
  const twoGroups = () => suggestCorrection(pending(['dba-team', 'security']), { actor: dana, reason: 'fix' }, now, 600).correction;

  it('approves the correction once every group has approved', () => {
    const c = suggestCorrection(pending(['dba-team']), { actor: dana, reason: 'fix' }, now, 600).correction;
    const t = acceptCorrection(c, alice, now);
    expect(t.next.status).toBe('APPROVED');
    expect(t.action).toBe('review.correction_accepted');
    expect(t.effects).toContainEqual({ type: 'execute' });
  });
  it('records the acceptance and waits when a group has still to approve, then the last approval approves it', () => {
    const t = acceptCorrection(twoGroups(), alice, now);
    expect(t.next.status).toBe('PENDING');
    expect(t.effects).not.toContainEqual({ type: 'execute' });
    const last = decide(t.next, { action: 'approve', actor: sam }, now);
    expect(last.next.status).toBe('APPROVED');
  });
  it('leaves an unaccepted correction pending after the last approval', () => {
    const t = decide(twoGroups(), { action: 'approve', actor: sam }, now);
    expect(t.next.status).toBe('PENDING');
    expect(t.action).toBe('review.group_approved');
  });
  it('lets a member of its groups still stop a fully approved correction that waits for its requester, and nobody else', () => {
    const waiting = decide(twoGroups(), { action: 'approve', actor: sam }, now).next;
    const stopped = decide(waiting, { action: 'reject', actor: sam, reason: 'second thoughts' }, now);
    expect(stopped.next).toMatchObject({ status: 'REJECTED', rejectReason: 'second thoughts' });
    expect(stopped.decidedGroups).toEqual([]);
    expect(codeOf(() => decide(waiting, { action: 'reject', actor: { userId: 'eve', isAdmin: false, groups: ['finance'] } }, now))).toBe(ErrorCode.NotInGroup);
    // Once accepted it is APPROVED and runs: nothing is left to stop.
    const accepted = acceptCorrection(waiting, alice, now).next;
    expect(accepted.status).toBe('APPROVED');
    expect(codeOf(() => decide(accepted, { action: 'reject', actor: sam }, now))).toBe(ErrorCode.WrongState);
  });
  it("is for the requester only; an agent's is for its owner, never for the agent", () => {
    expect(codeOf(() => acceptCorrection(twoGroups(), sam, now))).toBe(ErrorCode.Forbidden);
    // An agent's request, owned by alice.
    const agents = { ...suggestCorrection({ ...pending(['dba-team'], { ...bot, groups: [] }), requesterOwnerId: alice.userId }, { actor: dana, reason: 'fix' }, now, 600).correction };
    // Else one reviewer writes the command, approves it, and a program's say-so runs it.
    expect(() => acceptCorrection(agents, { ...bot, groups: [] }, now)).toThrow(AGENT_CANNOT_ACCEPT);
    expect(codeOf(() => acceptCorrection(agents, sam, now))).toBe(ErrorCode.Forbidden);
    expect(agents.requesterOwnerId).toBe(alice.userId);
    expect(acceptCorrection(agents, alice, now).next.status).toBe('APPROVED');
  });
  it('refuses a request that is no correction', () => {
    expect(codeOf(() => acceptCorrection(pending(['dba-team']), alice, now))).toBe(ErrorCode.BadInput);
  });
  it('lets the requester decline the correction', () => {
    const t = decide(twoGroups(), { action: 'reject', actor: alice, reason: 'no' }, now);
    expect(t.next.status).toBe('REJECTED');
    expect(t.next.rejectReason).toBe('no');
  });
});
