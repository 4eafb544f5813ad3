// One POST to a receiver: bounded in time, never following a redirect, connecting only to the
// addresses the SSRF check allowed, and keeping at most 1 KB of what the receiver answered.
import http from 'node:http';
import https from 'node:https';
import { checkLiteralHost, ForbiddenDestinationError, pinnedLookup, type ResolveHost } from './ssrf.js';

/** The most of a response body kept in the delivery log. */
export const EXCERPT_BYTES = 1024;

export interface SendOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  resolve?: ResolveHost;
}

/** How an attempt went: a status when the receiver answered, an error otherwise (or for a non-2xx). */
export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** The destination was refused (SSRF) rather than tried. */
  refused: boolean;
}

/** POSTs `body` with `headers` to `url`; never throws. */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const done = (r: Omit<SendResult, 'durationMs'>): SendResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  const target = new URL(url);
  try {
    checkLiteralHost(target, options.allowPrivate);
  } catch (error) {
    return done({ ok: false, statusCode: null, error: `refused: ${(error as Error).message}`, responseExcerpt: null, refused: true });
  }
  return new Promise((resolve) => {
    const lib = target.protocol === 'https:' ? https : http;
    const req = lib.request(target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'hoop-webhooks/1' },
      lookup: pinnedLookup(options),
      // A fresh connection per attempt: a pooled socket may lead to an address checked long ago.
      agent: false,
    });
    let settled = false;
    const finish = (r: Omit<SendResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(done(r));
    };
    // The whole exchange, headers and body, within the bound: a receiver trickling bytes is cut off too.
    const timer = setTimeout(() => finish({ ok: false, statusCode: null, error: `no answer within ${options.timeoutMs / 1000} s`, responseExcerpt: null, refused: false }), options.timeoutMs);
    req.on('error', (error) => {
      const refused = error instanceof ForbiddenDestinationError;
      finish({ ok: false, statusCode: null, error: refused ? `refused: ${error.message}` : describeNetworkError(error), responseExcerpt: null, refused });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const answer = () => {
        const status = res.statusCode ?? 0;
        // PostgreSQL text cannot hold NUL: a binary answer would make the attempt unrecordable.
        const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8').replace(/\u0000/g, '') || null;
        const ok = status >= 200 && status < 300;
        const error = ok ? null : status >= 300 && status < 400 ? `HTTP ${status}: redirects are not followed (location: ${String(res.headers.location ?? 'none').slice(0, 200)})` : `HTTP ${status}`;
        finish({ ok, statusCode: status, error, responseExcerpt: excerpt, refused: false });
      };
      res.on('data', (chunk: Buffer) => {
        if (kept < EXCERPT_BYTES) chunks.push(chunk);
        kept += chunk.length;
        // Enough to log: the rest of a large answer is not worth waiting for.
        if (kept >= EXCERPT_BYTES) answer();
      });
      res.on('end', answer);
      res.on('error', answer);
    });
    req.end(body);
  });
}

function describeNetworkError(error: NodeJS.ErrnoException): string {
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
