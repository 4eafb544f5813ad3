// The CLI's only way to the gateway: its HTTP API.
import type { ReviewView } from '../contracts/review-view.js';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT } from './exit-codes.js';
import { CLI_USER_AGENT } from './version.js';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  body: any;
}

/** No HTTP answer at all (refused, reset): the gateway is down, or restarting. */
export class UnreachableError extends CliError {
  constructor(
    message: string,
    /** Refused: the request never reached a gateway, so nothing was done. */
    readonly refused: boolean,
    /** What broke (the network error), for a message of the caller's own. */
    readonly detail: string,
  ) {
    super(message, EXIT.unreachable);
  }
}

/** While waiting on a review, how long an unreachable gateway is waited out (a restart or a deploy). */
export const UNREACHABLE_WAIT_MS = 60_000;

export class GatewayClient {
  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
    /** Headers sent with every request besides the key's (`hoop mcp`: the MCP client it relays). */
    private readonly extraHeaders: () => Record<string, string> = () => ({}),
  ) {}

  /** Calls the API; resolves with the JSON body of a 2xx, throws CliError otherwise (408 aside). */
  async request<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal; allow?: number[] } = {}): Promise<{ status: number; body: T; retryAfterSec?: number }> {
    let res: Response;
    try {
      res = await fetch(this.apiUrl + path, {
        method,
        headers: { ...this.extraHeaders(), authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'user-agent': CLI_USER_AGENT },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as Error).cause as { code?: string } | undefined;
      const detail = String(cause ?? (error as Error).message);
      throw new UnreachableError(`Cannot reach the gateway at ${this.apiUrl} (${detail}). Check the URL (hoop login) and that the gateway runs.`, cause?.code === 'ECONNREFUSED', detail);
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new CliError(`The gateway at ${this.apiUrl} answered ${res.status} with something that is not JSON; is that URL a hoop gateway?`, EXIT.unreachable);
    }
    if (res.ok || options.allow?.includes(res.status)) return { status: res.status, body: json as T, retryAfterSec: Number(res.headers.get('retry-after')) || undefined };
    const message = json?.error?.message ?? `HTTP ${res.status}`;
    if (res.status === 401) throw new CliError(`Authentication failed: ${message}`, EXIT.unreachable);
    if (res.status === 429 || res.status === 503) throw new CliError(message, EXIT.unreachable);
    if (res.status >= 500) throw new CliError(`The gateway failed: ${message}`, EXIT.unreachable);
    throw new CliError(message, EXIT.usage);
  }

  /**
   * The review; with waitSec, a long-poll that waits out a busy gateway (503), a key with all its
   * long-polls open (429) and, for up to UNREACHABLE_WAIT_MS, a gateway that does not answer at
   * all: a stopping gateway answers its long-polls at once and a restart takes a few seconds.
   */
  async getReview(id: string, waitSec?: number, signal?: AbortSignal, onUnreachable?: (error: UnreachableError) => void): Promise<{ status: number; review: ReviewView }> {
    const q = waitSec === undefined ? '' : `?wait=${waitSec}`;
    let unreachableSince: number | undefined;
    for (;;) {
      let res;
      try {
        res = await this.request<any>('GET', `/api/reviews/${encodeURIComponent(id)}${q}`, undefined, { signal, allow: waitSec === undefined ? [408] : [408, 429, 503] });
      } catch (error) {
        if (waitSec === undefined || !(error instanceof UnreachableError)) throw error;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince >= UNREACHABLE_WAIT_MS) throw error;
        onUnreachable?.(error);
        await sleep(1000, signal);
        continue;
      }
      unreachableSince = undefined;
      if (res.status === 429 || res.status === 503) {
        await sleep(Math.min(res.retryAfterSec ?? 2, 30) * 1000, signal);
        continue;
      }
      return { status: res.status, review: res.status === 408 ? res.body.review : res.body };
    }
  }

  /**
   * Streams the body of a GET (an export) into `sink` as it arrives, with the sink's backpressure;
   * an error answer throws as `request` does. Resolves with the bytes written.
   */
  async download(path: string, sink: NodeJS.WritableStream, options: { end?: boolean } = {}): Promise<number> {
    let res: Response;
    try {
      res = await fetch(this.apiUrl + path, { headers: { authorization: `Bearer ${this.apiKey}`, 'user-agent': CLI_USER_AGENT } });
    } catch (error) {
      const cause = (error as Error).cause as { code?: string } | undefined;
      const detail = String(cause ?? (error as Error).message);
      throw new UnreachableError(`Cannot reach the gateway at ${this.apiUrl} (${detail}). Check the URL (hoop login) and that the gateway runs.`, cause?.code === 'ECONNREFUSED', detail);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      let message = `HTTP ${res.status}`;
      try {
        message = JSON.parse(text)?.error?.message ?? message;
      } catch {
        // not JSON: the status says enough
      }
      if (res.status === 401) throw new CliError(`Authentication failed: ${message}`, EXIT.unreachable);
      throw new CliError(res.status >= 500 ? `The gateway failed: ${message}` : message, res.status === 429 || res.status >= 500 ? EXIT.unreachable : EXIT.usage);
    }
    let bytes = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => (bytes += chunk.length));
    try {
      await pipeline(body, sink, { end: options.end ?? true });
    } catch (error) {
      throw new CliError(`The export was cut off after ${bytes} bytes (${(error as Error).message}); what was written is incomplete. Run it again.`, EXIT.unreachable);
    }
    return bytes;
  }

  /** Follows `nextCursor` of a list endpoint until `max` items (or the last page). */
  async list<T>(path: string, field: string, max = Infinity): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const limit = Math.min(200, max - items.length);
      const sep = path.includes('?') ? '&' : '?';
      const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res: { body: Record<string, unknown> } = await this.request<Record<string, unknown>>('GET', url);
      items.push(...((res.body[field] as T[]) ?? []));
      cursor = (res.body.nextCursor as string | null) ?? null;
    } while (cursor && items.length < max);
    return items.slice(0, max);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))), { once: true });
  });
}
