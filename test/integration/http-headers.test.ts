// Security headers and the CORS policy, on every kind of answer the gateway gives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ slack: false });
});

afterAll(async () => {
  await t?.stop();
});

const ORIGIN = 'https://evil.example';

async function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Response> {
  return fetch(t.baseUrl + path, { method, headers: { origin: ORIGIN, ...headers }, body });
}

// One of each: success, 401, 400, 404 (API and elsewhere), health, Slack switched off, a write
// (a new user each time, so every call is the same answer).
let made = 0;
const ANSWERS: [string, () => Promise<Response>, number][] = [
  ['GET /api/me', () => send('GET', '/api/me', { authorization: `Bearer ${ADMIN_KEY}` }), 200],
  ['GET /api/me without a key', () => send('GET', '/api/me'), 401],
  ['GET /api/reviews with a bad query', () => send('GET', '/api/reviews?limit=0', { authorization: `Bearer ${ADMIN_KEY}` }), 400],
  ['an unknown API route', () => send('GET', '/api/nowhere', { authorization: `Bearer ${ADMIN_KEY}` }), 404],
  ['an unknown path', () => send('GET', '/no-such-file.txt'), 404],
  ['GET /healthz', () => send('GET', '/healthz'), 200],
  ['POST /slack/events with Slack off', () => send('POST', '/slack/events', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'), 503],
  ['POST /api/users', () => send('POST', '/api/users', { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, JSON.stringify({ email: `h${++made}@example.com` })), 201],
];

describe('security headers', () => {
  it.each(ANSWERS)('%s carries nosniff, DENY framing, a no-frame CSP, no-store and no X-Powered-By', async (_name, call, status) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.has('x-powered-by')).toBe(false);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
  });
});

describe('CORS', () => {
  it.each(ANSWERS)('%s grants no origin, even one that asks', async (_name, call, status) => {
    const res = await call();
    expect(res.status).toBe(status);
    for (const h of ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers']) {
      expect(res.headers.has(h), h).toBe(false);
    }
  });

  it.each([
    ['/api/reviews/00000000-0000-0000-0000-000000000000/approve', 'PUT'],
    ['/api/connections/prod-db/exec', 'POST'],
    ['/api/me', 'GET'],
    ['/slack/events', 'POST'],
  ])('refuses the preflight of %s (%s) with a sentence and no CORS headers', async (path, method) => {
    const res = await send('OPTIONS', path, { 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' });
    expect(res.status).toBe(403);
    expect(res.headers.has('access-control-allow-origin')).toBe(false);
    expect(res.headers.has('access-control-allow-methods')).toBe(false);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await res.json()).error.message).toContain('does not allow cross-origin requests');
  });
});
