import { describe, expect, it } from 'vitest';
import { expectedEvents } from '../../src/notify/teams/teams-notifier.js';

const t = (m: number) => new Date(Date.UTC(2026, 10, 30, 10, m));
const base = { id: 'r', autoApproved: false, createdAt: t(0), expiresAt: t(60), decidedAt: null, finishedAt: null };
const approved = (m: number) => ({ status: 'APPROVED', decidedAt: t(m) });
const pending = { status: 'PENDING', decidedAt: null };
const kinds = (r: Parameters<typeof expectedEvents>[0]) => expectedEvents(r).map((e) => (e.payload.step ? `${e.payload.event}.${e.payload.step}` : e.payload.event));

describe('expectedEvents', () => {
  it('a pending request: its announcement and each group approval so far', () => {
    expect(kinds({ ...base, status: 'PENDING', groups: [pending, pending] })).toEqual(['review.created']);
    expect(kinds({ ...base, status: 'PENDING', groups: [approved(1), pending, approved(3)] })).toEqual(['review.created', 'review.group_approved.1', 'review.group_approved.2']);
  });

  it('an executed request: the last approval is review.approved, then the result', () => {
    expect(kinds({ ...base, status: 'EXECUTED', decidedAt: t(3), finishedAt: t(4), groups: [approved(1), approved(3)] })).toEqual(['review.created', 'review.group_approved.1', 'review.approved', 'review.executed']);
  });

  it('groups approved by one vote are one event', () => {
    expect(kinds({ ...base, status: 'FAILED', decidedAt: t(2), finishedAt: t(4), groups: [approved(2), approved(2)] })).toEqual(['review.created', 'review.approved', 'review.failed']);
    expect(kinds({ ...base, status: 'PENDING', groups: [approved(2), approved(2), pending] })).toEqual(['review.created', 'review.group_approved.2']);
  });

  it('rejected and expired requests', () => {
    expect(kinds({ ...base, status: 'REJECTED', decidedAt: t(5), groups: [approved(1), { status: 'REJECTED', decidedAt: t(5) }] })).toEqual(['review.created', 'review.group_approved.1', 'review.rejected']);
    expect(kinds({ ...base, status: 'EXPIRED', decidedAt: t(60), groups: [pending] })).toEqual(['review.created', 'review.expired']);
  });

  it("an admin's auto-approved request: only its result; a run without reviewers: nothing", () => {
    expect(kinds({ ...base, autoApproved: true, status: 'EXECUTED', decidedAt: t(0), finishedAt: t(1), groups: [approved(0)] })).toEqual(['review.executed']);
    expect(kinds({ ...base, status: 'EXECUTED', decidedAt: t(0), finishedAt: t(1), groups: [] })).toEqual([]);
  });

  it('a running request has no result yet', () => {
    expect(kinds({ ...base, status: 'RUNNING', decidedAt: t(1), groups: [approved(1)] })).toEqual(['review.created', 'review.approved']);
  });
});
