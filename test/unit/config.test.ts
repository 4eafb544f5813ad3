import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The variables of .env.example, as a shell or `node --env-file` would set them. */
function envExample(): Record<string, string> {
  const lines = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8').split('\n');
  return Object.fromEntries(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('loadConfig', () => {
  it('defaults to the local services, port 8009, a one-hour review timeout and Slack off', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ databaseUrl: 'postgresql://postgres@127.0.0.1:5432/hoop', redisUrl: 'redis://127.0.0.1:6379', port: 8009, reviewTimeoutSec: 3600 });
    expect(c.slack).toBeUndefined();
    expect(c.slackOffReason).toContain('SLACK_BOT_TOKEN');
  });

  it('loads .env.example as it stands: a variable set to nothing takes its default', () => {
    const example = envExample();
    expect(Object.keys(example).length).toBeGreaterThan(20);
    expect(Object.values(example)).toContain('');
    const c = loadConfig(example);
    expect(c.slack).toBeUndefined();
    expect(c).toMatchObject(loadConfig({}));
    for (const name of ['SLACK_TIMEOUT_MS', 'SHUTDOWN_GRACE_SEC', 'REVIEW_TIMEOUT_SEC', 'PORT', 'TARGET_POOL_MAX', 'MIGRATE_ON_START']) {
      expect(loadConfig({ [name]: '' }), name).toEqual(loadConfig({}));
      expect(loadConfig({ [name]: '  ' }), name).toEqual(loadConfig({}));
    }
  });

  it('previews writes on new connections unless PREVIEW_DEFAULT_MODE says otherwise, and refuses another word', () => {
    expect(loadConfig({}).previewDefaultMode).toBe('auto');
    expect(loadConfig({ PREVIEW_DEFAULT_MODE: '' }).previewDefaultMode).toBe('auto');
    expect(loadConfig({ PREVIEW_DEFAULT_MODE: 'off' }).previewDefaultMode).toBe('off');
    expect(loadConfig({ PREVIEW_DEFAULT_MODE: 'estimate' }).previewDefaultMode).toBe('estimate');
    expect(() => loadConfig({ PREVIEW_DEFAULT_MODE: 'dry-run' })).toThrow(/PREVIEW_DEFAULT_MODE: must be auto/);
  });

  it('turns Slack on with a token and a signing secret', () => {
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_CHANNEL: 'C1', SLACK_API_URL: 'http://127.0.0.1:1/api/' });
    expect(c.slack).toMatchObject({ botToken: 'xoxb-1', signingSecret: 's', defaultChannel: 'C1', apiUrl: 'http://127.0.0.1:1/api/' });
  });

  it('takes the installed Slack workspace from SLACK_TEAM_ID, and leaves it to auth.test when unset', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' };
    expect(loadConfig({ ...slack, SLACK_TEAM_ID: 'T0123ABCD' }).slack?.teamId).toBe('T0123ABCD');
    expect(loadConfig({ ...slack, SLACK_TEAM_ID: '' }).slack?.teamId).toBeUndefined();
    expect(() => loadConfig({ ...slack, SLACK_TEAM_ID: 'acme' })).toThrow(/SLACK_TEAM_ID: must be a Slack team id/);
  });

  it('takes a hash-tagged QUEUE_PREFIX for Redis Cluster, and nothing else with braces or colons', () => {
    expect(loadConfig({ QUEUE_PREFIX: '{hoop}' }).queuePrefix).toBe('{hoop}');
    for (const bad of ['{hoop', 'hoop}', '{}', 'a{b}', '{a}{b}', 'ho:op']) expect(() => loadConfig({ QUEUE_PREFIX: bad }), bad).toThrow('QUEUE_PREFIX');
  });

  it('serves /metrics on the gateway port without a token by default; METRICS_TOKEN must be 16+ characters', () => {
    expect(loadConfig({}).metrics).toEqual({ token: undefined, port: undefined });
    expect(loadConfig({ METRICS_TOKEN: 'metrics-token-0123456789', METRICS_PORT: '9464' }).metrics).toEqual({ token: 'metrics-token-0123456789', port: 9464 });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN');
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow('METRICS_PORT');
  });

  it('names a bad or half-set variable', () => {
    expect(() => loadConfig({ REVIEW_TIMEOUT_SEC: 'soon' })).toThrow(/REVIEW_TIMEOUT_SEC/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(ConfigError);
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(/SLACK_SIGNING_SECRET/);
    expect(() => loadConfig({ ADMIN_API_KEY: 'short' })).toThrow(/ADMIN_API_KEY/);
  });

  it('gives a stop 60 s of grace by default and applies migrations at start unless told not to', () => {
    expect(loadConfig({})).toMatchObject({ shutdownGraceMs: 60_000, migrateOnStart: true });
    expect(loadConfig({ SHUTDOWN_GRACE_SEC: '0', MIGRATE_ON_START: 'false' })).toMatchObject({ shutdownGraceMs: 0, migrateOnStart: false });
    expect(loadConfig({ SHUTDOWN_GRACE_SEC: '300', MIGRATE_ON_START: '1' })).toMatchObject({ shutdownGraceMs: 300_000, migrateOnStart: true });
    expect(() => loadConfig({ SHUTDOWN_GRACE_SEC: '-1' })).toThrow(/SHUTDOWN_GRACE_SEC/);
    expect(() => loadConfig({ SHUTDOWN_GRACE_SEC: 'a minute' })).toThrow(/SHUTDOWN_GRACE_SEC/);
    expect(() => loadConfig({ MIGRATE_ON_START: 'no' })).toThrow(/MIGRATE_ON_START/);
  });

  it('normalises ADMIN_EMAIL, so any spelling of one address names one person', () => {
    for (const email of ['Boss@Corp.COM', ' boss@corp.com ', 'BOSS@CORP.COM', 'boss@Corp.com']) {
      expect(loadConfig({ ADMIN_EMAIL: email }).adminEmail).toBe('boss@corp.com');
    }
    expect(loadConfig({}).adminEmail).toBe('admin@localhost.localdomain');
    expect(() => loadConfig({ ADMIN_EMAIL: 'Not An Email' })).toThrow(/ADMIN_EMAIL/);
    // An agent's address: agents are never admins.
    expect(() => loadConfig({ ADMIN_EMAIL: 'CI-Bot@agents.invalid' })).toThrow(/ADMIN_EMAIL.*names an agent/s);
  });

  it('limits requests by default and lets each limit be changed or switched off with 0', () => {
    expect(loadConfig({})).toMatchObject({
      databasePoolSize: 10,
      databaseTxWaitMs: 10_000,
      limits: { windowSec: 60, submitsPerUser: 60, authFailuresPerIp: 30, authFailuresPerKey: 10, longPollsPerUser: 10 },
    });
    const c = loadConfig({ RATE_LIMIT_SUBMITS: '0', LONG_POLLS_PER_KEY: '3', RATE_LIMIT_WINDOW_SEC: '10', DATABASE_POOL_SIZE: '25', DATABASE_TX_WAIT_MS: '500' });
    expect(c.limits).toMatchObject({ submitsPerUser: 0, longPollsPerUser: 3, windowSec: 10 });
    expect(c).toMatchObject({ databasePoolSize: 25, databaseTxWaitMs: 500 });
  });

  it.each([
    ['RATE_LIMIT_SUBMITS', '-1'],
    ['RATE_LIMIT_WINDOW_SEC', '0'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_IP', 'many'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_KEY', '2.5'],
    ['LONG_POLLS_PER_KEY', '-3'],
    ['DATABASE_POOL_SIZE', '1'],
    ['DATABASE_TX_WAIT_MS', '10'],
  ])('names %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
