import { describe, expect, it } from 'vitest';
import { createLoginStateSealer, LOGIN_STATE_TTL_SEC, safeNextPath, type LoginState } from '../../src/gateway/oidc-login-state.js';
import { claimAt, groupsFromClaim } from '../../src/service/sso-sign-in.js';

const STATE: LoginState = { state: 'st', nonce: 'no', codeVerifier: 'ver', next: '/reviews', startedAt: 1_000_000 };

describe('the sealed sign-in cookie', () => {
  const sealer = createLoginStateSealer('client-secret-1');

  it('opens what it sealed, without showing the verifier', () => {
    const value = sealer.seal(STATE);
    expect(value).not.toContain('ver');
    expect(Buffer.from(value, 'base64url').toString('latin1')).not.toContain('"codeVerifier"');
    expect(sealer.open(value, STATE.startedAt + 1000)).toEqual(STATE);
  });

  it('refuses a changed byte, another secret, garbage and nothing', () => {
    const value = sealer.seal(STATE);
    const raw = Buffer.from(value, 'base64url');
    raw[20] ^= 1;
    expect(sealer.open(raw.toString('base64url'), STATE.startedAt)).toBeNull();
    expect(createLoginStateSealer('client-secret-2').open(value, STATE.startedAt)).toBeNull();
    expect(sealer.open('not-a-cookie', STATE.startedAt)).toBeNull();
    expect(sealer.open(undefined)).toBeNull();
  });

  it('refuses it after ten minutes', () => {
    const value = sealer.seal(STATE);
    expect(sealer.open(value, STATE.startedAt + LOGIN_STATE_TTL_SEC * 1000)).toEqual(STATE);
    expect(sealer.open(value, STATE.startedAt + LOGIN_STATE_TTL_SEC * 1000 + 1)).toBeNull();
  });
});

describe('safeNextPath', () => {
  it.each(['/', '/reviews', '/reviews/0b6f?status=pending#top', '/connections/a%2Fb'])('keeps the same-site path %j', (next) => {
    expect(safeNextPath(next)).toBe(next);
  });

  it.each([
    '//evil.example.com',
    '//evil.example.com/reviews',
    '/\\evil.example.com',
    '\\\\evil.example.com',
    '/reviews\\..\\x',
    'https://evil.example.com',
    'http:/evil.example.com',
    'javascript:alert(1)',
    'evil.example.com',
    '/\t/evil.example.com',
    '/%0a/x\n',
    '',
    '/api/me',
    '/auth/oidc/login',
    '/AUTH/session',
  ])('turns %j into /', (next) => {
    expect(safeNextPath(next)).toBe('/');
  });

  it('turns a non-string or a huge one into /', () => {
    expect(safeNextPath(['/a', '/b'])).toBe('/');
    expect(safeNextPath(undefined)).toBe('/');
    expect(safeNextPath(`/${'a'.repeat(3000)}`)).toBe('/');
  });
});

describe('the groups claim', () => {
  it('reads a name, a dotted path, and a name that holds dots', () => {
    expect(claimAt({ groups: ['a'] }, 'groups')).toEqual(['a']);
    expect(claimAt({ realm_access: { roles: ['dba'] } }, 'realm_access.roles')).toEqual(['dba']);
    expect(claimAt({ 'https://example.com/groups': ['x'] }, 'https://example.com/groups')).toEqual(['x']);
    expect(claimAt({ realm_access: ['x'] }, 'realm_access.roles')).toBeUndefined();
    expect(claimAt({}, 'constructor')).toBeUndefined();
  });

  it('is absent when the claim is, so groups stay as they are', () => {
    expect(groupsFromClaim({ email: 'a@b.c' }, 'groups')).toBeUndefined();
    expect(groupsFromClaim({ groups: null }, 'groups')).toBeUndefined();
  });

  it('takes an empty list as no groups', () => {
    expect(groupsFromClaim({ groups: [] }, 'groups')).toEqual({ groups: [], ignored: [] });
  });

  it('keeps names hoop can use, sorted and once, and reports the others', () => {
    expect(groupsFromClaim({ groups: ['sre', ' dba ', 'dba', 'Domain Users', '/admins', ''] }, 'groups')).toEqual({ groups: ['dba', 'sre'], ignored: ['Domain Users', '/admins'] });
    expect(groupsFromClaim({ groups: 'dba' }, 'groups')).toEqual({ groups: ['dba'], ignored: [] });
  });

  it('refuses a claim that is not a list of names, in words', () => {
    expect(() => groupsFromClaim({ groups: [1, 2] }, 'groups')).toThrow(/"groups" claim \(OIDC_GROUPS_CLAIM\) is not a list of group names/);
    expect(() => groupsFromClaim({ groups: { a: 1 } }, 'groups')).toThrow(/not a list/);
    expect(() => groupsFromClaim({ groups: Array.from({ length: 1001 }, (_, i) => `g${i}`) }, 'groups')).toThrow(/1001 groups/);
  });
});
