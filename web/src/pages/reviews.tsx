// Access Requests: the requests the signed-in user may see, newest first, filtered by status
// (Pending unless asked otherwise, as the seeds have it), connection and requester. The filters live
// in the URL so a link keeps them. Rows change live: a request created or decided anywhere shows
// here without a reload. Export downloads every request matching the filters as CSV (with
// their outputs when Include output is ticked).
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { ReviewListView, ReviewView } from '../../../src/contracts/review-view.ts';
import { agentName } from '../../../src/contracts/request-origin.ts';
import { api, ApiError, query } from '../api.ts';
import { approvalsText, ErrorMessage, PageHeader, relative, StatusBadge, useNow } from '../components/common.tsx';
import { useReviewEvents } from '../live.ts';
import { Link, setQuery, useLocation } from '../router.tsx';
import { visibleText } from '../components/visible-text.tsx';
import { ConnectionFilter } from '../components/connection-filter.tsx';
import { accessRequestTitle } from '../components/access-window.tsx';

const PAGE = 25;
const STATUSES = ['pending', 'approved', 'running', 'executed', 'failed', 'rejected', 'expired', 'granted', 'ended'] as const;
const STATUS_LABELS: Record<string, string> = { all: 'All', pending: 'Pending', approved: 'Approved', running: 'Running', executed: 'Executed', failed: 'Failed', rejected: 'Rejected', expired: 'Expired', granted: 'Granted (access open)', ended: 'Ended (access closed)' };

/** A listed review, or one read whole when it changed live (then its input is whole: no inputTruncated). */
type Row = Pick<ReviewListView, 'id' | 'connection' | 'requester' | 'requesterKind' | 'requesterOwner' | 'input' | 'status' | 'approvals' | 'createdAt' | 'expiresAt' | 'kind' | 'access'> & { inputTruncated?: boolean };

interface Filters {
  status: string; // 'all' or a status in lower case
  connection: string;
  requester: string;
}

function filtersOf(q: URLSearchParams): Filters {
  const status = (q.get('status') ?? 'pending').toLowerCase();
  return { status: status === 'all' || (STATUSES as readonly string[]).includes(status) ? status : 'pending', connection: q.get('connection') ?? '', requester: q.get('requester') ?? '' };
}

/** Whether a review belongs in the list under `f` (for reviews that change or appear live). */
function matches(r: Row, f: Filters): boolean {
  return (f.status === 'all' || r.status.toLowerCase() === f.status) && (!f.connection || r.connection === f.connection) && (!f.requester || r.requester === f.requester.trim().toLowerCase());
}

/**
 * The first line of a command that says something (leading blank and `--` comment lines skipped),
 * with a mark when there is more: the whole command is on the request's page.
 */
function firstLine(input: string, truncated: boolean): string {
  const lines = input.split('\n');
  const at = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('--'));
  const line = (at === -1 ? lines.find((l) => l.trim() !== '') ?? '' : lines[at]).trim();
  const more = truncated || lines.slice((at === -1 ? 0 : at) + 1).some((l) => l.trim() !== '') || (at > 0 && lines.slice(0, at).some((l) => l.trim() !== ''));
  return more ? `${line} …` : line;
}

/**
 * The CSV export of every request matching the filters (not only the loaded page): a plain link,
 * so the browser streams it to a file with the session cookie (a GET needs no CSRF token). With
 * `withOutput`, each command's full output as stored (masked) and whether the gateway cut it.
 */
function exportPath(f: Filters, withOutput: boolean): string {
  return `/api/reviews/export${query({ format: 'csv', status: f.status === 'all' ? undefined : f.status, connection: f.connection, requester: f.requester.trim(), include: withOutput ? 'output' : undefined })}`;
}

function listPath(f: Filters, cursor?: string | null): string {
  return `/api/reviews${query({ status: f.status === 'all' ? undefined : f.status, connection: f.connection, requester: f.requester.trim(), limit: PAGE, cursor })}`;
}

export function ReviewsPage() {
  const { query: q } = useLocation();
  const filters = filtersOf(q);
  const key = `${filters.status}|${filters.connection}|${filters.requester}`;
  const [rows, setRows] = useState<Row[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [exportOutput, setExportOutput] = useState(false);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const nextRef = useRef(nextCursor);
  nextRef.current = nextCursor;

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      const r = await api.get<{ reviews: ReviewListView[]; nextCursor: string | null }>(listPath(filtersRef.current), { signal });
      setRows(r.reviews);
      setNextCursor(r.nextCursor);
      setError(null);
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setError(e);
    }
  }, []);

  useEffect(() => {
    const c = new AbortController();
    setRows(null);
    void load(c.signal);
    return () => c.abort();
  }, [key, load]);

  const loadMore = async () => {
    if (!nextCursor) return;
    setLoadingMore(true);
    try {
      const r = await api.get<{ reviews: ReviewListView[]; nextCursor: string | null }>(listPath(filters, nextCursor));
      setRows((old) => [...(old ?? []), ...r.reviews.filter((n) => !old?.some((o) => o.id === n.id))]);
      setNextCursor(r.nextCursor);
    } catch (e) {
      setError(e);
    } finally {
      setLoadingMore(false);
    }
  };

  // One request changed or appeared: read it and put it in place. A change of status keeps the row
  // (showing the new status) so it does not vanish under the reader; a new one is added only when
  // it matches the filters and falls within what is loaded.
  useReviewEvents(
    (e) => {
      void (async () => {
        let review: ReviewView;
        try {
          review = await api.get<ReviewView>(`/api/reviews/${encodeURIComponent(e.id)}`);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) setRows((old) => old?.filter((r) => r.id !== e.id) ?? old);
          return;
        }
        setRows((old) => {
          if (!old) return old;
          if (old.some((r) => r.id === review.id)) return old.map((r) => (r.id === review.id ? review : r));
          if (!matches(review, filtersRef.current)) return old;
          const oldest = old[old.length - 1];
          if (nextRef.current && oldest && review.createdAt < oldest.createdAt) return old;
          return [...old, review].sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
        });
      })();
    },
    () => void load(),
  );

  return (
    <section>
      <PageHeader title="Access Requests">
        <div className="checkbox">
          <input id="export-output" type="checkbox" checked={exportOutput} onChange={(e) => setExportOutput(e.target.checked)} />
          <label htmlFor="export-output">Include output</label>
        </div>
        <a className="button secondary" href={exportPath(filters, exportOutput)} download title={`Download every request matching these filters as CSV (${exportOutput ? "with each command's full output as stored" : 'without outputs'})`}>
          Export
        </a>
      </PageHeader>
      <FiltersForm filters={filters} />
      <ErrorMessage error={error} />
      {rows === null ? (
        error ? null : <p className="loading">Loading…</p>
      ) : rows.length === 0 ? (
        <p className="notice">No {filters.status === 'all' ? '' : `${STATUS_LABELS[filters.status].toLowerCase()} `}requests{filters.connection ? ` on ${filters.connection}` : ''}{filters.requester ? ` by ${filters.requester}` : ''}.</p>
      ) : (
        <ReviewsTable rows={rows} />
      )}
      {nextCursor ? (
        <p>
          <button type="button" className="secondary" onClick={() => void loadMore()} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      ) : null}
    </section>
  );
}

function FiltersForm({ filters }: { filters: Filters }) {
  const [requester, setRequester] = useState(filters.requester);
  useEffect(() => setRequester(filters.requester), [filters.requester]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setQuery({ requester: requester.trim() || undefined });
  };
  return (
    <form className="panel filters row" role="search" aria-label="Filter requests" onSubmit={submit}>
      <div className="field">
        <label htmlFor="filter-status">Status</label>
        <select id="filter-status" value={filters.status} onChange={(e) => setQuery({ status: e.target.value === 'pending' ? undefined : e.target.value })}>
          {['pending', 'all', ...STATUSES.filter((s) => s !== 'pending')].map((s) => (
            <option key={s} value={s}>
              {STATUS_LABELS[s]}
            </option>
          ))}
        </select>
      </div>
      <ConnectionFilter id="filter-connection" value={filters.connection} />
      <div className="field">
        <label htmlFor="filter-requester">Requester</label>
        <input id="filter-requester" type="email" placeholder="alice@example.com" value={requester} onChange={(e) => setRequester(e.target.value)} />
      </div>
      <div className="field">
        <button type="submit" className="secondary">
          Filter
        </button>
        {filters.requester ? (
          <button type="button" className="secondary clear" onClick={() => setQuery({ requester: undefined })}>
            Clear requester
          </button>
        ) : null}
      </div>
    </form>
  );
}

function ReviewsTable({ rows }: { rows: Row[] }) {
  const now = useNow();
  return (
    <div className="table-wrap">
      <table className="reviews-table">
        <caption className="visually-hidden">Access requests, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Command</th>
            <th scope="col">Requester</th>
            <th scope="col">Connection</th>
            <th scope="col">Status</th>
            <th scope="col">Approvals</th>
            <th scope="col">Created</th>
            <th scope="col">Expires in</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td className="command" data-label="Command">
                {/* An access request has no command: its title says what it asks for. */}
                <Link to={`/reviews/${r.id}`}>{accessRequestTitle(r) ?? visibleText(firstLine(r.input, r.inputTruncated === true) || '(empty)')}</Link>
              </td>
              <td data-label="Requester">
                {r.requesterKind === 'agent' ? (
                  <span title={`Agent, owned by ${r.requesterOwner ?? 'unknown'}`}>
                    <span className="agent-badge">Agent</span> {visibleText(agentName(r.requester))}
                  </span>
                ) : (
                  visibleText(r.requester)
                )}
              </td>
              <td data-label="Connection">{r.connection}</td>
              <td data-label="Status">
                <StatusBadge status={r.status} />
              </td>
              <td data-label="Approvals">
                {r.approvals.total === 0 ? <span className="muted">no review</span> : approvalsText(r.approvals)}
              </td>
              <td data-label="Created" className="nowrap">
                <time dateTime={r.createdAt} title={new Date(r.createdAt).toLocaleString()}>
                  {relative(r.createdAt, now).replace(/ \d+ s ago$/, ' ago')}
                </time>
              </td>
              <td data-label="Expires in" className="nowrap">
                {r.status === 'PENDING' ? (
                  <ExpiresIn iso={r.expiresAt} now={now} />
                ) : r.status === 'GRANTED' && r.access?.endsAt ? (
                  // An open access window: the time it has left.
                  <>
                    access <ExpiresIn iso={r.access.endsAt} now={now} />
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The time left before a pending request expires, counting down. */
export function ExpiresIn({ iso, now }: { iso: string; now: number }) {
  const left = new Date(iso).getTime() - now;
  return (
    <time dateTime={iso} title={iso} className={left < 5 * 60_000 ? 'warning' : undefined}>
      {left > 0 ? relative(iso, now).replace(/^in /, '') : 'now'}
    </time>
  );
}
