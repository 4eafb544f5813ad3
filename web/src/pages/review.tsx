// One access request (/reviews/<id>, the link Slack and Teams messages carry): everything a reviewer
// needs to decide, the Approve and Reject buttons for those the gateway says may decide (its viewer
// field: the vote's own rule), the result once run, and the audit trail. Re-read live on any change.
// A Teams card's Approve and Reject open this page with ?action=approve|reject: the page gets the
// decision ready (the Reject dialog open, or the focus on Approve with a question) and never decides
// by itself: opening a link is not consent.
import { highlightOf, sampleWords, statementWords } from '../../../src/contracts/impact-preview.ts';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { rowLimitWords, type ReviewViewForViewer } from '../../../src/contracts/review-view.ts';
import { agentName } from '../../../src/contracts/request-origin.ts';
import { api } from '../api.ts';
import { approvalsText, ErrorMessage, PageHeader, StatusBadge, Time, useNow } from '../components/common.tsx';
import { SqlBlock } from '../components/sql-block.tsx';
import { visibleText } from '../components/visible-text.tsx';
import { useReviewEvents } from '../live.ts';
import { Link, setQuery, useLocation } from '../router.tsx';
import { ExpiresIn } from './reviews.tsx';
import { accessRequestTitle, AccessWindowPanel, GrantLink } from '../components/access-window.tsx';
import { CorrectionPanel, SuggestChange } from '../components/correction.tsx';

interface AuditEvent {
  at: string;
  action: string;
  actor: string;
  source: string;
  ip: string | null;
  userAgent: string | null;
  detail: unknown;
}

/** What a link asked the page to get ready: `?action=approve|reject`, read once when the page opens. */
type Ask = 'approve' | 'reject' | null;
const askOf = (q: URLSearchParams): Ask => {
  const a = q.get('action');
  return a === 'approve' || a === 'reject' ? a : null;
};

export function ReviewPage({ id }: { id: string }) {
  const { query } = useLocation();
  const [ask, setAsk] = useState<Ask>(() => askOf(query));
  const [review, setReview] = useState<ReviewViewForViewer | null>(null);
  // Handled once: a reload, or this page's address copied on, does not ask again.
  const asked = useCallback(() => {
    setAsk(null);
    setQuery({ action: undefined });
  }, []);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  // Reads may answer out of order (a live event's read, a vote's answer): only the newest one
  // started, or a later answer, is shown, so the page never steps back to an older state.
  const started = useRef(0);
  const shown = useRef(0);
  const show = useCallback((r: ReviewViewForViewer, seq: number) => {
    if (seq < shown.current) return;
    shown.current = seq;
    setReview(r);
  }, []);
  const load = useCallback(async () => {
    const seq = ++started.current;
    try {
      const [r, e] = await Promise.all([
        api.get<ReviewViewForViewer>(`/api/reviews/${encodeURIComponent(id)}`),
        api.get<{ events: AuditEvent[] }>(`/api/reviews/${encodeURIComponent(id)}/events`),
      ]);
      if (seq < shown.current) return;
      show(r, seq);
      setEvents(e.events);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [id, show]);

  useEffect(() => {
    setReview(null);
    setEvents(null);
    void load();
  }, [load]);

  useReviewEvents(
    (e) => {
      if (e.id === id) void load();
    },
    () => void load(),
  );

  if (!review) {
    return (
      <section>
        <PageHeader title="Access request" />
        {error ? <ErrorMessage error={error} /> : <p className="loading">Loading…</p>}
        <p>
          <Link to="/reviews">Back to Access Requests</Link>
        </p>
      </section>
    );
  }

  return (
    <section className="review-page">
      <PageHeader title={accessRequestTitle(review) ?? `Access request on ${review.connection}`}>
        <StatusBadge status={review.status} />
      </PageHeader>
      <p className="back">
        <Link to="/reviews">← Access Requests</Link>
      </p>
      <ErrorMessage error={error} />
      <Summary review={review} />
      <GrantLink review={review} />
      <AccessWindowPanel review={review} onRevoked={(r) => { show(r, ++started.current); void load(); }} />
      <CorrectionPanel review={review} onAccepted={(r) => { show(r, ++started.current); void load(); }} />
      <Decision
        review={review}
        ask={ask}
        onAsked={asked}
        onDecided={(r) => { show(r, ++started.current); void load(); }}
      />
      {review.kind === 'access' ? null : (
        <section className="panel" aria-labelledby="command-h">
          <h2 id="command-h">Command</h2>
          <SqlBlock sql={review.input} label="The command, as submitted" />
          <p className="hint">
            {plural(review.input.length, 'character')}, {plural(review.input.split('\n').length, 'line')}, shown whole.
          </p>
        </section>
      )}
      <Classification review={review} />
      <Preview review={review} />
      <Groups review={review} />
      <Result review={review} />
      <AuditTrail events={events} />
    </section>
  );
}

function Summary({ review }: { review: ReviewViewForViewer }) {
  const now = useNow();
  return (
    <section className="panel" aria-labelledby="summary-h">
      <h2 id="summary-h">Request</h2>
      <dl className="facts">
        <Requester review={review} />
        <dt>Connection</dt>
        <dd>{review.connection}</dd>
        <dt>Reason</dt>
        <dd>{review.reason ? visibleText(review.reason) : <span className="muted">none given</span>}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={review.status} /> {review.approvals.total ? approvalsText(review.approvals) : null}
          {review.autoApproved ? <span className="muted"> (an admin's own request, approved at once)</span> : null}
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={review.createdAt} />
        </dd>
        {/* A decided access request's expiry says nothing: its window's end is what counts (below). */}
        {review.kind === 'access' && review.status !== 'PENDING' ? null : (
          <>
            <dt>{review.status === 'PENDING' ? 'Expires in' : 'Expiry'}</dt>
            <dd>
              {review.status === 'PENDING' ? <ExpiresIn iso={review.expiresAt} now={now} /> : <Time iso={review.expiresAt} />}
            </dd>
          </>
        )}
        {review.decidedAt ? (
          <>
            <dt>Decided</dt>
            <dd>
              <Time iso={review.decidedAt} />
            </dd>
          </>
        ) : null}
        {review.rejectReason ? (
          <>
            <dt>Reject reason</dt>
            <dd>{visibleText(review.rejectReason)}</dd>
          </>
        ) : null}
        <dt>Id</dt>
        <dd className="mono">{review.id}</dd>
      </dl>
    </section>
  );
}

/**
 * Who asked and from where. An agent's request says so first, with its owner; the client's address,
 * its User-Agent and an MCP client's name are what that client said of itself, shown as text (React
 * escapes it; visibleText marks hidden characters).
 */
function Requester({ review }: { review: ReviewViewForViewer }) {
  const o = review.origin;
  return (
    <>
      <dt>Requester</dt>
      <dd data-testid="requester">
        {review.requesterKind === 'agent' ? (
          <>
            <span className="agent-badge">Agent</span> <strong>{visibleText(agentName(review.requester))}</strong> (owner {visibleText(review.requesterOwner ?? 'unknown')})
          </>
        ) : (
          visibleText(review.requester)
        )}
      </dd>
      {o?.client ? (
        <>
          <dt>Via</dt>
          <dd data-testid="origin-client">
            {visibleText(o.client.name)} {visibleText(o.client.version)} <span className="muted">(MCP client)</span>
          </dd>
        </>
      ) : null}
      {o?.ip ? (
        <>
          <dt>From</dt>
          <dd className="mono" data-testid="origin-ip">
            {visibleText(o.ip)}
          </dd>
        </>
      ) : null}
      {o?.userAgent ? (
        <>
          <dt>User agent</dt>
          <dd className="mono break" data-testid="origin-user-agent">
            {visibleText(o.userAgent)}
          </dd>
        </>
      ) : null}
    </>
  );
}

interface DecisionProps {
  review: ReviewViewForViewer;
  /** A link's ?action: the decision to get ready (never to make). */
  ask: Ask;
  /** The ask was handled: called once. */
  onAsked(): void;
  onDecided(r: ReviewViewForViewer): void;
}

/** Approve and Reject, only for those the gateway says may decide; refusals in the API's words. */
function Decision({ review, ask, onAsked, onDecided }: DecisionProps) {
  const { viewer } = review;
  const [group, setGroup] = useState(viewer.groups[0] ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [reason, setReason] = useState('');
  const [rejecting, setRejecting] = useState(false);
  const [maxRows, setMaxRows] = useState('');
  // What the link asked, kept after the address drops it; `late`: it came after the decision.
  const [asked, setAsked] = useState<Ask>(null);
  const [late, setLate] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const approveButton = useRef<HTMLButtonElement>(null);
  const reasonField = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (!viewer.groups.includes(group)) setGroup(viewer.groups[0] ?? '');
  }, [viewer.groups, group]);
  useEffect(() => {
    if (!ask) return;
    setAsked(ask);
    onAsked();
    if (review.status !== 'PENDING') setLate(true);
    if (review.status !== 'PENDING' || !viewer.canDecide) return;
    if (ask === 'reject') {
      dialog.current?.showModal();
      setRejecting(true);
      reasonField.current?.focus();
    } else {
      approveButton.current?.focus();
    }
  }, [ask, onAsked, review.status, viewer.canDecide]);

  if (review.status !== 'PENDING' || !viewer.canDecide) {
    // A decided request shows no refusal unless a link asked to decide on it once it was decided.
    if (review.status !== 'PENDING' && !late) return null;
    return viewer.why ? (
      <p className="notice" role="note">
        You cannot decide on this request: {viewer.why}
      </p>
    ) : null;
  }
  const several = viewer.groups.length > 1;
  const vote = async (action: 'approve' | 'reject', extra: Record<string, string | number> = {}) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.put<ReviewViewForViewer>(`/api/reviews/${encodeURIComponent(review.id)}/${action}`, { group, ...extra });
      dialog.current?.close();
      setReason('');
      onDecided(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const reject = (e: FormEvent) => {
    e.preventDefault();
    void vote('reject', reason.trim() ? { reason: reason.trim() } : {});
  };
  const canApprove = viewer.approveGroups.includes(group);
  // "Approve, at most N rows" (issue 14): empty approves without a limit.
  const limit = maxRows.trim();
  const limitBad = limit !== '' && !/^\d{1,10}$/.test(limit);
  const approve = () => void vote('approve', limit ? { maxRows: Number(limit) } : {});
  return (
    <section className="panel decision" aria-labelledby="decide-h">
      <h2 id="decide-h">Your decision</h2>
      {several ? (
        <div className="field">
          <label htmlFor="decide-group">Decide for group</label>
          <select id="decide-group" value={group} onChange={(e) => setGroup(e.target.value)}>
            {viewer.groups.map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
          <p className="hint">You are in several groups that still have to decide: choose the one you decide for.</p>
        </div>
      ) : (
        <p className="hint">You decide for {viewer.groups[0]}.</p>
      )}
      {asked === 'approve' && canApprove ? (
        <p className="prompt" id="approve-prompt">
          Approve this request?
        </p>
      ) : null}
      <div className="row">
        {canApprove ? (
          <button type="button" ref={approveButton} className="approve" disabled={busy || limitBad} aria-describedby={asked === 'approve' ? 'approve-prompt' : undefined} onClick={approve}>
            {limit && !limitBad ? `Approve, at most ${Number(limit).toLocaleString('en-US')} ${Number(limit) === 1 ? 'row' : 'rows'}` : 'Approve'}
          </button>
        ) : null}
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            setError(null);
            dialog.current?.showModal();
            setRejecting(true);
          }}
        >
          Reject
        </button>
        <SuggestChange review={review} group={group} disabled={busy} />
      </div>
      {canApprove && review.kind === 'command' && review.classification?.dialect !== 'mysql' ? (
        <div className="field">
          <label htmlFor="max-rows">Row limit (optional)</label>
          <input id="max-rows" inputMode="numeric" value={maxRows} onChange={(e) => setMaxRows(e.target.value)} aria-describedby="max-rows-hint" aria-invalid={limitBad} />
          <p className="hint" id="max-rows-hint">
            {limitBad ? 'A whole number of rows, or empty for no limit.' : 'The command may change at most this many rows in all; more, and it is rolled back.'}
          </p>
        </div>
      ) : null}
      {!canApprove && viewer.why ? <p className="hint">{viewer.why}</p> : null}
      {rejecting ? null : <ErrorMessage error={error} />}
      <dialog ref={dialog} aria-labelledby="reject-h" onClose={() => setRejecting(false)}>
        <form method="dialog" onSubmit={reject}>
          <h2 id="reject-h">Reject this request</h2>
          <div className="field">
            <label htmlFor="reject-reason">Reason</label>
            <textarea id="reject-reason" ref={reasonField} className="reason" maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} aria-describedby="reject-hint" />
            <p className="hint" id="reject-hint">
              The requester sees it. Up to 1,000 characters.
            </p>
          </div>
          <ErrorMessage error={error} />
          <div className="row">
            <button type="submit" className="danger" disabled={busy}>
              Reject request
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </section>
  );
}

function Classification({ review }: { review: ReviewViewForViewer }) {
  const c = review.classification;
  if (!c) return null;
  return (
    <section className="panel" aria-labelledby="class-h">
      <h2 id="class-h">What it does</h2>
      <p>
        Strictest kind: <strong>{c.kind}</strong> ({c.dialect}){review.readOnly ? ', ran read-only' : ''}.
        {c.parsed ? null : <span className="warning"> The gateway could not parse this SQL: read it yourself.</span>}
      </p>
      <div className="table-wrap">
        <table className="stack-narrow">
          <caption className="visually-hidden">Statements and their classification</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Kind</th>
              <th scope="col">Command</th>
              <th scope="col">Tables</th>
              <th scope="col">Warnings</th>
            </tr>
          </thead>
          <tbody>
            {c.statements.map((s) => (
              <tr key={s.index}>
                <td data-label="#">{s.index + 1}</td>
                <td data-label="Kind">{s.kind}</td>
                <td data-label="Command" className="mono">{s.command}</td>
                <td data-label="Tables">{s.tables.length ? s.tables.join(', ') : <span className="muted">—</span>}</td>
                <td data-label="Warnings">
                  {s.warnings.length ? (
                    <ul className="warnings">
                      {s.warnings.map((w, i) => (
                        <li key={i} className="warning">
                          {w}
                        </li>
                      ))}
                    </ul>
                  ) : (
                    <span className="muted">none</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** What the command would change, measured before review (issue 14): per statement its rows, a zero or a large count flagged, and a sample. */
function Preview({ review }: { review: ReviewViewForViewer }) {
  const p = review.preview;
  if (!p) return null;
  const how = p.state === 'measured' ? 'Counted by a dry run that was rolled back.' : p.state === 'estimated' ? "The planner's estimate: nothing was run." : null;
  return (
    <section className="panel" aria-labelledby="preview-h">
      <h2 id="preview-h">Impact preview</h2>
      {p.state === 'pending' ? <p className="muted">Measuring what it would change…</p> : null}
      {p.state === 'none' ? <p>No impact preview: {p.reason ?? 'not measured'}.</p> : null}
      {p.state === 'measured' || p.state === 'estimated' ? (
        <>
          <ul className="preview-lines">
            {p.statements.map((s) => {
              const h = highlightOf(s);
              return (
                <li key={s.index} className={h ? 'warning' : undefined}>
                  {p.statements.length > 1 ? `${s.index + 1}. ` : ''}
                  {statementWords(s)}
                  {h === 'zero' ? ' — matches nothing' : h === 'large' ? ' — many rows' : ''}
                </li>
              );
            })}
          </ul>
          <p className="hint">
            {how}
            {p.state === 'estimated' && p.reason ? ` Why: ${p.reason}.` : ''}
          </p>
          {p.statements.map((s) =>
            s.sample?.rows.length ? (
              <div className="table-wrap" key={`sample-${s.index}`}>
                <table>
                  <caption>
                    Statement {s.index + 1}: a few of {sampleWords(s)}
                  </caption>
                  <thead>
                    <tr>
                      {s.sample.columns.map((c, i) => (
                        <th scope="col" key={i} className="mono">
                          {c}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {s.sample.rows.map((row, i) => (
                      <tr key={i}>
                        {row.map((v, j) => (
                          <td key={j} className="mono">
                            {v === null ? <span className="muted">NULL</span> : v}
                          </td>
                        ))}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null,
          )}
        </>
      ) : null}
    </section>
  );
}

function Groups({ review }: { review: ReviewViewForViewer }) {
  if (review.groups.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="groups-h">
      <h2 id="groups-h">Reviewer groups</h2>
      <div className="table-wrap">
        <table className="stack-narrow">
          <caption className="visually-hidden">Each reviewer group's decision</caption>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Status</th>
              <th scope="col">By</th>
              <th scope="col">When</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {review.groups.map((g) => (
              <tr key={g.group}>
                <td data-label="Group">{g.group}</td>
                <td data-label="Status">
                  <StatusBadge status={g.status} />
                  {g.maxRows !== null && g.maxRows !== undefined ? <span className="hint"> ({rowLimitWords(g.maxRows)})</span> : null}
                </td>
                <td data-label="By">{g.reviewer ? visibleText(g.reviewer) : <span className="muted">—</span>}</td>
                <td data-label="When">
                  <Time iso={g.decidedAt} />
                </td>
                <td data-label="Reason">{g.reason ? visibleText(g.reason) : <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Result({ review }: { review: ReviewViewForViewer }) {
  if (!['RUNNING', 'EXECUTED', 'FAILED'].includes(review.status) && review.output === null && review.error === null) return null;
  return (
    <section className="panel" aria-labelledby="result-h">
      <h2 id="result-h">Result</h2>
      {review.status === 'RUNNING' ? <p className="notice">Running since <Time iso={review.startedAt} />…</p> : null}
      <dl className="facts">
        {review.commandTags.length ? (
          <>
            <dt>Command tags</dt>
            <dd className="mono">{review.commandTags.join(', ')}</dd>
          </>
        ) : null}
        {review.rowsAffected !== null ? (
          <>
            <dt>Rows affected</dt>
            <dd>{review.rowsAffected.toLocaleString()}</dd>
          </>
        ) : null}
        {review.startedAt ? (
          <>
            <dt>Started</dt>
            <dd>
              <Time iso={review.startedAt} />
            </dd>
          </>
        ) : null}
        {review.finishedAt ? (
          <>
            <dt>Finished</dt>
            <dd>
              <Time iso={review.finishedAt} />
            </dd>
          </>
        ) : null}
      </dl>
      {review.error ? (
        <div className="error" role="status">
          <strong>Error:</strong> {review.error}
        </div>
      ) : null}
      {review.output !== null ? (
        <>
          <h3>Output</h3>
          <pre className="result" tabIndex={0} aria-label="Output, as psql shows it">
            {review.output}
          </pre>
          {review.outputTruncated ? <p className="hint">The output was longer than the gateway keeps; this is its beginning.</p> : null}
        </>
      ) : null}
    </section>
  );
}

/** "1 line", "3 lines". */
function plural(n: number, word: string): string {
  return `${n.toLocaleString()} ${word}${n === 1 ? '' : 's'}`;
}

/** An audit event's detail as short text: its fields, with lists and objects as JSON. */
function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  if (typeof detail !== 'object') return String(detail);
  return Object.entries(detail as Record<string, unknown>)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('; ');
}

function AuditTrail({ events }: { events: AuditEvent[] | null }) {
  return (
    <section className="panel" aria-labelledby="audit-h">
      <h2 id="audit-h">Audit trail</h2>
      {events === null ? (
        <p className="loading">Loading…</p>
      ) : events.length === 0 ? (
        <p className="muted">No events.</p>
      ) : (
        <div className="table-wrap">
          <table className="stack-narrow">
            <caption className="visually-hidden">What happened to this request, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Who</th>
                <th scope="col">Source</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e, i) => (
                <tr key={i}>
                  <td data-label="When">
                    <Time iso={e.at} />
                  </td>
                  <td data-label="Action" className="mono nowrap">{e.action}</td>
                  <td data-label="Who">{visibleText(e.actor)}</td>
                  <td data-label="Source" title={[e.ip, e.userAgent].filter(Boolean).join(' · ')}>
                    {e.source}
                  </td>
                  <td data-label="Detail" className="detail">
                    {visibleText(detailText(e.detail))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
