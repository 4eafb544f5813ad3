// The relying party's side of single sign-on, through openid-client: discovery of the provider
// (once, kept; retried on the next sign-in when the provider did not answer), the authorization
// URL with state, nonce and PKCE (S256), and the callback's checks. openid-client verifies the
// state, the code exchange with the PKCE verifier, and the ID token's signature, issuer, audience,
// expiry and nonce; this file only turns its answers and errors into claims or words.
import * as oidc from 'openid-client';
import type { OidcConfig } from '../config.js';
import { AppError, ErrorCode } from '../errors.js';
import type { LoginState } from './oidc-login-state.js';

/** Who the provider says signed in: the ID token's claims, completed by the UserInfo endpoint's. */
export interface OidcIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

/** Seconds the provider has to answer each request. */
const PROVIDER_TIMEOUT_SEC = 10;

/** A sign-in that cannot go on, with words for the person (they land on the sign-in page). */
function refused(message: string, cause?: unknown): AppError {
  return new AppError(ErrorCode.Unauthenticated, message, { cause });
}

/** What went wrong at the provider, in words that quote nothing an attacker could have written. */
function describe(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError) {
    // The provider's own answer (e.g. access_denied): its code is a fixed word; its description
    // arrives in the URL, which anyone can forge, so it is not shown.
    const code = /^[a-z_]{1,40}$/.test(error.error) ? error.error : 'an error';
    return code === 'access_denied' ? 'The sign-in was cancelled or denied at the sign-in provider.' : `The sign-in provider answered with ${code}.`;
  }
  if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
    return 'The sign-in provider no longer accepts this sign-in (it was used already or took too long).';
  }
  return 'The answer of the sign-in provider could not be verified.';
}

/** The OpenID client of one configured provider. */
export function createOidcClient(config: OidcConfig) {
  let discovered: Promise<oidc.Configuration> | undefined;

  /** The provider's metadata, fetched at the first sign-in and kept (fetched again after a failure). */
  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(new URL(config.issuerUrl), config.clientId, { client_secret: config.clientSecret }, oidc.ClientSecretBasic(config.clientSecret), {
        timeout: PROVIDER_TIMEOUT_SEC,
        // http is accepted by config for localhost only (a local provider, the tests).
        execute: new URL(config.issuerUrl).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      })
      .catch((cause: unknown) => {
        discovered = undefined;
        throw new AppError(ErrorCode.Unavailable, `The sign-in provider (${config.issuerUrl}) did not answer; try again in a minute, or sign in with an API key.`, { cause });
      });
    return discovered;
  }

  /** A new sign-in: where to send the browser, and what the callback will need to check. */
  async function begin(next: string, now = Date.now()): Promise<{ url: string; state: LoginState }> {
    const c = await configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state: LoginState = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier, next, startedAt: now };
    const url = oidc.buildAuthorizationUrl(c, {
      redirect_uri: config.redirectUrl,
      scope: config.scopes.join(' '),
      response_type: 'code',
      state: state.state,
      nonce: state.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, state };
  }

  /** Checks the provider's redirect back (`callbackUrl`) against `state` and returns who signed in. */
  async function finish(callbackUrl: URL, state: LoginState): Promise<OidcIdentity> {
    const c = await configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(c, callbackUrl, { expectedState: state.state, expectedNonce: state.nonce, pkceCodeVerifier: state.codeVerifier, idTokenExpected: true });
    } catch (cause) {
      throw refused(`${describe(cause)} Start again from the sign-in page.`, cause);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw refused('The sign-in provider sent no ID token. Start again from the sign-in page.');
    let userInfo: Record<string, unknown> = {};
    // Providers put email and groups in the ID token or only at the UserInfo endpoint (oidc-provider
    // does the latter for the code flow): ask it when there is one. Its `sub` must be the token's.
    if (c.serverMetadata().userinfo_endpoint) {
      try {
        userInfo = await oidc.fetchUserInfo(c, tokens.access_token, idClaims.sub);
      } catch (cause) {
        throw refused('The sign-in provider did not tell who signed in (its UserInfo answer was refused). Try again; tell an admin if it persists.', cause);
      }
    }
    // The signed ID token wins where both say something.
    return { issuer: idClaims.iss, subject: idClaims.sub, claims: { ...userInfo, ...idClaims } };
  }

  return { begin, finish };
}

export type OidcClient = ReturnType<typeof createOidcClient>;
