// What a single sign-on carries from GET /auth/oidc/login to the callback: the state, nonce and
// PKCE verifier it sent to the provider, and the page to land on. It travels in a short-lived
// httpOnly cookie of this browser (so the callback is bound to the browser that started it, and
// every replica can finish a sign-in another began), sealed with AES-256-GCM: a client can neither
// read the verifier nor change a field. The key is derived from OIDC_CLIENT_SECRET, which every
// replica already shares and nobody else has.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const LOGIN_STATE_COOKIE = 'hoop_oidc_login';
/** How long a sign-in may take at the provider, in seconds. */
export const LOGIN_STATE_TTL_SEC = 600;

export interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** A same-origin path (see safeNextPath). */
  next: string;
  /** When the sign-in began, in ms since the epoch. */
  startedAt: number;
}

/** Seals and opens login states with a key derived from the client secret. */
export function createLoginStateSealer(clientSecret: string) {
  const key = Buffer.from(hkdfSync('sha256', clientSecret, 'hoop-approvals', 'oidc login state v1', 32));
  const aad = Buffer.from(LOGIN_STATE_COOKIE);

  function seal(s: LoginState): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad);
    const body = Buffer.concat([cipher.update(JSON.stringify(s), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
  }

  /** The state sealed in `value`, or null when it is missing, forged, changed or too old. */
  function open(value: string | undefined, now = Date.now()): LoginState | null {
    if (!value || value.length > 4096) return null;
    try {
      const raw = Buffer.from(value, 'base64url');
      if (raw.length < 12 + 16 + 2) return null;
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12)).setAAD(aad);
      decipher.setAuthTag(raw.subarray(raw.length - 16));
      const text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
      const s = JSON.parse(text) as LoginState;
      const age = now - s.startedAt;
      if (!(age >= -60_000 && age <= LOGIN_STATE_TTL_SEC * 1000)) return null;
      return s;
    } catch {
      return null;
    }
  }

  return { seal, open };
}

export type LoginStateSealer = ReturnType<typeof createLoginStateSealer>;

/**
 * `next` as a path on this site, or '/' when it is anything else. Only "/x..." is kept: no scheme,
 * no "//host" or "/\host" (browsers read both as another host), no backslash or control character
 * anywhere, and nothing under /auth or /api (a sign-in lands on a page).
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2000) return '/';
  if (!next.startsWith('/') || next.startsWith('//')) return '/';
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, 'http://same-origin.invalid');
  } catch {
    return '/';
  }
  if (url.origin !== 'http://same-origin.invalid') return '/';
  if (/^\/(auth|api)(\/|$)/i.test(url.pathname)) return '/';
  return url.pathname + url.search + url.hash;
}
