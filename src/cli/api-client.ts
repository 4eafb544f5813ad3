// The CLI's only way to the gateway: its HTTP API.
import type { ReviewView } from '../service/review-view.js';
import { CliError, EXIT } from './exit-codes.js';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  body: any;
}

export class GatewayClient {
  constructor(
    private readonly apiUrl: string,
    private readonly apiKey: string,
  ) {}

  /** Calls the API; resolves with the JSON body of a 2xx, throws CliError otherwise (408 aside). */
  async request<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal; allow?: number[] } = {}): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(this.apiUrl + path, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), 'user-agent': 'hoop-cli/0.1' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: options.signal,
      });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new CliError(`Cannot reach the gateway at ${this.apiUrl} (${(error as Error).cause ?? (error as Error).message}). Check the URL (hoop login) and that the gateway runs.`, EXIT.unreachable);
    }
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new CliError(`The gateway at ${this.apiUrl} answered ${res.status} with something that is not JSON; is that URL a hoop gateway?`, EXIT.unreachable);
    }
    if (res.ok || options.allow?.includes(res.status)) return { status: res.status, body: json as T };
    const message = json?.error?.message ?? `HTTP ${res.status}`;
    if (res.status === 401) throw new CliError(`Authentication failed: ${message}`, EXIT.unreachable);
    if (res.status >= 500) throw new CliError(`The gateway failed: ${message}`, EXIT.unreachable);
    throw new CliError(message, EXIT.usage);
  }

  async getReview(id: string, waitSec?: number, signal?: AbortSignal): Promise<{ status: number; review: ReviewView }> {
    const q = waitSec === undefined ? '' : `?wait=${waitSec}`;
    const res = await this.request<any>('GET', `/api/reviews/${encodeURIComponent(id)}${q}`, undefined, { signal, allow: [408] });
    return { status: res.status, review: res.status === 408 ? res.body.review : res.body };
  }
}
