// The one way the page talks to the gateway: the same JSON API as the CLI (under /api), plus
// sign-in and sign-out (under /auth). The session cookie is httpOnly, so the page never sees it;
// every request that changes something carries the session's CSRF token in `x-csrf-token`.

/** An answer of `{error: {code, message}}`: the message is meant for people, shown as it is. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

export interface SessionUser {
  id: string;
  email: string;
  name: string | null;
  admin: boolean;
  groups: string[];
  /** How this session was made: with an API key or through single sign-on. */
  method: 'api-key' | 'oidc';
}

export interface SessionInfo {
  user: SessionUser;
  csrfToken: string;
  expiresAt: string;
}

export interface AuthOptions {
  sso: { enabled: boolean };
}

let csrfToken: string | undefined;
let onSignedOut: (() => void) | undefined;

/** Remembers the CSRF token of the session (after sign-in, or when the page loads signed in). */
export function useSessionToken(token: string | undefined): void {
  csrfToken = token;
}

/** Called when the gateway answers 401: the session ended (expired, revoked, signed out elsewhere). */
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

async function send<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', signal: options.signal });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The gateway could not be reached. Check your connection and try again.');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = json?.error;
    if (res.status === 401 && !path.startsWith('/auth/')) onSignedOut?.();
    throw new ApiError(res.status, error?.code ?? 'http', error?.message ?? `The gateway answered ${res.status} ${res.statusText}.`, json);
  }
  return json as T;
}

export const api = {
  get: <T>(path: string, options?: { signal?: AbortSignal }) => send<T>('GET', path, undefined, options),
  post: <T>(path: string, body?: unknown) => send<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => send<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => send<T>('PATCH', path, body ?? {}),
  delete: <T>(path: string) => send<T>('DELETE', path),
};

/** Query string of the defined values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const auth = {
  /** The current session, or null when signed out (with whether SSO is offered). */
  async current(): Promise<{ session: SessionInfo | null; ended?: string; options: AuthOptions }> {
    const r = await send<(SessionInfo | { user: null; ended?: string }) & AuthOptions>('GET', '/auth/session');
    return { session: r.user ? (r as SessionInfo) : null, ended: r.user ? undefined : (r as { ended?: string }).ended, options: { sso: r.sso } };
  },
  signIn: (apiKey: string) => send<SessionInfo & AuthOptions>('POST', '/auth/session', { apiKey }),
  signOut: () => send<void>('DELETE', '/auth/session'),
};
