// Which webhook events a request has had, as the sweep's repair of lost dispatch jobs reads them
// from its state: the events its transitions dispatched, one delivery per request and event.
import { describe, expect, it } from 'vitest';
import { webhookEventsOf, type EventSource } from '../../src/notify/webhooks/repair.js';

const at = (min: number) => new Date(Date.UTC(2026, 11, 1, 0, min));
const base: EventSource = { id: 'r', status: 'PENDING', autoApproved: false, kind: 'command', createdAt: at(0), expiresAt: at(50), decidedAt: null, finishedAt: null, accessEndsAt: null, accessRevokedAt: null, groups: [{ status: 'PENDING', decidedAt: null }, { status: 'PENDING', decidedAt: null }] };
const events = (r: Partial<EventSource>) => webhookEventsOf({ ...base, ...r }).map((e) => `${e.event}@${e.at.getUTCMinutes()}`);

describe('webhookEventsOf', () => {
  it('has review.created for a pending request, and a group approval once one group approved', () => {
    expect(events({})).toEqual(['review.created@0']);
    expect(events({ groups: [{ status: 'APPROVED', decidedAt: at(2) }, { status: 'PENDING', decidedAt: null }] })).toEqual(['review.created@0', 'review.group_approved@2']);
  });

  it('has the first group approval, the approval and the failure of a request of two groups that failed', () => {
    const groups = [{ status: 'APPROVED', decidedAt: at(2) }, { status: 'APPROVED', decidedAt: at(5) }];
    expect(events({ status: 'FAILED', groups, decidedAt: at(5), finishedAt: at(6) })).toEqual(['review.created@0', 'review.group_approved@2', 'review.approved@5', 'review.failed@6']);
    // Both groups approved by one vote: no group approval before the approval.
    expect(events({ status: 'EXECUTED', groups: [{ status: 'APPROVED', decidedAt: at(5) }, { status: 'APPROVED', decidedAt: at(5) }], decidedAt: at(5), finishedAt: at(6) })).toEqual(['review.created@0', 'review.approved@5', 'review.executed@6']);
  });

  it('has the rejection and the expiry at their times', () => {
    expect(events({ status: 'REJECTED', decidedAt: at(3), groups: [{ status: 'APPROVED', decidedAt: at(1) }, { status: 'REJECTED', decidedAt: at(3) }] })).toEqual(['review.created@0', 'review.group_approved@1', 'review.rejected@3']);
    expect(events({ status: 'EXPIRED', decidedAt: null })).toEqual(['review.created@0', 'review.expired@50']);
  });

  it('has no announcement nor approval for a request approved at once, only its result', () => {
    expect(events({ status: 'EXECUTED', autoApproved: true, groups: [{ status: 'APPROVED', decidedAt: at(0) }], decidedAt: at(0), finishedAt: at(1) })).toEqual(['review.executed@1']);
    expect(events({ status: 'FAILED', groups: [], decidedAt: at(0), finishedAt: at(1) })).toEqual(['review.failed@1']);
    // Still running: nothing more yet.
    expect(events({ status: 'RUNNING', groups: [], decidedAt: at(0) })).toEqual([]);
  });

  it('has the grant and the end or revocation of an access window', () => {
    const groups = [{ status: 'APPROVED', decidedAt: at(4) }];
    expect(events({ kind: 'access', status: 'GRANTED', groups, decidedAt: at(4), accessEndsAt: at(34) })).toEqual(['review.created@0', 'review.access_granted@4']);
    expect(events({ kind: 'access', status: 'ENDED', groups, decidedAt: at(4), accessEndsAt: at(34) })).toEqual(['review.created@0', 'review.access_granted@4', 'review.access_ended@34']);
    expect(events({ kind: 'access', status: 'ENDED', groups, decidedAt: at(4), accessEndsAt: at(34), accessRevokedAt: at(10) })).toEqual(['review.created@0', 'review.access_granted@4', 'review.access_revoked@10']);
    // An admin's own window: granted at once, announced as granted.
    expect(events({ kind: 'access', status: 'GRANTED', autoApproved: true, groups, decidedAt: at(0) })).toEqual(['review.access_granted@0']);
  });
});
