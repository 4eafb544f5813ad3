// The fields of a webhook endpoint, for a new one and for an edit: URL, description, the events
// (checkboxes of the review.* events) and the connections it hears about (none: all).
import { useEffect, useState, type FormEvent } from 'react';
import type { WebhookEvent, WebhookView } from '../../../src/contracts/admin-views.ts';
import { api } from '../api.ts';
import { ErrorMessage } from './common.tsx';

/** The events, in the order a review lives them, with what each means. */
export const WEBHOOK_EVENTS: { name: WebhookEvent; means: string }[] = [
  { name: 'review.created', means: 'a command waits for review' },
  { name: 'review.group_approved', means: 'one group approved' },
  { name: 'review.approved', means: 'every group approved' },
  { name: 'review.rejected', means: 'a reviewer rejected it' },
  { name: 'review.expired', means: 'nobody decided in time' },
  { name: 'review.executed', means: 'it ran' },
  { name: 'review.failed', means: 'it ran and failed' },
  { name: 'review.access_granted', means: 'an access window was granted' },
  { name: 'review.access_ended', means: 'an access window ended on time' },
  { name: 'review.access_revoked', means: 'an access window was revoked' },
];

export interface WebhookFields {
  url: string;
  description: string | null;
  events: string[];
  connections: string[];
}

export interface WebhookFormProps {
  initial?: WebhookView;
  submitLabel: string;
  /** Sends the fields; a refusal (thrown) is shown under the form in the gateway's words. */
  onSubmit(fields: WebhookFields): Promise<void>;
  onCancel?(): void;
}

export function WebhookForm({ initial, submitLabel, onSubmit, onCancel }: WebhookFormProps) {
  const prefix = initial ? `edit-webhook-${initial.id.slice(0, 8)}` : 'new-webhook';
  const [url, setUrl] = useState(initial?.url ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [events, setEvents] = useState<Set<string>>(new Set(initial?.events ?? ['review.created']));
  const [connections, setConnections] = useState<Set<string>>(new Set(initial?.connections ?? []));
  const [known, setKnown] = useState<string[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api
      .get<{ connections: { name: string }[] }>('/api/connections')
      .then((r) => setKnown(r.connections.map((c) => c.name)))
      .catch(() => setKnown([]));
  }, []);

  const toggle = (set: Set<string>, value: string, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit({ url: url.trim(), description: description.trim() || null, events: WEBHOOK_EVENTS.map((ev) => ev.name).filter((n) => events.has(n)), connections: [...connections] });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  // Connections the endpoint names that no longer exist still show, so an edit does not drop them silently.
  const connectionNames = [...new Set([...(known ?? []), ...connections])].sort();

  return (
    <form onSubmit={(e) => void submit(e)}>
      <div className="field">
        <label htmlFor={`${prefix}-url`}>URL</label>
        <input id={`${prefix}-url`} type="url" required className="wide" placeholder="https://hooks.example.com/hoop" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" spellCheck={false} />
        <p className="hint">http or https (https for anything outside your network). Private, loopback and link-local addresses are refused unless the gateway allows them (WEBHOOK_ALLOW_PRIVATE).</p>
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-description`}>Description</label>
        <input id={`${prefix}-description`} className="wide" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      </div>
      <fieldset>
        <legend>Events</legend>
        <div className="check-grid">
          {WEBHOOK_EVENTS.map((ev) => (
            <div className="checkbox" key={ev.name}>
              <input id={`${prefix}-event-${ev.name}`} type="checkbox" checked={events.has(ev.name)} onChange={(e) => setEvents((s) => toggle(s, ev.name, e.target.checked))} />
              <label htmlFor={`${prefix}-event-${ev.name}`}>
                <code>{ev.name}</code> <span className="hint inline">{ev.means}</span>
              </label>
            </div>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Connections</legend>
        <p className="hint">None checked: events of every connection.</p>
        {known === null ? (
          <p className="muted">Loading connections…</p>
        ) : connectionNames.length === 0 ? (
          <p className="muted">There are no connections yet.</p>
        ) : (
          <div className="check-grid">
            {connectionNames.map((name) => (
              <div className="checkbox" key={name}>
                <input id={`${prefix}-conn-${name}`} type="checkbox" checked={connections.has(name)} onChange={(e) => setConnections((s) => toggle(s, name, e.target.checked))} />
                <label htmlFor={`${prefix}-conn-${name}`}>{name}</label>
              </div>
            ))}
          </div>
        )}
      </fieldset>
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
