// The Home tab's rendering (pure) and the fake Slack's views.publish rules, which are written apart
// from src/bot/slack-limits.ts so a mistake in one is caught by the other.
import { describe, expect, it } from 'vitest';
import { commandPreview, expiresIn, homeView, type HomeContent } from '../../src/bot/home-blocks.js';
import type { ReviewListView } from '../../src/contracts/review-view.js';
import { decidableGroups } from '../../src/core/review-state.js';
import { checkHomeView } from '../fakes/slack-block-rules.js';

const now = new Date('2026-01-01T12:00:00Z');

function review(i: number, extra: Partial<ReviewListView> = {}): ReviewListView {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    connection: 'prod-db',
    requester: 'alice@example.com',
    requesterSlackId: null,
    requesterKind: 'person',
    requesterOwner: null,
    origin: null,
    kind: 'command',
    access: null,
    grantId: null,
    input: `UPDATE users SET status = 'x' WHERE id = ${i}\n-- second line`,
    inputTruncated: false,
    reason: 'OPS-1',
    status: 'PENDING',
    autoApproved: false,
    readOnly: false,
    classification: null,
    groups: [{ group: 'dba-team', status: 'PENDING', reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null, maxRows: null }],
    approvals: { approved: 0, total: 1 },
    preview: null,
    rejectReason: null,
    correction: null,
    correctedBy: null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 42 * 60_000).toISOString(),
    decidedAt: null,
    startedAt: null,
    finishedAt: null,
    outputTruncated: false,
    commandTags: [],
    rowsAffected: null,
    error: null,
    ...extra,
  };
}

const linked = (waiting: number, mine: number, extra: Partial<Extract<HomeContent, { kind: 'linked' }>> = {}): HomeContent => ({
  kind: 'linked',
  email: 'dana@example.com',
  waiting: Array.from({ length: waiting }, (_, i) => ({ review: review(i), groups: ['dba-team'] })),
  waitingTotal: waiting,
  mine: Array.from({ length: mine }, (_, i) => review(100 + i, { status: 'EXECUTED' })),
  mineTotal: mine,
  ...extra,
});

const text = (v: unknown) => JSON.stringify(v);

describe('homeView', () => {
  it('lists a waiting request with its connection, requester, time left, progress and the request buttons', () => {
    const view = homeView(linked(1, 0), now);
    expect(view.type).toBe('home');
    const s = text(view);
    expect(s).toContain('Waiting for you');
    expect(s).toContain('prod-db');
    expect(s).toContain('alice@example.com');
    expect(s).toContain('expires in 42 min');
    expect(s).toContain('0 of 1 group approved');
    expect(s).toContain("UPDATE users SET status = 'x' WHERE id = 0…");
    expect(s).not.toContain('second line');
    const actions = view.blocks.find((b) => b.type === 'actions') as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['review.approve', 'review.reject']);
    expect(JSON.parse(actions.elements[0].value)).toEqual({ reviewId: review(0).id, group: 'dba-team' });
    expect(checkHomeView({ user_id: 'UDANA', view })).toBeNull();
  });

  it('shows at most 10 of each list, with a note that says how many more and how to list them', () => {
    const view = homeView(linked(10, 10, { waitingTotal: 13, mineTotal: 25 }), now);
    const s = text(view);
    expect(view.blocks.filter((b) => b.type === 'actions')).toHaveLength(10);
    expect(s).toContain('3 more requests wait for you');
    expect(s).toContain('hoop admin get reviews --status pending');
    expect(s).toContain('15 older requests of yours');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(checkHomeView({ user_id: 'UDANA', view })).toBeNull();
    // Exactly ten: no note.
    expect(text(homeView(linked(10, 10), now))).not.toContain('more requests wait');
  });

  it('stays within Slack limits whatever the texts: huge names, reasons, commands and many groups', () => {
    const groups = Array.from({ length: 30 }, (_, i) => `group-${i}-${'g'.repeat(80)}`);
    const huge = review(1, { connection: 'c'.repeat(5000), requester: `${'a'.repeat(3000)}@x.com`, reason: 'r'.repeat(9000), input: '`'.repeat(20_000) });
    const view = homeView({ kind: 'linked', email: 'e'.repeat(4000), waiting: Array.from({ length: 10 }, () => ({ review: huge, groups })), waitingTotal: 500, mine: Array.from({ length: 10 }, () => huge), mineTotal: 500 }, now);
    expect(checkHomeView({ user_id: 'UDANA', view })).toBeNull();
    // Buttons beyond one actions block's 25 elements are dropped, never sent.
    for (const b of view.blocks.filter((x) => x.type === 'actions')) expect((b as { elements: unknown[] }).elements.length).toBeLessThanOrEqual(25);
  });

  it('tells someone unlinked how to link, and someone deactivated whom to ask', () => {
    expect(text(homeView({ kind: 'not-linked' }, now))).toContain('/hoop subscribe');
    const off = text(homeView({ kind: 'deactivated', email: 'bob@example.com' }, now));
    expect(off).toContain('deactivated');
    expect(off).not.toContain('review.approve');
  });

  it('says so when nothing waits and nothing was asked', () => {
    const s = text(homeView(linked(0, 0), now));
    expect(s).toContain('Nothing is waiting for your decision');
    expect(s).toContain('You have not made any request yet');
  });

  it('counts time left up, and shows less than a minute at the end', () => {
    expect(expiresIn(new Date(now.getTime() + 61_000).toISOString(), now)).toBe('in 2 min');
    expect(expiresIn(new Date(now.getTime() + 59_000).toISOString(), now)).toBe('in less than a minute');
    expect(commandPreview({ input: 'SELECT `x`', inputTruncated: true })).toBe('`SELECT ˋxˋ…`');
  });
});

describe('decidableGroups', () => {
  const base = { status: 'PENDING' as const, requesterId: 'alice', expiresAt: new Date(now.getTime() + 1000), distinctApprovers: true };
  const g = (group: string, status: 'PENDING' | 'APPROVED' = 'PENDING', reviewerId: string | null = null) => ({ group, status, reviewerId, decidedAt: null, reason: null });
  const dana = { userId: 'dana', isAdmin: false, groups: ['dba', 'sec'] };

  it('offers the pending groups of the viewer', () => {
    expect(decidableGroups({ ...base, groups: [g('dba'), g('sec'), g('ops')] }, dana, now)).toEqual(['dba', 'sec']);
  });

  it('offers nothing once they approved a group where approvers must differ, to the requester, or after the deadline', () => {
    expect(decidableGroups({ ...base, groups: [g('dba', 'APPROVED', 'dana'), g('sec')] }, dana, now)).toEqual([]);
    expect(decidableGroups({ ...base, distinctApprovers: false, groups: [g('dba', 'APPROVED', 'dana'), g('sec')] }, dana, now)).toEqual(['sec']);
    expect(decidableGroups({ ...base, requesterId: 'dana', groups: [g('dba')] }, dana, now)).toEqual([]);
    expect(decidableGroups({ ...base, groups: [g('dba')] }, dana, new Date(base.expiresAt.getTime()))).toEqual([]);
    expect(decidableGroups({ ...base, status: 'APPROVED', groups: [g('dba')] }, dana, now)).toEqual([]);
  });
});

describe('the fake Slack views.publish rules', () => {
  const ok = { type: 'home', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi' } }] };
  it('accepts a home view for a user', () => {
    expect(checkHomeView({ user_id: 'U1', view: ok })).toBeNull();
  });
  it.each([
    ['no user_id', { view: ok }],
    ['a channel as user_id', { user_id: 'C1', view: ok }],
    ['a view that is not JSON', { user_id: 'U1', view: '{not json' }],
    ['a modal', { user_id: 'U1', view: { ...ok, type: 'modal' } }],
    ['no type', { user_id: 'U1', view: { blocks: ok.blocks } }],
    ['101 blocks', { user_id: 'U1', view: { ...ok, blocks: Array.from({ length: 101 }, () => ok.blocks[0]) } }],
    ['a section text over 3000', { user_id: 'U1', view: { ...ok, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] } }],
    ['a submit button', { user_id: 'U1', view: { ...ok, submit: { type: 'plain_text', text: 'Go' } } }],
    ['an unknown block', { user_id: 'U1', view: { ...ok, blocks: [{ type: 'carousel' }] } }],
  ])('refuses %s with invalid_arguments', (_, args) => {
    expect(checkHomeView(args as Record<string, unknown>)).toMatchObject({ ok: false, error: 'invalid_arguments' });
  });
});
