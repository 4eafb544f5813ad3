// Server-sent events as the tests read them from /api/events: whole frames out of what arrived.

export interface SseEvent {
  event: string;
  data: any;
}

/** Moves every complete frame of `buffer` into `events`; returns what is left (a frame not yet whole). */
export function takeSseEvents(buffer: string, events: SseEvent[]): string {
  let i;
  while ((i = buffer.indexOf('\n\n')) >= 0) {
    const chunk = buffer.slice(0, i);
    buffer = buffer.slice(i + 2);
    const event = /^event: (.*)$/m.exec(chunk)?.[1];
    const data = /^data: (.*)$/m.exec(chunk)?.[1];
    if (event) events.push({ event, data: data ? JSON.parse(data) : null });
  }
  return buffer;
}
