// POSTs a card to a Teams Workflows webhook URL and turns the answer into what the channel worker
// understands: nothing (accepted), RetryLater (429 Retry-After), PermanentFailure (a 4xx no retry
// fixes), or a plain Error (5xx, network, timeout: retried with backoff).
//
// A Workflows URL carries a signature in its query (`sig=`) that lets anyone post to the channel:
// it is a secret. Every message this file makes names the URL without its query.
import { PermanentFailure, RetryLater } from '../channel.js';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface TeamsPostOptions {
  fetch?: FetchLike;
  /** How long to wait for Workflows' answer (15 s by default); past it the outcome is unknown. */
  timeoutMs?: number;
  /** For an HTTP-date Retry-After. */
  now?: () => Date;
}

/** Retry-After when Teams gives none, and the longest we accept (a day-long one is a bug, not a plan). */
const DEFAULT_RETRY_SEC = 30;
const MAX_RETRY_SEC = 3600;
const EXCERPT_CHARS = 300;

/** `url` with its query and fragment replaced by a marker: safe for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.search || u.hash ? '?[redacted]' : '';
    return `${u.protocol}//${u.host}${u.pathname}${hidden}`;
  } catch {
    return '[an invalid URL]';
  }
}

/** `text` with every occurrence of the URL's query (or its sig value) replaced, for text that might echo it. */
function scrub(text: string, url: string): string {
  let out = text;
  try {
    const u = new URL(url);
    const secrets = [u.search.slice(1), u.searchParams.get('sig') ?? '', encodeURIComponent(u.searchParams.get('sig') ?? '')].filter((s) => s.length >= 4);
    for (const s of secrets) out = out.split(s).join('[redacted]');
  } catch {
    // nothing to scrub: the URL did not parse
  }
  return out.replace(/([?&]sig=)[^&\s"']+/gi, '$1[redacted]');
}

/** Seconds to wait from a Retry-After header: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number {
  if (!value) return DEFAULT_RETRY_SEC;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    // An HTTP date starts with a day name ("Mon, 30 Nov 2026 12:00:45 GMT"); Date.parse takes "-5" too.
    const at = /^[A-Za-z]{3},? /.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
    if (Number.isNaN(at)) return DEFAULT_RETRY_SEC;
    seconds = Math.ceil((at - now.getTime()) / 1000);
  }
  return Math.min(MAX_RETRY_SEC, Math.max(1, seconds));
}

async function excerpt(res: Response, url: string): Promise<string> {
  try {
    const body = (await res.text()).replace(/\s+/g, ' ').trim();
    return scrub(body.length > EXCERPT_CHARS ? `${body.slice(0, EXCERPT_CHARS)}…` : body, url);
  } catch {
    return '';
  }
}

/** Posts `body` (a Workflows message) to `url`. Resolves when Teams accepted it (2xx). */
export async function postToTeams(url: string, body: unknown, options: TeamsPostOptions = {}): Promise<void> {
  const doFetch = options.fetch ?? ((u, init) => fetch(u, init));
  const timeoutMs = options.timeoutMs ?? 15_000;
  const where = redactUrl(url);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
      // A Workflows URL answers itself; a redirect would carry the signed query elsewhere.
      redirect: 'manual',
    });
  } catch (error) {
    clearTimeout(timer);
    if (controller.signal.aborted) {
      throw new Error(`Teams did not answer within ${timeoutMs} ms at ${where}; the card may or may not have been posted (a Workflows webhook cannot be asked), so the job is retried`);
    }
    const reason = error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error);
    throw new Error(`Teams could not be reached at ${where}: ${scrub(reason, url)}`);
  }
  try {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 429) {
      const after = parseRetryAfter(res.headers.get('retry-after'), options.now?.() ?? new Date());
      throw new RetryLater(after, `Teams is rate-limiting posts to ${where} (HTTP 429); trying again in ${after} s`);
    }
    const detail = await excerpt(res, url);
    const said = detail ? `: ${detail}` : '';
    if (res.status === 408 || res.status >= 500) throw new Error(`Teams answered HTTP ${res.status} at ${where}${said}`);
    throw new PermanentFailure(
      `Teams refused the post to ${where} with HTTP ${res.status}${said}. Check the Workflows URL (TEAMS_WEBHOOK_URL or the connection's teamsWebhookUrl): the flow may be off, deleted or its URL changed.`,
    );
  } finally {
    clearTimeout(timer);
    // Free the connection when nobody read the body.
    if (!res.bodyUsed) await res.body?.cancel().catch(() => {});
  }
}
