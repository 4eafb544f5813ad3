// A browser's cookie jar for fetch, enough for redirect dances in tests: cookies are kept per host
// (not per port, as browsers do) and path, expire by Max-Age/Expires, and are sent back on
// matching requests. Redirects are not followed here: the tests look at each hop.

interface StoredCookie {
  name: string;
  value: string;
  host: string;
  path: string;
  expiresAt?: number;
  httpOnly: boolean;
  sameSite?: string;
}

export class CookieJar {
  private cookies: StoredCookie[] = [];

  /** fetch with this jar's cookies, storing what the answer sets; `redirect: 'manual'`. */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.header(u);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(u, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) this.store(u, line);
    return res;
  }

  /** The Cookie header a request to `url` carries. */
  header(url: URL): string {
    this.dropExpired();
    return this.cookies
      .filter((c) => c.host === url.hostname && (url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The cookie `name` as stored (for assertions on its attributes), if any. */
  get(name: string): StoredCookie | undefined {
    this.dropExpired();
    return this.cookies.find((c) => c.name === name);
  }

  /** Sets (or overwrites) a cookie as a script or an attacker would. */
  set(url: string, name: string, value: string, path = '/'): void {
    this.store(new URL(url), `${name}=${value}; Path=${path}`);
  }

  /** A copy of this jar (another tab of the same browser would share it; a copy is a snapshot). */
  clone(): CookieJar {
    const jar = new CookieJar();
    jar.cookies = this.cookies.map((c) => ({ ...c }));
    return jar;
  }

  private store(url: URL, line: string): void {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const cookie: StoredCookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), host: url.hostname, path: url.pathname.replace(/\/[^/]*$/, '') || '/', httpOnly: false };
    for (const attr of attrs) {
      const [k, v = ''] = attr.split('=');
      const key = k.toLowerCase();
      if (key === 'path') cookie.path = v || '/';
      else if (key === 'max-age') cookie.expiresAt = Date.now() + Number(v) * 1000;
      else if (key === 'expires' && cookie.expiresAt === undefined) cookie.expiresAt = Date.parse(v);
      else if (key === 'httponly') cookie.httpOnly = true;
      else if (key === 'samesite') cookie.sameSite = v;
    }
    this.cookies = this.cookies.filter((c) => !(c.name === cookie.name && c.host === cookie.host && c.path === cookie.path));
    if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.cookies.push(cookie);
  }

  private dropExpired(): void {
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expiresAt === undefined || c.expiresAt > now);
  }
}
