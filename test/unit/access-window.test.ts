// Just-in-Time access, the pure parts: durations as people write them, the connection's rules, and
// the access request's transitions (granted by the last approval, ended on time, revoked by whom).
import { describe, expect, it } from 'vitest';
import { accessModeOf, accessTitle, checkAccessDuration, checkMayRequestAccess, durationWords, parseDuration } from '../../src/core/access-window.js';
import { AGENT_CANNOT_REVOKE, createReview, decide, endAccess, revokeAccess, startExecution, type Actor } from '../../src/core/review-state.js';
import { isAppError } from '../../src/errors.js';

const t0 = new Date('2026-11-30T10:00:00Z');
const alice: Actor = { userId: 'alice', isAdmin: false, groups: ['developers'] };
const bob: Actor = { userId: 'bob', isAdmin: false, groups: ['dba'] };
const carol: Actor = { userId: 'carol', isAdmin: false, groups: ['security'] };
const root: Actor = { userId: 'root', isAdmin: true, groups: [] };
const bot: Actor = { userId: 'bot', isAdmin: false, groups: ['dba', 'security'], kind: 'agent' };

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (isAppError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('not refused');
};

describe('durations', () => {
  it('reads what people write, and nothing else', () => {
    expect(['90s', '30m', '2h', '1d', '1h30m', '1H30M', ' 45m ', '600', '30', 600].map(parseDuration)).toEqual([90, 1800, 7200, 86400, 5400, 5400, 2700, 600, 30, 600]);
    for (const bad of ['', 'abc', '30 m', '1.5h', '-5m', '30min', 'm', '0m', '1e3', 0, -1, 1.5, null, undefined, {}, ['30m'], '9999999999']) {
      expect(parseDuration(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('says a window in words, and titles an access request by it', () => {
    expect([60, 1800, 3600, 5400, 86400 + 60, 61].map(durationWords)).toEqual(['1 minute', '30 minutes', '1 hour', '1 hour 30 minutes', '1 day 1 minute', '1 minute 1 second']);
    expect(accessTitle(1800, 'prod-db')).toBe('Access for 30 minutes to prod-db');
  });

  it('refuses a window shorter than a minute or longer than the connection allows, saying what to ask', () => {
    const conn = { name: 'prod-db', maxAccessSec: 7200 };
    expect(checkAccessDuration('2h', conn)).toBe(7200);
    expect(refusal(() => checkAccessDuration('2h1s', conn)).message).toMatch(/prod-db grants access for at most 2 hours; ask for that or less/);
    expect(refusal(() => checkAccessDuration('30s', conn)).message).toMatch(/at least 1 minute/);
    expect(refusal(() => checkAccessDuration(undefined, conn)).message).toMatch(/Say how long you need access in "duration", e.g. "30m"/);
    expect(refusal(() => checkAccessDuration('x'.repeat(5000), conn)).message.length).toBeLessThan(200);
  });
});

describe('a connection\'s rules', () => {
  it('reads an unknown stored mode as the strictest, command', () => {
    expect(['command', 'jit', 'both', 'JIT', '', 'other'].map((m) => accessModeOf({ accessMode: m }))).toEqual(['command', 'jit', 'both', 'command', 'command', 'command']);
  });

  it('grants no windows in command mode, and to agents only with jitAgents', () => {
    const person = { kind: 'person' as const };
    const agent = { kind: 'agent' as const };
    expect(refusal(() => checkMayRequestAccess({ name: 'a', accessMode: 'command', jitAgents: true }, person)).code).toBe('forbidden');
    expect(() => checkMayRequestAccess({ name: 'a', accessMode: 'both', jitAgents: false }, person)).not.toThrow();
    expect(refusal(() => checkMayRequestAccess({ name: 'a', accessMode: 'jit', jitAgents: false }, agent)).message).toMatch(/--jit-agents/);
    expect(() => checkMayRequestAccess({ name: 'a', accessMode: 'jit', jitAgents: true }, agent)).not.toThrow();
  });
});

describe('an access request\'s transitions', () => {
  const pending = () => createReview({ requester: alice, reviewerGroups: ['dba', 'security'], now: t0, timeoutSec: 600, accessSec: 1800 }).state;

  it('is granted by the last approval, for the window asked, from then', () => {
    const at = new Date(t0.getTime() + 120_000);
    const one = decide(pending(), { action: 'approve', actor: bob }, at);
    expect(one.next.status).toBe('PENDING');
    const two = decide(one.next, { action: 'approve', actor: carol }, at);
    expect(two).toMatchObject({ action: 'review.access_granted', next: { status: 'GRANTED', accessEndsAt: new Date(at.getTime() + 1800_000) } });
    expect(two.effects).toEqual([{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'granted' }]);
    // Never run as a command.
    expect(refusal(() => startExecution(two.next)).code).toBe('wrong_state');
  });

  it('is never approved by the owner of the agent that asked (no self-approval through an agent)', () => {
    const byAgent = { ...createReview({ requester: bot, reviewerGroups: ['dba'], now: t0, timeoutSec: 600, accessSec: 600 }).state, requesterOwnerId: 'bob' };
    expect(refusal(() => decide(byAgent, { action: 'approve', actor: bob }, t0))).toMatchObject({ code: 'self_approval', message: expect.stringMatching(/You own the agent/) });
    // The owner may still stop it; another member approves.
    expect(decide(byAgent, { action: 'reject', actor: bob }, t0).next.status).toBe('REJECTED');
    expect(decide(byAgent, { action: 'approve', actor: { ...bob, userId: 'erin' } }, t0).next.status).toBe('GRANTED');
  });

  it('is granted at once for an admin (auto-approved) and on a connection without reviewers', () => {
    const own = createReview({ requester: root, reviewerGroups: ['dba'], now: t0, timeoutSec: 600, accessSec: 60 });
    expect(own).toMatchObject({ autoApproved: true, state: { status: 'GRANTED', accessEndsAt: new Date(t0.getTime() + 60_000) } });
    const none = createReview({ requester: alice, reviewerGroups: [], now: t0, timeoutSec: 600, accessSec: 60 });
    expect(none).toMatchObject({ autoApproved: false, directReason: 'no-reviewers', state: { status: 'GRANTED' } });
  });

  it('ends on time, not before', () => {
    const granted = { ...pending(), status: 'GRANTED' as const, accessEndsAt: new Date(t0.getTime() + 1800_000) };
    expect(endAccess(granted, new Date(t0.getTime() + 1799_999))).toBeNull();
    expect(endAccess(granted, new Date(t0.getTime() + 1800_000))).toMatchObject({ action: 'review.access_ended', next: { status: 'ENDED', accessRevokedAt: null } });
    expect(endAccess({ ...granted, status: 'ENDED' }, new Date(t0.getTime() + 3600_000))).toBeNull();
  });

  it('is revoked by a member of its groups, an admin or its requester; never by an agent or anyone else', () => {
    const granted = { ...pending(), status: 'GRANTED' as const, accessEndsAt: new Date(t0.getTime() + 1800_000) };
    const at = new Date(t0.getTime() + 60_000);
    for (const who of [bob, carol, root, alice]) expect(revokeAccess(granted, who, at)).toMatchObject({ action: 'review.access_revoked', next: { status: 'ENDED', accessRevokedAt: at } });
    expect(refusal(() => revokeAccess(granted, bot, at))).toEqual({ code: 'forbidden', message: AGENT_CANNOT_REVOKE });
    expect(refusal(() => revokeAccess(granted, { userId: 'dave', isAdmin: false, groups: ['developers'] }, at)).code).toBe('not_in_group');
    // An agent is refused first, whatever the state.
    expect(refusal(() => revokeAccess(pending(), bot, at)).code).toBe('forbidden');
    expect(refusal(() => revokeAccess(pending(), bob, at)).message).toMatch(/still pending: reject it instead/);
    expect(refusal(() => revokeAccess(granted, bob, new Date(t0.getTime() + 1800_000))).message).toMatch(/past its end/);
    const command = { ...granted, kind: 'command' as const };
    expect(refusal(() => revokeAccess(command, bob, at)).code).toBe('bad_input');
  });
});
