import { describe, expect, it } from 'vitest';
import { changedFields, configChange, redactAccessUrl, redactDatabaseUrl, redactWhole, REDACTED } from '../../src/core/audit-diff.js';

describe('redactDatabaseUrl', () => {
  it('replaces the password in the userinfo and keeps user, host, port and database', () => {
    expect(redactDatabaseUrl('postgres://app:s3cret@db.internal:5432/shop')).toBe('postgres://app:***@db.internal:5432/shop');
    expect(redactDatabaseUrl('mysql://root:p%40ss@127.0.0.1:3306/app')).toBe('mysql://root:***@127.0.0.1:3306/app');
  });

  it('keeps a URL without a password as it is', () => {
    expect(redactDatabaseUrl('postgresql://app@db/shop?sslmode=require')).toBe('postgresql://app@db/shop?sslmode=require');
  });

  it('replaces a password given in the query string, and leaves the other parameters', () => {
    const out = redactDatabaseUrl('postgres://app@db/shop?sslmode=verify-full&password=hunter2&sslpassword=k3y&application_name=x') as string;
    expect(out).toBe('postgres://app@db/shop?sslmode=verify-full&password=***&sslpassword=***&application_name=x');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('k3y');
  });

  it('redacts every query value but the few known to hold no secret (a MySQL TLS key given as JSON too)', () => {
    const out = redactDatabaseUrl('mysql://app:pw@db/app?ssl={"key":"-----BEGIN PRIVATE KEY-----abc","passphrase":"hunter2"}&charset=utf8mb4&connect_timeout=5') as string;
    expect(out).not.toMatch(/PRIVATE|hunter2|pw@/);
    expect(out).toContain('charset=utf8mb4');
    expect(out).toContain('connect_timeout=5');
  });

  it('keeps no part of a key=value password written with backslash escapes', () => {
    expect(redactDatabaseUrl('host=db password=abc\\ SECRETTAIL dbname=shop')).not.toContain('SECRETTAIL');
    expect(redactDatabaseUrl("host=db password=abc\\'SECRETTAIL dbname=shop")).not.toContain('SECRETTAIL');
  });

  it('replaces the password of a libpq key=value string, quoted or not', () => {
    expect(redactDatabaseUrl('host=db port=5432 dbname=shop user=app password=hunter2')).toBe('host=db port=5432 dbname=shop user=app password=***');
    const quoted = redactDatabaseUrl("host=db user=app password='with space\\' and quote' dbname=shop") as string;
    expect(quoted).toBe('host=db user=app password=*** dbname=shop');
    expect(redactDatabaseUrl('host=db password = spaced')).toBe('host=db password=***');
  });

  it('withholds a string it cannot read rather than guess where its secret is', () => {
    expect(redactDatabaseUrl('not a url at all')).toBe(REDACTED);
    expect(redactDatabaseUrl('postgres://app:pw@[bad')).toBe(REDACTED);
  });

  it('leaves null and undefined alone', () => {
    expect(redactDatabaseUrl(null)).toBeNull();
    expect(redactDatabaseUrl(undefined)).toBeUndefined();
  });
});

describe('redactAccessUrl', () => {
  it('keeps scheme and host and a fingerprint: a secret in the path, the query or the userinfo goes', () => {
    const teams = 'https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SECRETSIG#x';
    const out = redactAccessUrl(teams) as string;
    expect(out).toMatch(/^https:\/\/prod-12\.westeurope\.logic\.azure\.com\/\*\*\* \(sha256 [0-9a-f]{8}\)$/);
    expect(out).not.toContain('SECRETSIG');
    // An Office 365 connector URL and a Slack-style hook carry theirs in the path.
    const connector = redactAccessUrl('https://acme.webhook.office.com/webhookb2/0000@1111/IncomingWebhook/PATHSECRET/2222/V2KEYSECRET') as string;
    expect(connector).not.toMatch(/PATHSECRET|V2KEYSECRET|IncomingWebhook/);
    expect(redactAccessUrl('https://hooks.slack.com/services/T0/B0/XSECRET')).not.toContain('XSECRET');
    expect(redactAccessUrl('https://bot:tok3n@hooks.example.com/in')).not.toContain('tok3n');
    // The same URL reads the same; another one differently.
    expect(redactAccessUrl(teams)).toBe(out);
    expect(redactAccessUrl(teams.replace('SECRETSIG', 'OTHERSIG'))).not.toBe(out);
    expect(redactAccessUrl('not a url')).toBe(REDACTED);
  });
});

describe('redactWhole', () => {
  it('keeps only whether a secret is set', () => {
    expect(redactWhole('whsec_abc')).toBe(REDACTED);
    expect(redactWhole(null)).toBeNull();
  });
});

describe('changedFields', () => {
  it('names the fields whose values differ, lists compared item by item', () => {
    expect(changedFields({ a: 1, b: ['x', 'y'], c: 'same' }, { a: 2, b: ['x', 'y'], c: 'same' })).toEqual(['a']);
    expect(changedFields({ plugins: ['slack'] }, { plugins: ['slack', 'teams'] })).toEqual(['plugins']);
    expect(changedFields({ plugins: ['teams', 'slack'] }, { plugins: ['slack', 'teams'] })).toEqual(['plugins']);
  });

  it('counts a field present on one side only as a change from or to null', () => {
    expect(changedFields({}, { slackChannel: 'C1' })).toEqual(['slackChannel']);
    expect(changedFields({ slackChannel: null }, {})).toEqual([]);
  });
});

describe('configChange', () => {
  it('gives before and after of the changed fields only', () => {
    expect(configChange({ reviewers: ['dba'], reviewMode: 'writes' }, { reviewers: ['dba', 'sec'], reviewMode: 'writes' })).toEqual({
      before: { reviewers: ['dba'] },
      after: { reviewers: ['dba', 'sec'] },
    });
  });

  it('shows a change of the password alone as a change of the URL, with neither password in it', () => {
    const d = configChange({ url: 'postgres://app:old-pw@db/shop' }, { url: 'postgres://app:new-pw@db/shop' }, { url: redactDatabaseUrl });
    expect(d).toEqual({ before: { url: 'postgres://app:***@db/shop' }, after: { url: 'postgres://app:***@db/shop' } });
    expect(JSON.stringify(d)).not.toMatch(/old-pw|new-pw/);
  });

  it('leaves an unchanged secret out entirely', () => {
    expect(configChange({ url: 'postgres://app:pw@db/a', name: 'x' }, { url: 'postgres://app:pw@db/a', name: 'y' }, { url: redactDatabaseUrl })).toEqual({ before: { name: 'x' }, after: { name: 'y' } });
  });

  it('redacts a secret set for the first time', () => {
    expect(configChange({ teamsWebhookUrl: null }, { teamsWebhookUrl: 'https://x.example/p?sig=S' }, { teamsWebhookUrl: redactAccessUrl })).toEqual({
      before: { teamsWebhookUrl: null },
      after: { teamsWebhookUrl: expect.stringMatching(/^https:\/\/x\.example\/\*\*\* \(sha256 [0-9a-f]{8}\)$/) },
    });
  });
});
