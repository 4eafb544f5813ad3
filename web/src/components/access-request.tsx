// Asking for an access window from the Run page (Just-in-Time access, issue 13): how long (a choice
// up to the connection's longest window, or free text) and why, sent as POST
// /api/connections/:name/access; the request's page then shows its review and, once granted, the
// countdown. A window the user already holds on the connection is named instead of a second form.
import { useEffect, useState, type FormEvent } from 'react';
import type { ReviewListView, ReviewView } from '../../../src/contracts/review-view.ts';
import { durationWords, parseDuration } from '../../../src/core/access-window.ts';
import { api, query } from '../api.ts';
import type { ConnectionView } from '../connections-api.ts';
import { useReviewEvents } from '../live.ts';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.tsx';
import { ErrorMessage, relative, useNow } from './common.tsx';
import { compactDuration } from './access-settings.tsx';

const CHOICES = [15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600];
const OTHER = 'other';
/** As the API caps a submit's reason. */
const MAX_REASON = 2000;

/** The durations offered on `c`: the usual ones up to its longest window, and that longest one. */
export function durationChoices(maxSec: number): number[] {
  const list = CHOICES.filter((s) => s <= maxSec);
  return list.includes(maxSec) ? list : [...list, maxSec];
}

/** The user's open window on `connection` (GRANTED, not yet ended), or null; re-read on every change. */
function useOpenWindow(connection: string): ReviewListView | null {
  const { session } = useSession();
  const [open, setOpen] = useState<ReviewListView | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const c = new AbortController();
    api
      .get<{ reviews: ReviewListView[] }>(`/api/reviews${query({ status: 'granted', connection, requester: session.user.email, limit: 1 })}`, { signal: c.signal })
      .then((r) => setOpen(r.reviews[0] ?? null))
      .catch(() => setOpen(null));
    return () => c.abort();
  }, [connection, session.user.email, tick]);
  useReviewEvents(
    () => setTick((t) => t + 1),
    () => setTick((t) => t + 1),
  );
  return open;
}

/** Tells a user where they stand on a connection that grants windows, and offers to ask for one. */
export function AccessRequestPanel({ connection }: { connection: ConnectionView }) {
  const open = useOpenWindow(connection.name);
  const now = useNow();
  const endsAt = open?.access?.endsAt;
  const live = endsAt && new Date(endsAt).getTime() > now;
  return (
    <section className="panel access-request" aria-labelledby="access-request-h">
      <h2 id="access-request-h">Access window</h2>
      {connection.accessMode === 'jit' && !live ? (
        <p className="notice" role="note">
          {connection.name} takes access requests, not per-command reviews: a command that needs a review runs only under an approved access window. Ask for one first.
        </p>
      ) : null}
      {live && open ? (
        <p role="status">
          You have access to {connection.name} until <time dateTime={endsAt}>{new Date(endsAt).toLocaleTimeString()}</time> ({relative(endsAt, now).replace(/^in /, '')} left): your commands there run without a per-command review.{' '}
          <Link to={`/reviews/${open.id}`}>See the access request</Link>.
        </p>
      ) : (
        <AccessRequestForm connection={connection} />
      )}
    </section>
  );
}

function AccessRequestForm({ connection }: { connection: ConnectionView }) {
  const choices = durationChoices(connection.maxAccessSec);
  const [choice, setChoice] = useState(String(choices.includes(1800) ? 1800 : choices[0]));
  const [other, setOther] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const duration = choice === OTHER ? other.trim() : compactDuration(Number(choice));
    if (!duration) return setError(new Error('Say how long you need access, e.g. 45m or 1h30m.'));
    if (!reason.trim()) return setError(new Error('Say why you need access: the reviewers read it.'));
    setBusy(true);
    try {
      const r = await api.post<ReviewView>(`/api/connections/${encodeURIComponent(connection.name)}/access`, { duration, reason: reason.trim() });
      navigate(`/reviews/${r.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  const otherSec = choice === OTHER ? parseDuration(other) : null;
  return (
    <form onSubmit={submit} aria-label="Ask for access" noValidate>
      <p className="hint">
        Once every reviewer group approves, your commands on {connection.name} run without a per-command review until the window ends (guardrails and masking still apply). At most {durationWords(connection.maxAccessSec)}.
      </p>
      <div className="row">
        <div className="field">
          <label htmlFor="access-duration">Duration</label>
          <select id="access-duration" value={choice} onChange={(e) => setChoice(e.target.value)}>
            {choices.map((s) => (
              <option key={s} value={String(s)}>
                {durationWords(s)}
              </option>
            ))}
            <option value={OTHER}>Other…</option>
          </select>
        </div>
        {choice === OTHER ? (
          <div className="field">
            <label htmlFor="access-duration-other">How long</label>
            <input id="access-duration-other" value={other} maxLength={20} onChange={(e) => setOther(e.target.value)} placeholder="45m" autoComplete="off" spellCheck={false} aria-describedby="access-duration-other-hint" />
            <p className="hint" id="access-duration-other-hint">
              {otherSec !== null ? durationWords(otherSec) : 'e.g. 45m, 1h30m'}
            </p>
          </div>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor="access-reason">Reason for access</label>
        <input id="access-reason" className="wide" value={reason} required maxLength={MAX_REASON} onChange={(e) => setReason(e.target.value)} placeholder="Why, for the approvers (e.g. an incident)" />
      </div>
      <ErrorMessage error={error} />
      <button type="submit" disabled={busy}>
        {busy ? 'Asking…' : 'Ask for access'}
      </button>
    </form>
  );
}
