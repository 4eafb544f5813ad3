// A real OpenID provider (the `oidc-provider` package) run in the test process on 127.0.0.1, for
// the single sign-on tests: one confidential client (the test gateway), accounts the test defines
// and may change between sign-ins, and oidc-provider's development login form (any password; the
// login names the account). Consent is taken as given for our client, as a company IdP does for a
// first-party app, so a sign-in is: the login form, then straight back to the gateway.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { CookieJar } from '../helpers/cookie-jar.js';

/** The claims an account has at the provider (besides `sub`, its id). */
export interface FakeAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  /** Absent: the provider sends no groups claim at all. */
  groups?: string[];
}

export interface FakeOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by id (`sub`); change them between sign-ins as an IdP admin would. */
  accounts: Map<string, FakeAccount>;
  /** The gateway variables that point single sign-on at this provider. */
  env(publicUrl: string): Record<string, string>;
  /**
   * Plays the person at the provider: from the authorization URL the gateway redirected to,
   * through the login form (as `accountId`), to the redirect back; returns that URL unvisited.
   */
  logIn(jar: CookieJar, authorizationUrl: string, accountId: string): Promise<URL>;
  close(): Promise<void>;
}

export interface FakeOidcOptions {
  /** The redirect URIs registered for the client (the gateway's PUBLIC_URL/auth/oidc/callback). */
  redirectUris: string[];
  accounts?: Record<string, FakeAccount>;
}

/** Starts the provider on a random port of 127.0.0.1. */
export async function startFakeOidcProvider(options: FakeOidcOptions): Promise<FakeOidcProvider> {
  const clientId = 'hoop-gateway';
  const clientSecret = randomBytes(24).toString('base64url');
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  // The issuer must be known before the provider exists: listen first, hand requests over after.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server: Server = createServer((req, res) => handler!(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris, grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' }],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] as any },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    // Every client must use PKCE here, so a gateway that forgot it would fail the tests.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    // Set, so oidc-provider does not warn about its defaults at every token.
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    async findAccount(_ctx: unknown, sub: string) {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...accounts.get(sub) }) };
    },
    async loadExistingGrant(ctx: any) {
      const known = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (known) return ctx.oidc.provider.Grant.find(known);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(String(ctx.oidc.params.scope ?? 'openid'));
      await grant.save();
      return grant;
    },
  });
  handler = provider.callback();

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    env: (publicUrl) => ({ OIDC_ISSUER_URL: issuer, OIDC_CLIENT_ID: clientId, OIDC_CLIENT_SECRET: clientSecret, PUBLIC_URL: publicUrl, OIDC_SCOPES: 'openid email profile groups' }),
    async logIn(jar, authorizationUrl, accountId) {
      let url = new URL(authorizationUrl);
      for (let hop = 0; hop < 10; hop++) {
        if (url.origin !== issuer) return url;
        const res = await jar.fetch(url);
        const location = res.headers.get('location');
        if (location) {
          url = new URL(location, url);
          continue;
        }
        const html = await res.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
        if (res.status !== 200 || !action || !html.includes('name="login"')) throw new Error(`The provider answered ${res.status} without a login form: ${html.slice(0, 500)}`);
        const posted = await jar.fetch(new URL(action.replaceAll('&amp;', '&'), url), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ prompt: 'login', login: accountId, password: 'any' }).toString(),
        });
        const after = posted.headers.get('location');
        if (!after) throw new Error(`The login form's answer was ${posted.status} without a redirect: ${(await posted.text()).slice(0, 500)}`);
        url = new URL(after, url);
      }
      throw new Error('The provider redirected more than 10 times');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
