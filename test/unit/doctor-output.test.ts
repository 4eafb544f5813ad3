// What `hoop admin doctor` prints and exits with, and the doctor's checks that need no I/O.
import { describe, expect, it } from 'vitest';
import { doctorExitCode, doctorText } from '../../src/cli/doctor-command.js';
import { check } from '../../src/contracts/doctor.js';
import { generalChecks } from '../../src/notify/doctor.js';
import type { DoctorConnection } from '../../src/notify/doctor-connection.js';

const conn = (name: string, extra: Partial<DoctorConnection> = {}): DoctorConnection => ({ id: name, name, reviewers: ['dba'], reviewMode: 'writes', plugins: [], slackChannel: null, teamsWebhookUrlSet: false, ...extra });

describe('doctorText', () => {
  it('marks each check, aligns the messages and puts the fix only under checks that are not ok', () => {
    const text = doctorText([
      check('slack', 'auth', 'ok', 'Slack accepts the token.', 'never shown'),
      check('slack', 'channel C1', 'fail', 'The bot is not a member of #ops.', 'In Slack, in #ops: /invite @hoop'),
      check('teams', 'configured', 'warn', 'Something odd.', 'Do this.'),
    ]);
    expect(text).toBe(
      [
        '✓ slack auth         Slack accepts the token.',
        '✗ slack channel C1   The bot is not a member of #ops.',
        '    fix: In Slack, in #ops: /invite @hoop',
        '! teams configured   Something odd.',
        '    fix: Do this.',
        '',
        '1 ok, 1 warning, 1 failed.',
      ].join('\n'),
    );
  });

  it('says so when there is nothing to check', () => expect(doctorText([])).toBe('Nothing to check.'));
});

describe('doctorExitCode', () => {
  it('is 1 when any check failed, 0 for only ok and warnings (and none)', () => {
    expect(doctorExitCode([check('a', 'b', 'ok', 'm'), check('a', 'c', 'fail', 'm')])).toBe(1);
    expect(doctorExitCode([check('a', 'c', 'fail', 'm')])).toBe(1);
    expect(doctorExitCode([check('a', 'b', 'ok', 'm'), check('a', 'c', 'warn', 'm')])).toBe(0);
    expect(doctorExitCode([])).toBe(0);
  });
});

describe('generalChecks', () => {
  const slack = { botToken: 'x', signingSecret: 'y', timeoutMs: 1 };
  it('warns about PUBLIC_URL on this machine only while Teams is on', () => {
    for (const publicUrl of ['http://localhost:8009', 'http://127.0.0.1:8009', 'http://[::1]:8009']) {
      expect(generalChecks({ slack, teamsWebhookUrl: 'https://t.example/x', publicUrl }, []).map((c) => c.name), publicUrl).toEqual(['PUBLIC_URL']);
      expect(generalChecks({ slack, publicUrl }, [conn('a', { plugins: ['teams'], teamsWebhookUrlSet: true })]).map((c) => c.name), publicUrl).toEqual(['PUBLIC_URL']);
      expect(generalChecks({ slack, publicUrl }, [conn('a', { plugins: ['teams'] })]), publicUrl).toEqual([]);
      expect(generalChecks({ slack, publicUrl }, []), publicUrl).toEqual([]);
    }
    expect(generalChecks({ slack, teamsWebhookUrl: 'https://t.example/x', publicUrl: 'https://hoop.example.com' }, [])).toEqual([]);
  });

  it('warns about connections that review nothing, and about a gateway with no channel at all', () => {
    const checks = generalChecks({ publicUrl: 'https://hoop.example.com' }, [conn('open', { reviewers: [] }), conn('none', { reviewMode: 'none' }), conn('fine')]);
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['review: open', 'warn'],
      ['review: none', 'warn'],
      ['channels', 'warn'],
    ]);
    expect(generalChecks({ publicUrl: 'https://hoop.example.com' }, [conn('hooked', { plugins: ['webhooks'] })], 1)).toEqual([]);
    expect(generalChecks({ publicUrl: 'https://hoop.example.com' }, [conn('hooked', { plugins: ['webhooks'] })], 0).map((c) => c.name)).toEqual(['channels']);
  });
});
