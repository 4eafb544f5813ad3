import { describe, expect, it } from 'vitest';
import { PermanentFailure, RetryLater } from '../../src/notify/channel.js';
import { parseRetryAfter, postToTeams, redactUrl } from '../../src/notify/teams/teams-client.js';
import { rejectionOf } from '../helpers/rejection.js';

const URL_WITH_SIG = 'https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=S3cr3tSig_value';
const SECRET = 'S3cr3tSig_value';

const failure = rejectionOf;

describe('redactUrl', () => {
  it('keeps where the URL points and drops its query and fragment', () => {
    expect(redactUrl(URL_WITH_SIG)).toBe('https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?[redacted]');
    expect(redactUrl('https://example.com/hook#sig=x')).toBe('https://example.com/hook?[redacted]');
    expect(redactUrl('https://example.com/hook')).toBe('https://example.com/hook');
    expect(redactUrl('not a url ?sig=x')).toBe('[an invalid URL]');
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  it.each([
    ['12', 12],
    [' 3 ', 3],
    ['0', 1],
    ['Mon, 30 Nov 2026 12:00:45 GMT', 45],
    ['Mon, 30 Nov 2026 11:00:00 GMT', 1],
    ['999999', 3600],
    ['soon', 30],
    ['-5', 30],
    [null, 30],
  ])('reads %j as %i seconds', (value, seconds) => {
    expect(parseRetryAfter(value, now)).toBe(seconds);
  });
});

describe('postToTeams', () => {
  const answer = (status: number, body = '', headers: Record<string, string> = {}) => async () => new Response(status === 204 ? null : body, { status, headers });

  it('resolves on 200 and 202', async () => {
    await postToTeams(URL_WITH_SIG, {}, { fetch: answer(202) });
    await postToTeams(URL_WITH_SIG, {}, { fetch: answer(200, '1') });
  });

  it.each([400, 401, 403, 404, 410, 413, 301])('%i is a PermanentFailure with the status and an excerpt, without the secret', async (status) => {
    const e = await failure(postToTeams(URL_WITH_SIG, {}, { fetch: answer(status, `{"error":"bad","url":"${URL_WITH_SIG}"} ${'x'.repeat(2000)}`) }));
    expect(e).toBeInstanceOf(PermanentFailure);
    expect(e.message).toContain(`HTTP ${status}`);
    expect(e.message).toContain('"error":"bad"');
    expect(e.message.length).toBeLessThan(800);
    expect(e.message).not.toContain(SECRET);
  });

  it.each([408, 500, 502, 503, 504])('%i is a plain error, retried with backoff', async (status) => {
    const e = await failure(postToTeams(URL_WITH_SIG, {}, { fetch: answer(status, `failed for ${URL_WITH_SIG}`) }));
    expect(e).not.toBeInstanceOf(PermanentFailure);
    expect(e).not.toBeInstanceOf(RetryLater);
    expect(e.message).toContain(`HTTP ${status}`);
    expect(e.message).not.toContain(SECRET);
  });

  it('429 is RetryLater after Retry-After', async () => {
    const e = await failure(postToTeams(URL_WITH_SIG, {}, { fetch: answer(429, '', { 'retry-after': '9' }) }));
    expect(e).toBeInstanceOf(RetryLater);
    expect((e as RetryLater).retryAfterSec).toBe(9);
    expect(e.message).not.toContain(SECRET);
  });

  it('a network error is a plain error that names the host, never the signature, even when the cause quotes the URL', async () => {
    const fetch = async (u: string) => {
      throw new TypeError('fetch failed', { cause: new Error(`getaddrinfo ENOTFOUND while fetching ${u}`) });
    };
    const e = await failure(postToTeams(URL_WITH_SIG, {}, { fetch }));
    expect(e).not.toBeInstanceOf(PermanentFailure);
    expect(e.message).toContain('prod-12.westeurope.logic.azure.com');
    expect(e.message).toContain('ENOTFOUND');
    expect(e.message).not.toContain(SECRET);
  });

  it('sends JSON by POST, and does not follow redirects', async () => {
    let seen: RequestInit | undefined;
    await postToTeams(URL_WITH_SIG, { type: 'message' }, { fetch: async (_u, init) => ((seen = init), new Response(null, { status: 202 })) });
    expect(seen).toMatchObject({ method: 'POST', body: '{"type":"message"}', redirect: 'manual', headers: { 'content-type': 'application/json' } });
  });
});
