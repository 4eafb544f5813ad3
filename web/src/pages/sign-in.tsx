// Sign-in: an API key exchanged for a session cookie, or single sign-on when the gateway offers it.
import { useState, type FormEvent } from 'react';
import { auth, type AuthOptions, type SessionInfo } from '../api.ts';
import { ErrorMessage } from '../components/common.tsx';

/**
 * The gateway sends a refused single sign-on back as `/?sso_error=<words>`. Anyone can make such a
 * link, so the words are shown only when this tab started a sign-in with SSO (a mark in its
 * sessionStorage, which other sites cannot write): a link's words never pose as the gateway's.
 */
const SSO_STARTED = 'hoop-sso-started';
let ssoStartedHere: boolean | undefined;
function consumeSsoStarted(): boolean {
  if (ssoStartedHere === undefined) {
    try {
      ssoStartedHere = sessionStorage.getItem(SSO_STARTED) === '1';
      sessionStorage.removeItem(SSO_STARTED);
    } catch {
      ssoStartedHere = false;
    }
  }
  return ssoStartedHere;
}
function markSsoStarted(): void {
  try {
    sessionStorage.setItem(SSO_STARTED, '1');
  } catch {
    // No storage: a refusal then shows no words, and the person can start again.
  }
}

export function SignIn({ options, onSignedIn, notice }: { options: AuthOptions; onSignedIn: (s: SessionInfo) => void; notice?: string }) {
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = new URLSearchParams(location.search).get('next') ?? location.pathname;
  const ssoError = consumeSsoStarted() ? new URLSearchParams(location.search).get('sso_error') : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await auth.signIn(apiKey.trim()));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>hoop approvals</h1>
      {notice ? <p className="notice">{notice}</p> : null}
      {ssoError ? <div role="alert" className="error">{ssoError}</div> : null}
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="api-key">API key</label>
        <input id="api-key" name="apiKey" type="password" autoComplete="off" required value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
        <p className="hint">
          Your key is the one <code>hoop login</code> uses; an admin makes one with <code>hoop admin create user</code>.
        </p>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || !apiKey.trim()}>
          Sign in
        </button>
      </form>
      {options.sso.enabled ? (
        <p className="sso">
          <a className="button secondary" onClick={markSsoStarted} href={`/auth/oidc/login?next=${encodeURIComponent(next.startsWith('/') ? next : '/')}`}>
            Sign in with SSO
          </a>
        </p>
      ) : null}
    </main>
  );
}
