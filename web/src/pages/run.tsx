// Run: the web twin of `hoop exec`. Pick a connection, write SQL and a reason, run it: a read runs
// at once; anything else waits for approval ("Waiting for approval…" with the groups still to
// approve) and its result appears when it is executed, live, without a reload.
import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ReviewView } from '../../../src/contracts/review-view.ts';
import { api } from '../api.ts';
import { approvalsText, ErrorMessage, PageHeader, relative, StatusBadge, useNow } from '../components/common.tsx';
import { ReviewOutcome, waitingOn } from '../components/review-outcome.tsx';
import { loadConnections, type ConnectionView } from '../connections-api.ts';
import { useReviewEvents } from '../live.ts';
import { Link, setQuery, useLocation } from '../router.tsx';
import { visibleString } from '../components/visible-text.tsx';
import { AccessRequestPanel } from '../components/access-request.tsx';

const OPEN = new Set(['PENDING', 'APPROVED', 'RUNNING']);
/** Later statuses win over earlier ones, whatever order the answers arrive in. */
const STAGE: Record<string, number> = { PENDING: 0, APPROVED: 1, RUNNING: 2, EXECUTED: 3, FAILED: 3, REJECTED: 3, EXPIRED: 3 };

export function RunPage() {
  const { query } = useLocation();
  const [connections, setConnections] = useState<ConnectionView[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [connection, setConnection] = useState(query.get('connection') ?? '');
  const [input, setInput] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [review, setReview] = useState<ReviewView | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  useEffect(() => {
    const controller = new AbortController();
    loadConnections(controller.signal)
      .then((list) => {
        setConnections(list);
        // The one connection there is, or the one named in the address, is picked already.
        setConnection((c) => (list.some((x) => x.name === c) ? c : list.length === 1 ? list[0].name : ''));
      })
      .catch((e) => {
        if ((e as Error).name !== 'AbortError') setLoadError(e);
      });
    return () => controller.abort();
  }, []);

  // Keeps the newest state of the request on show: a late answer never takes it back a step.
  const apply = useCallback((next: ReviewView) => {
    setReview((cur) => (cur && cur.id === next.id && STAGE[cur.status] > STAGE[next.status] ? cur : cur && cur.id !== next.id ? cur : next));
  }, []);

  const reread = useCallback(
    async (id: string) => {
      try {
        apply(await api.get<ReviewView>(`/api/reviews/${encodeURIComponent(id)}`));
      } catch (e) {
        setError(e);
      }
    },
    [apply],
  );

  const shown = useRef<ReviewView | null>(null);
  shown.current = review;
  useReviewEvents(
    (e) => {
      const r = shown.current;
      if (r && e.id === r.id && OPEN.has(r.status)) void reread(r.id);
    },
    () => {
      const r = shown.current;
      if (r && OPEN.has(r.status)) void reread(r.id);
    },
  );

  const submit = async (e?: FormEvent) => {
    e?.preventDefault();
    if (busy) return;
    if (!connection) return setError(new Error('Pick a connection to run the command on.'));
    if (!input.trim()) return setError(new Error('Write the SQL to run.'));
    setBusy(true);
    setError(null);
    setReview(null);
    try {
      const submitted = await api.post<ReviewView>(`/api/connections/${encodeURIComponent(connection)}/exec`, { input, reason: reason.trim() || undefined });
      setReview(submitted);
      // A change made before this point has no event we could have matched (its id was unknown):
      // read it once now; every later change arrives as an event.
      if (OPEN.has(submitted.status)) void reread(submitted.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      formRef.current?.requestSubmit();
    }
  };

  const picked = connections?.find((c) => c.name === connection);
  // A connection that grants windows offers to ask for one: first on a jit-only one (its commands
  // need a window), after the command form where each command may also be reviewed on its own.
  const access = picked && picked.accessMode !== 'command' ? <AccessRequestPanel key={picked.name} connection={picked} /> : null;
  return (
    <section className="run-page">
      <PageHeader title="Run" />
      <ErrorMessage error={loadError} />
      {connections && connections.length === 0 ? (
        <p className="notice">There is no connection you may use. An admin adds one (Connections), or gives your group access to one.</p>
      ) : null}
      {picked?.accessMode === 'jit' ? access : null}
      <form ref={formRef} className="panel" onSubmit={submit} aria-label="Run a command">
        <div className="field">
          <label htmlFor="run-connection">Connection</label>
          <select
            id="run-connection"
            value={connection}
            disabled={!connections}
            onChange={(e) => {
              setConnection(e.target.value);
              setQuery({ connection: e.target.value || undefined });
            }}
          >
            <option value="">{connections ? 'Pick a connection…' : 'Loading…'}</option>
            {connections?.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          {picked ? <p className="hint">{connectionHint(picked)}</p> : null}
        </div>
        <div className="field">
          <label htmlFor="run-sql">SQL</label>
          <textarea
            id="run-sql"
            className="sql-editor"
            value={input}
            spellCheck={false}
            autoCapitalize="off"
            autoCorrect="off"
            aria-describedby="run-sql-hint"
            onChange={(e) => setInput(e.target.value)}
            onKeyDown={onKeyDown}
            placeholder="SELECT * FROM customers WHERE id = 42;"
          />
          <p className="hint" id="run-sql-hint">
            Ctrl+Enter (⌘+Enter on a Mac) runs it.
          </p>
        </div>
        <div className="field">
          <label htmlFor="run-reason">Reason</label>
          <input id="run-reason" className="wide" value={reason} maxLength={2000} onChange={(e) => setReason(e.target.value)} placeholder="Why, for the approvers (e.g. a ticket)" />
        </div>
        <ErrorMessage error={error} />
        <button type="submit" disabled={busy || !connections}>
          {busy ? 'Running…' : 'Run'}
        </button>
      </form>
      {review ? <RunState review={review} /> : null}
      {picked?.accessMode === 'both' ? access : null}
    </section>
  );
}

function connectionHint(c: ConnectionView): string {
  if (!c.reviewers.length || c.reviewMode === 'none') return 'Commands run without review on this connection.';
  const groups = c.reviewers.join(', ');
  // A jit-only connection refuses a command that needs a review unless its sender holds a window.
  const held = c.accessMode === 'jit' ? 'needs an access window approved by' : 'waits for approval by';
  const window = c.accessMode === 'both' ? ' (or runs under your access window)' : '';
  return c.reviewMode === 'writes' ? `Reads run at once (read-only); anything else ${held} ${groups}${window}.` : `Every command ${held} ${groups}${window}.`;
}

/** The request just made: waiting, running, or its outcome. */
function RunState({ review }: { review: ReviewView }) {
  const now = useNow();
  const link = <Link to={`/reviews/${review.id}`}>request {review.id.slice(0, 8)}</Link>;
  return (
    <section className="panel run-state" aria-live="polite" aria-labelledby="run-state-title">
      <h2 id="run-state-title">
        <StatusBadge status={review.status} /> {title(review)}
      </h2>
      {review.status === 'PENDING' ? (
        <>
          <p>
            Waiting on: <strong>{waitingOn(review).join(', ') || 'no group'}</strong> ({approvalsText(review.approvals)}). It expires{' '}
            {/* Past the expiry the gateway is about to close it: "now", as the list says, never "… ago". */}
            {new Date(review.expiresAt).getTime() > now ? relative(review.expiresAt, now) : 'now'}; the page shows the result when it is executed.
          </p>
          <ul className="group-progress" aria-label="Approver groups">
            {review.groups.map((g) => (
              <li key={g.group}>
                <span className="mono">{g.group}</span>: {g.status === 'APPROVED' ? `approved by ${g.reviewer ? visibleString(g.reviewer) : 'someone'}` : g.status === 'REJECTED' ? 'rejected' : 'waiting'}
              </li>
            ))}
          </ul>
          <p>
            Share the {link} with an approver, or leave this page: the request stays as it is.
          </p>
        </>
      ) : review.status === 'APPROVED' || review.status === 'RUNNING' ? (
        <p>Approved; the command is running on {review.connection}. See the {link}.</p>
      ) : (
        <>
          <p className="muted">
            {review.readOnly ? 'A read: it ran at once, in a read-only transaction. ' : review.autoApproved ? 'Approved as it was made. ' : ''}
            See the {link}.
          </p>
          <ReviewOutcome review={review} />
        </>
      )}
    </section>
  );
}

function title(review: ReviewView): string {
  if (review.status === 'PENDING') return 'Waiting for approval…';
  if (review.status === 'APPROVED' || review.status === 'RUNNING') return 'Running…';
  return review.status === 'EXECUTED' ? 'Result' : review.status === 'FAILED' ? 'The command failed' : review.status === 'REJECTED' ? 'Rejected' : 'Expired';
}
