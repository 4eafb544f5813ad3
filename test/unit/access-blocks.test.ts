// How every channel shows an access request (Just-in-Time access): titled by its window, never as a
// command; once granted until when, with a Revoke button in Slack; once ended when and by whom.
import { describe, expect, it } from 'vitest';
import { requestPreview } from '../../src/bot/home-blocks.js';
import { reminderDm } from '../../src/bot/reminder-blocks.js';
import { rejectModal } from '../../src/bot/reject-modal.js';
import { requesterNotice, reviewMessage, REVOKE_ACTION, safeReviewMessage } from '../../src/bot/review-blocks.js';
import type { ReviewView } from '../../src/contracts/review-view.js';
import { teamsCard, type TeamsMessage } from '../../src/notify/teams/teams-card.js';
import { expectedEvents } from '../../src/notify/teams/teams-notifier.js';
import { checkMessage, checkView } from '../fakes/slack-block-rules.js';
import { sampleReviewView } from '../helpers/review-view-sample.js';

const PUBLIC = 'https://hoop.example.com';
const ENDS = '2026-11-30T10:40:00.000Z';
const REVOKED = '2026-11-30T10:20:00.000Z';

const approvedGroup = { group: 'dba', status: 'APPROVED' as const, reviewer: 'bob@example.com', reviewerSlackId: 'UBOB', decidedAt: '2026-11-30T10:10:00.000Z', reason: null, maxRows: null };
const pending = (over: Partial<ReviewView> = {}): ReviewView =>
  sampleReviewView({
    kind: 'access',
    input: '',
    classification: null,
    reason: 'on call: INC-42',
    requesterSlackId: 'UANN',
    access: { durationSec: 1800, endsAt: null, revokedAt: null, revokedBy: null, revokedBySlackId: null, open: false },
    groups: [{ group: 'dba', status: 'PENDING', reviewer: null, reviewerSlackId: null, decidedAt: null, reason: null, maxRows: null }],
    approvals: { approved: 0, total: 1 },
    ...over,
  });
const granted = (over: Partial<ReviewView> = {}) =>
  pending({ status: 'GRANTED', decidedAt: approvedGroup.decidedAt, groups: [approvedGroup], approvals: { approved: 1, total: 1 }, access: { durationSec: 1800, endsAt: ENDS, revokedAt: null, revokedBy: null, revokedBySlackId: null, open: true }, ...over });
const revoked = () => granted({ status: 'ENDED', access: { durationSec: 1800, endsAt: ENDS, revokedAt: REVOKED, revokedBy: 'bob@example.com', revokedBySlackId: 'UBOB', open: false } });
const ended = () => granted({ status: 'ENDED', access: { durationSec: 1800, endsAt: ENDS, revokedAt: null, revokedBy: null, revokedBySlackId: null, open: false } });

const json = (v: unknown) => JSON.stringify(v);
const buttons = (blocks: Record<string, any>[]) => blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements as Record<string, any>[]);
/** Every text a card shows, TextBlocks and facts. */
function cardText(m: TeamsMessage): string {
  return (m.attachments[0].content.body as any[]).map((el) => (el.type === 'FactSet' ? el.facts.map((f: any) => `${f.title}: ${f.value}`).join('\n') : el.text)).join('\n');
}

describe('the Slack request message of an access request', () => {
  it('is titled by its window, shows no command block, and keeps the reason, groups and vote buttons', () => {
    const m = reviewMessage(pending(), PUBLIC);
    expect(checkMessage(m as never)).toBeNull();
    const text = json(m.blocks);
    expect(text).toContain('Access request from <@UANN>');
    expect(text).toContain('*Access for 30 minutes to prod-db*');
    expect(text).toContain('on call: INC-42');
    expect(text).not.toContain('```');
    expect(text).not.toContain('*Command*');
    expect(buttons(m.blocks).map((b) => b.action_id)).toEqual(['review.approve', 'review.reject']);
    expect(m.text).toBe('Access request from ann@example.com: Access for 30 minutes to prod-db (Waiting for approval)');
  });

  it('once granted says until when and carries a Revoke button behind a confirm dialog, and no vote button', () => {
    const m = reviewMessage(granted(), PUBLIC);
    expect(checkMessage(m as never)).toBeNull();
    const text = json(m.blocks);
    expect(text).toContain(`Open until <!date^${Date.parse(ENDS) / 1000}^`);
    expect(text).toContain(':unlock: Access granted');
    const [revoke, ...others] = buttons(m.blocks);
    expect(others).toEqual([]);
    expect(revoke).toMatchObject({ action_id: REVOKE_ACTION, style: 'danger', text: { text: 'Revoke access' }, confirm: { style: 'danger', confirm: { text: 'Revoke' }, deny: { text: 'Cancel' } } });
    expect(JSON.parse(revoke.value)).toEqual({ reviewId: granted().id });
    expect(revoke.confirm.text.text).toBe('ann@example.com loses access to prod-db now: their commands there wait for a review again.');
  });

  it('once ended says when, and by whom when revoked, with no button left', () => {
    const r = reviewMessage(revoked());
    expect(checkMessage(r as never)).toBeNull();
    expect(json(r.blocks)).toContain(`Revoked by <@UBOB> at <!date^${Date.parse(REVOKED) / 1000}^`);
    expect(buttons(r.blocks)).toEqual([]);
    const e = reviewMessage(ended());
    expect(json(e.blocks)).toContain(`Ended at <!date^${Date.parse(ENDS) / 1000}^`);
    expect(json(e.blocks)).toContain(':lock: Access ended');
    expect(buttons(e.blocks)).toEqual([]);
  });

  it('says "no access granted", not "not executed", when rejected or expired', () => {
    const rejected = reviewMessage(pending({ status: 'REJECTED', rejectReason: 'not now', groups: [{ ...approvedGroup, status: 'REJECTED' }] }));
    expect(json(rejected.blocks)).toContain('Rejected — no access granted');
    expect(json(rejected.blocks)).not.toContain('not executed');
    const expired = reviewMessage(pending({ status: 'EXPIRED' }));
    expect(json(expired.blocks)).toContain('ask again for access');
    expect(json(expired.blocks)).not.toContain('resubmit');
  });

  it("an agent's access request names the agent and its origin, and still its window", () => {
    const m = reviewMessage(pending({ requester: 'ops-bot@agents.invalid', requesterSlackId: null, requesterKind: 'agent', requesterOwner: 'ann@example.com', origin: { ip: '203.0.113.7', userAgent: 'ops-bot/1.0', client: { name: 'claude-desktop', version: '1.2.0' } } }));
    expect(checkMessage(m as never)).toBeNull();
    expect(json(m.blocks)).toContain(':robot_face:');
    expect(json(m.blocks)).toContain('*Access for 30 minutes to prod-db*');
    expect(m.text).toBe('Access request from agent ops-bot: Access for 30 minutes to prod-db (Waiting for approval)');
  });

  it('escapes a connection name in the window title, and its fallback keeps the Revoke button', () => {
    const m = reviewMessage(granted({ connection: '<!channel>&db' }));
    expect(json(m.blocks)).toContain('Access for 30 minutes to &lt;!channel&gt;&amp;db');
    // The confirm dialog's text is plain_text: Slack shows it as typed, mentions and all unparsed.
    expect(json(m.blocks.filter((b) => b.type !== 'actions'))).not.toContain('<!channel>');
    expect(buttons(m.blocks)[0].confirm.text.type).toBe('plain_text');
    const safe = safeReviewMessage(granted());
    expect(checkMessage(safe as never)).toBeNull();
    expect(buttons(safe.blocks).map((b) => b.action_id)).toEqual([REVOKE_ACTION]);
    expect(buttons(safeReviewMessage(revoked()).blocks)).toEqual([]);
  });
});

describe("the Slack requester's direct message", () => {
  it('granted: until when, and that commands now run without a per-command review', () => {
    const m = requesterNotice(granted(), 'granted');
    expect(checkMessage(m as never)).toBeNull();
    expect(json(m.blocks)).toMatch(/Your access request was approved: \*Access for 30 minutes to prod-db\*, until <!date\^\d+\^.*run without a per-command review/);
    expect(m.text).toBe('Your access to prod-db is granted for 30 minutes.');
  });

  it('revoked: by whom; ended: when; a late "granted" job still says granted', () => {
    expect(json(requesterNotice(revoked(), 'revoked').blocks)).toContain('Your access to *prod-db* was revoked by <@UBOB>');
    expect(json(requesterNotice(ended(), 'ended').blocks)).toContain('Your access to *prod-db* ended at');
    expect(json(requesterNotice(revoked(), 'granted').blocks)).toContain('Your access request was approved');
  });

  it('rejected and expired: no command block, no "not executed"', () => {
    const m = requesterNotice(pending({ status: 'REJECTED', rejectReason: 'use the replica', groups: [{ ...approvedGroup, status: 'REJECTED' }] }), 'rejected');
    expect(checkMessage(m as never)).toBeNull();
    expect(json(m.blocks)).toContain('was rejected by <@UBOB>; no access was granted. Reason: “use the replica”');
    expect(json(m.blocks)).not.toContain('```');
    expect(json(requesterNotice(pending({ status: 'EXPIRED' }), 'expired').blocks)).toContain('expired without a decision; no access was granted');
  });
});

describe('the Home tab, the reminder and the reject modal', () => {
  it('show an access request by its window', () => {
    expect(requestPreview({ ...granted(), inputTruncated: false })).toBe(':key: Access for 30 minutes to prod-db');
    const reminder = reminderDm(pending(), new Date('2026-11-30T10:30:00.000Z'));
    expect(checkMessage(reminder as never)).toBeNull();
    expect(json(reminder.blocks)).toContain('on *prod-db*: :key: Access for 30 minutes to prod-db');
    const modal = rejectModal({ reviewId: granted().id, group: 'dba' }, { connection: 'prod-db', requester: 'ann@example.com', kind: 'access' });
    expect(checkView(modal as never)).toBeNull();
    expect(json(modal.blocks)).toContain('Reject the access request of ann@example.com');
    expect(json(modal.blocks)).toContain('No access will be granted.');
  });
});

describe('Teams cards of an access request', () => {
  it('the new-request card is titled by its window, without a command', () => {
    const m = teamsCard('review.created', pending(), { publicUrl: PUBLIC });
    expect(cardText(m)).toContain('🔑 Access for 30 minutes to prod-db: waiting for approval');
    expect(cardText(m)).toContain('Window: 30 minutes');
    expect(cardText(m)).not.toContain('Command');
    expect(m.attachments[0].content.actions.map((a) => a.title)).toEqual(['Approve', 'Reject', 'Open']);
  });

  it('granted says until when and opens the request, where it can be revoked; revoked says by whom; ended when', () => {
    const g = teamsCard('review.access_granted', granted(), { publicUrl: PUBLIC });
    expect(cardText(g)).toContain('🔓 Access granted: Access for 30 minutes to prod-db, until 2026-11-30 10:40 UTC');
    expect(cardText(g)).toContain('revoke it at once in the web app (Open)');
    expect(cardText(g)).toContain('Window: 30 minutes');
    expect(g.attachments[0].content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: `${PUBLIC}/reviews/${granted().id}` }]);
    expect(cardText(teamsCard('review.access_revoked', revoked(), { publicUrl: PUBLIC }))).toContain('🔒 Access revoked by bob@example.com at 2026-11-30 10:20 UTC');
    expect(cardText(teamsCard('review.access_ended', ended(), { publicUrl: PUBLIC }))).toContain('🔒 Access ended at 2026-11-30 10:40 UTC');
    const rejected = teamsCard('review.rejected', pending({ status: 'REJECTED', groups: [{ ...approvedGroup, status: 'REJECTED' }] }), { publicUrl: PUBLIC });
    expect(cardText(rejected)).toContain('no access granted');
    expect(cardText(rejected)).not.toContain('Command');
  });

  it('the sweep expects the grant and the end of a window, not an approval', () => {
    const t = (m: number) => new Date(Date.UTC(2026, 10, 30, 10, m));
    const base = { id: 'r', kind: 'access', autoApproved: false, createdAt: t(0), expiresAt: t(60), decidedAt: t(10), finishedAt: null, accessEndsAt: t(40) };
    const kinds = (r: Parameters<typeof expectedEvents>[0]) => expectedEvents(r).map((e) => e.payload.event);
    const approved = [{ status: 'APPROVED', decidedAt: t(10) }];
    expect(kinds({ ...base, status: 'GRANTED', groups: approved })).toEqual(['review.created', 'review.access_granted']);
    expect(kinds({ ...base, status: 'ENDED', groups: approved })).toEqual(['review.created', 'review.access_granted', 'review.access_ended']);
    expect(kinds({ ...base, status: 'ENDED', accessRevokedAt: t(20), groups: approved })).toEqual(['review.created', 'review.access_granted', 'review.access_revoked']);
    expect(kinds({ ...base, autoApproved: true, status: 'GRANTED', groups: approved })).toEqual(['review.access_granted']);
  });
});
