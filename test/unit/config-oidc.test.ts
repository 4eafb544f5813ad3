import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SSO = { OIDC_ISSUER_URL: 'https://login.example.com/realms/corp', OIDC_CLIENT_ID: 'hoop', OIDC_CLIENT_SECRET: 's3cret-value', PUBLIC_URL: 'https://hoop.example.com/' };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('loadConfig accepted it');
}

describe('loadConfig: single sign-on (OIDC_*)', () => {
  it('is off when none of the three is set', () => {
    expect(loadConfig({}).oidc).toBeUndefined();
    expect(loadConfig({ OIDC_AUTO_CREATE: 'true', OIDC_GROUPS_CLAIM: 'roles' }).oidc).toBeUndefined();
  });

  it('takes the defaults and the redirect URL under PUBLIC_URL', () => {
    expect(loadConfig(SSO).oidc).toEqual({
      issuerUrl: 'https://login.example.com/realms/corp',
      clientId: 'hoop',
      clientSecret: 's3cret-value',
      autoCreate: false,
      groupsClaim: 'groups',
      scopes: ['openid', 'email', 'profile'],
      redirectUrl: 'https://hoop.example.com/auth/oidc/callback',
    });
  });

  it('takes auto-create, a claim path and scopes', () => {
    const oidc = loadConfig({ ...SSO, OIDC_AUTO_CREATE: 'true', OIDC_GROUPS_CLAIM: ' realm_access.roles ', OIDC_SCOPES: ' openid  email groups ' }).oidc!;
    expect(oidc).toMatchObject({ autoCreate: true, groupsClaim: 'realm_access.roles', scopes: ['openid', 'email', 'groups'] });
  });

  it.each(['OIDC_ISSUER_URL', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'])('refuses the others without %s, naming it, without echoing the secret', (missing) => {
    const env: Record<string, string> = { ...SSO };
    delete env[missing];
    const message = configError(env);
    expect(message).toContain(`${missing}: required when`);
    expect(message).toContain('needs all three');
    expect(message).not.toContain('s3cret-value');
  });

  it('names both missing variables when only one is set', () => {
    const message = configError({ OIDC_CLIENT_ID: 'hoop', PUBLIC_URL: 'https://hoop.example.com' });
    expect(message).toContain('OIDC_ISSUER_URL: required when OIDC_CLIENT_ID is set');
    expect(message).toContain('OIDC_CLIENT_SECRET: required when OIDC_CLIENT_ID is set');
  });

  it('wants PUBLIC_URL, which the provider sends people back to', () => {
    const env: Record<string, string> = { ...SSO };
    delete env.PUBLIC_URL;
    expect(configError(env)).toMatch(/PUBLIC_URL: required with single sign-on.*\/auth\/oidc\/callback/);
  });

  it('takes http issuers on this machine only', () => {
    expect(loadConfig({ ...SSO, OIDC_ISSUER_URL: 'http://127.0.0.1:4000' }).oidc!.issuerUrl).toBe('http://127.0.0.1:4000');
    expect(loadConfig({ ...SSO, OIDC_ISSUER_URL: 'http://localhost:4000/realms/x' }).oidc!.issuerUrl).toBe('http://localhost:4000/realms/x');
    expect(configError({ ...SSO, OIDC_ISSUER_URL: 'http://login.example.com' })).toContain('OIDC_ISSUER_URL: must start with https://');
    expect(configError({ ...SSO, OIDC_ISSUER_URL: 'login.example.com' })).toContain('OIDC_ISSUER_URL: must be the OpenID provider');
  });

  it('wants openid among the scopes, and scope names only', () => {
    expect(configError({ ...SSO, OIDC_SCOPES: 'email profile' })).toContain('OIDC_SCOPES: must include "openid"');
    expect(configError({ ...SSO, OIDC_SCOPES: 'openid "email"' })).toContain('OIDC_SCOPES');
  });

  it('refuses an OIDC_AUTO_CREATE that is not true or false', () => {
    expect(configError({ ...SSO, OIDC_AUTO_CREATE: 'yes' })).toContain('OIDC_AUTO_CREATE');
  });
});
