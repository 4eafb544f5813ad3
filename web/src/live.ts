// Live updates: one server-sent-events stream per page (GET /api/events), fed by the gateway's
// review events, so a page changes when a request changes anywhere (Slack, the CLI, a replica).
// An event names a review and its status; pages re-read what they show through the API, which
// applies the same access rules as always.
import { useEffect, useRef } from 'react';
import { api } from './api.ts';

export interface ReviewEvent {
  id: string;
  status: string;
}

type Listener = (e: ReviewEvent) => void;
const listeners = new Set<Listener>();
const reconnectListeners = new Set<() => void>();
let source: EventSource | undefined;
let retry: ReturnType<typeof setTimeout> | undefined;
let failures = 0;

/**
 * The stream ended for good (the browser reconnects by itself only after a dropped connection, not
 * after an answer such as 401, 429 or 503): a request to the API tells whether the session ended
 * (api.ts then shows the sign-in page); otherwise the stream is opened again after a pause.
 */
function ended(): void {
  source?.close();
  source = undefined;
  if (retry || listeners.size === 0) return;
  failures++;
  void api.get('/api/me').then(
    () => {
      retry = setTimeout(() => {
        retry = undefined;
        if (listeners.size) open();
      }, Math.min(30_000, 2000 * failures));
    },
    () => {},
  );
}

function open(): void {
  if (source) return;
  source = new EventSource('/api/events', { withCredentials: false });
  source.addEventListener('open', () => (failures = 0));
  source.addEventListener('error', () => {
    if (source?.readyState === EventSource.CLOSED) ended();
  });
  // The gateway ends a stream whose person was deactivated or signed out.
  source.addEventListener('signed-out', ended);
  source.addEventListener('review', (m) => {
    let e: ReviewEvent;
    try {
      e = JSON.parse((m as MessageEvent<string>).data) as ReviewEvent;
    } catch {
      return;
    }
    for (const l of listeners) l(e);
  });
  // After a reconnect events may have been missed: pages re-read everything once.
  source.addEventListener('ready', () => {
    for (const l of reconnectListeners) l();
  });
}

/** Closes the stream (at sign-out). */
export function closeLive(): void {
  clearTimeout(retry);
  retry = undefined;
  source?.close();
  source = undefined;
}

/**
 * Calls `onEvent` for every review change the signed-in user may see, and `onResync` when the
 * stream (re)connects and events may have been missed.
 */
export function useReviewEvents(onEvent: Listener, onResync?: () => void): void {
  const eventRef = useRef(onEvent);
  const resyncRef = useRef(onResync);
  eventRef.current = onEvent;
  resyncRef.current = onResync;
  useEffect(() => {
    open();
    const l: Listener = (e) => eventRef.current(e);
    const r = () => resyncRef.current?.();
    listeners.add(l);
    reconnectListeners.add(r);
    return () => {
      listeners.delete(l);
      reconnectListeners.delete(r);
    };
  }, []);
}
