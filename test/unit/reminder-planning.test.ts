// How a reminder and a Home refresh are planned (pure): the registry asks only the channels on for
// the connection, a channel without reminders contributes nothing, and the jobs' ids make a second
// plan a no-op.
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/core/review-state.js';
import type { Notifier } from '../../src/notify/channel.js';
import { createNotifierRegistry } from '../../src/notify/registry.js';
import { publishHomeEntry, HOME_SLOT_MS } from '../../src/notify/slack/slack-home.js';
import { slackJobsOf } from '../../src/notify/slack/slack-notifier.js';
import { jobsOfNewRequest } from '../../src/service/review-effects.js';
import type { AuditAction } from '../../src/core/audit-actions.js';

const notifier = (channel: Notifier['channel'], reminds = true): Notifier => ({
  channel,
  ...(reminds ? { jobsOfReminder: (id: string) => [{ name: `${channel}.remind`, payload: { reviewId: id }, jobId: `${channel}-remind-${id}` }] } : {}),
  run: async () => {},
});

describe('jobsOfReminder', () => {
  const registry = createNotifierRegistry([notifier('slack'), notifier('teams'), notifier('webhooks', false)], ['slack', 'webhooks']);

  it('asks the channels on for the connection, and skips those without reminders', () => {
    expect(registry.jobsOfReminder([], 'r1').map((e) => e.name)).toEqual(['slack.remind']);
    expect(registry.jobsOfReminder(['teams', 'slack'], 'r1').map((e) => e.name)).toEqual(['slack.remind', 'teams.remind']);
    expect(registry.jobsOfReminder(['webhooks'], 'r1')).toEqual([]);
  });
});

describe('a new request', () => {
  const registry = createNotifierRegistry([notifier('slack')]);
  const created = new Date('2026-01-01T00:00:00Z');
  const expires = new Date(created.getTime() + 3600_000);

  it('plans its reminder next to its expiry, due at the reminder time, with one id per request', () => {
    const jobs = jobsOfNewRequest(registry, [], 'r1', expires, new Date(created.getTime() + 1800_000));
    expect(jobs.slice(0, 2)).toEqual([
      { name: 'review.expire', payload: { reviewId: 'r1' }, jobId: 'expire-r1', dueAt: expires },
      { name: 'review.remind', payload: { reviewId: 'r1' }, jobId: 'remind-r1', dueAt: new Date(created.getTime() + 1800_000) },
    ]);
  });

  it('plans no reminder when reminders are off, or when it would come at or after the expiry', () => {
    for (const remindAt of [undefined, expires, new Date(expires.getTime() + 1)]) {
      expect(jobsOfNewRequest(registry, [], 'r1', expires, remindAt).map((e) => e.name)).not.toContain('review.remind');
    }
  });
});

describe('Home refreshes', () => {
  const t = (status: Transition['next']['status'], groups: 'A' | 'P'): Transition => ({
    next: { status, requesterId: 'u', groups: [{ group: 'dba', status: groups === 'A' ? 'APPROVED' : 'PENDING', reviewerId: null, decidedAt: null, reason: null }], expiresAt: new Date(0), decidedAt: null, rejectReason: null, distinctApprovers: true },
    action: 'x' as AuditAction,
    decidedGroups: [],
    effects: [{ type: 'update-messages' }],
  });

  it('are planned once per state a request reaches', () => {
    const homes = (x: Transition) => slackJobsOf('r1', x).filter((e) => e.name === 'slack.refresh-homes');
    expect(homes(t('APPROVED', 'A'))).toEqual([{ name: 'slack.refresh-homes', payload: { reviewId: 'r1' }, jobId: 'homes-r1-APPROVED-A' }]);
    expect(homes(t('APPROVED', 'A'))[0].jobId).not.toBe(homes(t('EXECUTED', 'A'))[0].jobId);
  });

  it('publish a person once per time slot, due at its end, so a burst of changes is one views.publish', () => {
    const start = 1_000 * HOME_SLOT_MS;
    const a = publishHomeEntry('u1', start + 10);
    const b = publishHomeEntry('u1', start + HOME_SLOT_MS - 1);
    expect(a.jobId).toBe(b.jobId);
    expect(a.dueAt).toEqual(new Date(start + HOME_SLOT_MS));
    expect(publishHomeEntry('u1', start + HOME_SLOT_MS).jobId).not.toBe(a.jobId);
    expect(publishHomeEntry('u2', start + 10).jobId).not.toBe(a.jobId);
  });
});
