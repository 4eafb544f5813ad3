import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/core/review-state.js';
import type { Notifier } from '../../src/notify/channel.js';
import { channelOn, createNotifierRegistry } from '../../src/notify/registry.js';
import { slackJobsOf as planSlackJobs } from '../../src/notify/slack/slack-notifier.js';
import type { AuditAction } from '../../src/core/audit-actions.js';

const notifier = (channel: Notifier['channel']): Notifier => ({
  channel,
  jobsOfNewRequest: (r) => [{ name: `${channel}.announce`, payload: { reviewId: r.reviewId }, jobId: `${channel}-${r.reviewId}` }],
  jobsOf: (id, t) => [{ name: `${channel}.${t.action}`, payload: { reviewId: id }, jobId: `${channel}-${t.action}-${id}` }],
  run: async () => {},
});

const transition = (action: string, status: Transition['next']['status'], effects: Transition['effects'] = []): Transition => ({
  next: { status, requesterId: 'u', groups: [{ group: 'dba', status: 'APPROVED', reviewerId: 'r', decidedAt: new Date(0), reason: null }], expiresAt: new Date(0), decidedAt: new Date(0), rejectReason: null, distinctApprovers: true },
  action: action as AuditAction,
  decidedGroups: ['dba'],
  effects,
});

describe('the notifier registry', () => {
  const registry = createNotifierRegistry([notifier('slack'), notifier('teams'), notifier('webhooks')], ['slack', 'webhooks']);

  it('gives a connection without plugins the channels on by default, and one with plugins exactly those', () => {
    expect(registry.on([]).map((n) => n.channel)).toEqual(['slack', 'webhooks']);
    expect(registry.on(['teams']).map((n) => n.channel)).toEqual(['teams']);
    expect(registry.on(['teams', 'slack']).map((n) => n.channel)).toEqual(['slack', 'teams']);
    expect(registry.configured).toEqual(['slack', 'teams', 'webhooks']);
    expect(registry.defaults).toEqual(['slack', 'webhooks']);
  });

  it('plans nothing on a channel this gateway does not serve', () => {
    const slackOnly = createNotifierRegistry([notifier('slack')]);
    expect(slackOnly.on(['teams'])).toEqual([]);
    expect(slackOnly.jobsOfNewRequest(['teams'], { reviewId: 'r1', status: 'PENDING', autoApproved: false })).toEqual([]);
  });

  it('plans the run of an approved request whatever the channels, and each channel\'s jobs', () => {
    const t = transition('review.approved', 'APPROVED', [{ type: 'execute' }]);
    expect(registry.jobsOf(['teams'], 'r1', t).map((e) => e.name)).toEqual(['review.execute', 'teams.review.approved']);
    expect(createNotifierRegistry([]).jobsOf([], 'r1', t).map((e) => e.name)).toEqual(['review.execute']);
    expect(registry.jobsOf([], 'r1', transition('review.rejected', 'REJECTED')).map((e) => e.name)).toEqual(['slack.review.rejected', 'webhooks.review.rejected']);
  });

  it('selects the connections a channel is on for', () => {
    expect(channelOn('slack')).toEqual({ OR: [{ plugins: { isEmpty: true } }, { plugins: { has: 'slack' } }] });
    expect(channelOn('teams', false)).toEqual({ plugins: { has: 'teams' } });
  });
});

describe('the Slack notifier\'s jobs', () => {
  // The Home tab's refresh (slack-home.ts) came later, next to these; reminder-planning.test.ts covers it.
  const slackJobsOf = (id: string, t: Transition) => planSlackJobs(id, t).filter((e) => e.name !== 'slack.refresh-homes');
  it('keeps the job names and ids Slack had before channels were plug-ins', () => {
    const approved = slackJobsOf('r1', transition('review.approved', 'APPROVED', [{ type: 'execute' }, { type: 'update-messages' }, { type: 'notify-requester', outcome: 'approved' }]));
    expect(approved.map((e) => [e.name, e.jobId])).toEqual([['slack.update-review', 'update-r1-APPROVED-A']]);
    const rejected = slackJobsOf('r1', transition('review.rejected', 'REJECTED', [{ type: 'update-messages' }, { type: 'notify-requester', outcome: 'rejected' }]));
    expect(rejected.map((e) => e.jobId)).toEqual(['update-r1-REJECTED-A', 'notify-r1-rejected']);
    expect(slackJobsOf('r1', transition('review.executed', 'EXECUTED', [{ type: 'update-messages' }])).map((e) => e.jobId)).toEqual(['update-r1-EXECUTED-A', 'result-r1']);
  });
});
