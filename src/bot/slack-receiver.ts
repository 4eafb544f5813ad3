import { verifySlackRequest, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../logger.js';

export interface SlackHttpRequest {
  rawBody: string;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface SlackHttpResponse {
  status: number;
  body: string;
  contentType: string;
}

export interface SlackReceiverOptions {
  signingSecret: string;
  log: Logger;
  /** Max distance of x-slack-request-timestamp from now, either way. */
  maxSkewSec?: number;
  /** How long to wait for a listener's ack() before answering Slack anyway. */
  ackTimeoutMs?: number;
  now?: () => number;
  /**
   * Remembers a verified request's signature for `ttlSec`; false when it was already seen (a
   * replay). Shared by every replica (Redis), so a replay is refused whichever one it reaches.
   * Without it, only the timestamp window limits replays.
   */
  firstSeen?: (signature: string, ttlSec: number) => Promise<boolean>;
}

const header = (h: SlackHttpRequest['headers'], name: string) => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

// PostgreSQL text cannot hold U+0000: one in a command's text or a modal's reason would fail its
// write halfway. Slack's answers leave no room for an error at that point (a button click, a modal
// already closed), so it becomes U+FFFD, the replacement character, and the rest is kept as sent.
const noNul = (s: string) => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const revive = (_key: string, value: unknown) => (typeof value === 'string' ? noNul(value) : value);

function parseBody(rawBody: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.includes('application/json')) return JSON.parse(rawBody, revive);
  const form = Object.fromEntries([...new URLSearchParams(rawBody)].map(([k, v]) => [k, noNul(v)]));
  // Interactivity (buttons, modals) arrives as a form with one JSON `payload` field.
  if (typeof form.payload === 'string') return JSON.parse(form.payload, revive);
  return form;
}

/**
 * A Bolt receiver mounted on the gateway's own HTTP server (one port for the API and Slack).
 * It verifies every request before Bolt sees it, refusing timestamps too far in the past *or*
 * the future (Bolt's own check only refuses old ones), then hands the event to the real Bolt App.
 */
export class GatewaySlackReceiver implements Receiver {
  private app?: App;
  private readonly opts: Required<Omit<SlackReceiverOptions, 'log' | 'firstSeen'>> & Pick<SlackReceiverOptions, 'log' | 'firstSeen'>;

  constructor(options: SlackReceiverOptions) {
    this.opts = { maxSkewSec: 300, ackTimeoutMs: 2500, now: Date.now, ...options };
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  /** Why the request is not from Slack, or null when its signature and timestamp are good. */
  verify(req: SlackHttpRequest): string | null {
    const signature = header(req.headers, 'x-slack-signature');
    const tsHeader = header(req.headers, 'x-slack-request-timestamp');
    if (!signature || !tsHeader) return 'missing Slack signature headers';
    // Exactly Slack's form: the replay memory keys on the header, so v0=<hash>=x must not pass as new.
    if (!/^v0=[0-9a-f]{64}$/.test(signature)) return 'malformed x-slack-signature';
    const ts = Number(tsHeader);
    if (!Number.isInteger(ts)) return 'malformed x-slack-request-timestamp';
    const nowMs = this.opts.now();
    if (Math.abs(nowMs / 1000 - ts) > this.opts.maxSkewSec) return 'x-slack-request-timestamp is more than 5 minutes away from now';
    try {
      verifySlackRequest({
        signingSecret: this.opts.signingSecret,
        body: req.rawBody,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts },
        nowMilliseconds: nowMs,
      });
    } catch (error) {
      return (error as Error).message;
    }
    return null;
  }

  /**
   * A verified request whose signature was seen before is a replay: Slack signs every delivery
   * anew (a fresh timestamp), and its own retries of events come with a new signature and
   * `x-slack-retry-num`. A replay gets an empty 200, like an acknowledged request: Slack retries
   * nothing after a 200, a duplicate delivery (a proxy retrying upstream) was already answered by
   * the first, and a replayer learns nothing. Null when the request is new.
   */
  private async checkReplay(req: SlackHttpRequest): Promise<SlackHttpResponse | null> {
    if (!this.opts.firstSeen) return null;
    const signature = header(req.headers, 'x-slack-signature')!;
    // Remembered for both sides of the window: a timestamp up to maxSkew ahead stays valid for 2 × maxSkew.
    const ttlSec = 2 * this.opts.maxSkewSec + 60;
    let first: boolean;
    try {
      first = await this.opts.firstSeen(signature, ttlSec);
    } catch (error) {
      // Fail closed: without the shared memory a replay could not be told from a new request.
      this.opts.log.error({ err: error }, 'could not check a Slack request for replay; refused it');
      return { status: 503, body: 'Try again in a moment.', contentType: 'text/plain' };
    }
    if (first) return null;
    this.opts.log.warn(
      { retryNum: header(req.headers, 'x-slack-retry-num') ?? null, retryReason: header(req.headers, 'x-slack-retry-reason') ?? null, timestamp: header(req.headers, 'x-slack-request-timestamp'), ip: req.ip },
      'refused a replayed Slack request (signature already seen)',
    );
    return { status: 200, body: '', contentType: 'text/plain' };
  }

  /** Handles one POST /slack/events. */
  async handle(req: SlackHttpRequest): Promise<SlackHttpResponse> {
    const refused = this.verify(req);
    if (refused) {
      this.opts.log.warn({ reason: refused }, 'refused a Slack request');
      return { status: 401, body: JSON.stringify({ error: { code: 'unauthenticated', message: 'Slack request signature could not be verified.' } }), contentType: 'application/json' };
    }
    const replay = await this.checkReplay(req);
    if (replay) return replay;
    let body: Record<string, unknown>;
    try {
      body = parseBody(req.rawBody, header(req.headers, 'content-type'));
    } catch {
      return { status: 400, body: 'malformed body', contentType: 'text/plain' };
    }
    if (body.ssl_check) return { status: 200, body: '', contentType: 'text/plain' };
    if (body.type === 'url_verification') {
      return { status: 200, body: JSON.stringify({ challenge: body.challenge }), contentType: 'application/json' };
    }
    if (!this.app) return { status: 503, body: 'Slack app is not ready', contentType: 'text/plain' };

    let answer!: (r: SlackHttpResponse) => void;
    const acked = new Promise<SlackHttpResponse>((resolve) => (answer = resolve));
    let isAcked = false;
    const event: ReceiverEvent = {
      body,
      retryNum: Number(header(req.headers, 'x-slack-retry-num')) || undefined,
      retryReason: header(req.headers, 'x-slack-retry-reason'),
      // Bolt merges these into the listeners' context: the audit trail records where a click came from.
      customProperties: { ip: req.ip, userAgent: header(req.headers, 'user-agent') },
      ack: async (response?: unknown) => {
        if (isAcked) return;
        isAcked = true;
        if (response === undefined || response === '') answer({ status: 200, body: '', contentType: 'text/plain' });
        else if (typeof response === 'string') answer({ status: 200, body: response, contentType: 'text/plain' });
        else answer({ status: 200, body: JSON.stringify(response), contentType: 'application/json' });
      },
    };
    void this.app.processEvent(event).then(
      () => {
        // A listener that never called ack() still gets an empty 200, so Slack does not retry.
        if (!isAcked) void event.ack();
      },
      (error) => {
        this.opts.log.error({ err: error }, 'Slack event failed');
        if (!isAcked) {
          isAcked = true;
          answer({ status: 500, body: '', contentType: 'text/plain' });
        }
      },
    );
    const timeout = new Promise<SlackHttpResponse>((resolve) =>
      setTimeout(() => resolve({ status: 200, body: '', contentType: 'text/plain' }), this.opts.ackTimeoutMs).unref(),
    );
    return Promise.race([acked, timeout]);
  }
}
