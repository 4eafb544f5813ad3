// Analytics: how long reviews take (mean, median and p90; per connection and per reviewer group),
// what became of the requests over time (and of their runs), the approval rate, the top requesters
// and the most common commands, and what is pending now — GET /api/analytics, over the requests the
// signed-in user may see. The filters (from, to, connection) live in the URL so a link keeps them.
import { useEffect, useState } from 'react';
import type { AnalyticsView, DecisionTimes, OutcomeCounts } from '../../../src/contracts/analytics-view.ts';
import { api, query } from '../api.ts';
import { BarChart, StackedBars, type RateSeries, type Series } from '../components/charts.tsx';
import { ErrorMessage, PageHeader } from '../components/common.tsx';
import { Link, setQuery, useLocation } from '../router.tsx';
import { duration } from '../duration.ts';
import { ConnectionFilter } from '../components/connection-filter.tsx';

const percent = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 1000) / 10}%`);

const TIME_SERIES: Series[] = [
  { key: 'meanSec', label: 'Mean', color: '#173a85' },
  { key: 'medianSec', label: 'Median', color: '#2457c5' },
  { key: 'p90Sec', label: '90th percentile', color: '#9bb4ea' },
];
const OUTCOME_SERIES: Series[] = [
  { key: 'approved', label: 'Approved', color: '#1b7f3b' },
  { key: 'automatic', label: 'Automatic', color: '#7fbf8f' },
  { key: 'rejected', label: 'Rejected', color: '#b3261e' },
  { key: 'expired', label: 'Expired', color: '#9a6100' },
  { key: 'pending', label: 'Pending', color: '#8a93a3' },
];
// What became of the runs of the approved requests (a part of Approved and Automatic above): drawn beside them.
const RUN_SERIES: Series[] = [
  { key: 'executed', label: 'Executed', color: '#0b6e99' },
  { key: 'failed', label: 'Failed', color: '#7a1f5c' },
];
const APPROVAL_RATE: RateSeries<OutcomeCounts> = { key: 'approvalRate', label: 'Approval rate', color: '#c25e00', of: (p) => p.approvalRate };

const timesRow = (label: string, t: DecisionTimes) => ({ label, values: { meanSec: t.meanSec, medianSec: t.medianSec, p90Sec: t.p90Sec } });

export function AnalyticsPage() {
  const { query: q } = useLocation();
  const filters = { from: q.get('from') ?? '', to: q.get('to') ?? '', connection: q.get('connection') ?? '' };
  const [data, setData] = useState<AnalyticsView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const key = `${filters.from}|${filters.to}|${filters.connection}`;
  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    api
      .get<AnalyticsView>(`/api/analytics${query(filters)}`, { signal: ctl.signal })
      .then(setData)
      .catch((e) => {
        if (!ctl.signal.aborted) setError(e);
      });
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  return (
    <section className="analytics">
      <PageHeader title="Analytics" />
      {/* Without dates in the address, the range the gateway chose (the last 30 days) is shown; the
          end is a date not included, so a range ending now shows tomorrow. */}
      <AnalyticsFilters from={filters.from || (data?.from.slice(0, 10) ?? '')} to={filters.to || (data ? endDate(data.to) : '')} connection={filters.connection} />
      {error ? <ErrorMessage error={error} /> : null}
      {!data && !error ? <p className="loading">Loading…</p> : null}
      {data ? <AnalyticsBody a={data} /> : null}
    </section>
  );
}

/** The first date not included in a range ending at `iso`: its own date at midnight, else the next. */
function endDate(iso: string): string {
  return new Date(new Date(iso).getTime() + 86_400_000 - 1).toISOString().slice(0, 10);
}

function AnalyticsFilters(props: { from: string; to: string; connection: string }) {
  return (
    <form className="panel filters row" role="search" aria-label="Filter analytics" onSubmit={(e) => e.preventDefault()}>
      <div className="field">
        <label htmlFor="analytics-from">From</label>
        <input id="analytics-from" type="date" value={props.from.slice(0, 10)} onChange={(e) => setQuery({ from: e.target.value || undefined })} />
      </div>
      <div className="field">
        <label htmlFor="analytics-to">To (not included)</label>
        <input id="analytics-to" type="date" value={props.to.slice(0, 10)} onChange={(e) => setQuery({ to: e.target.value || undefined })} />
      </div>
      <ConnectionFilter id="analytics-connection" value={props.connection} />
    </form>
  );
}

function AnalyticsBody({ a }: { a: AnalyticsView }) {
  const t = a.timeToDecision;
  const label = (at: string) => (a.bucket === 'hour' ? at.slice(11, 16) : at.slice(5, 10));
  return (
    <>
      <p className="hint">
        Requests created from {a.from.slice(0, 16).replace('T', ' ')} to {a.to.slice(0, 16).replace('T', ' ')} UTC{a.connection ? ` on ${a.connection}` : ''}, of those you may see.
      </p>
      <dl className="panel stats">
        <div>
          <dt>Requests</dt>
          <dd>{a.totals.requests}</dd>
        </div>
        <div>
          <dt>Approval rate</dt>
          <dd>{percent(a.totals.approvalRate)}</dd>
        </div>
        <div>
          <dt>Mean time to decision</dt>
          <dd>{duration(t.overall.meanSec)}</dd>
        </div>
        <div>
          <dt>Median time to decision</dt>
          <dd>{duration(t.overall.medianSec)}</dd>
        </div>
        <div>
          <dt>Pending now</dt>
          <dd>{a.pending.count}</dd>
        </div>
        <div>
          <dt>Oldest pending</dt>
          <dd>
            {a.pending.oldest ? (
              <Link to={`/reviews/${a.pending.oldest.id}`}>
                {duration(a.pending.oldest.ageSec)} on {a.pending.oldest.connection}
              </Link>
            ) : (
              'none'
            )}
          </dd>
        </div>
      </dl>
      <p className="hint">
        Approval rate: approved ÷ (approved + rejected), counting the requests reviewers decided ({a.totals.approved} approved, {a.totals.rejected} rejected); {a.totals.automatic} approved automatically and {a.totals.expired} expired are left out.
      </p>
      <BarChart title="Time to decision by reviewer group" rows={t.byGroup.map((g) => timesRow(g.group, g))} series={TIME_SERIES} format={duration} />
      <BarChart title="Time to decision by connection" rows={[timesRow('All connections', t.overall), ...t.byConnection.map((c) => timesRow(c.connection, c))]} series={TIME_SERIES} format={duration} />
      <StackedBars title={`Outcomes by ${a.bucket} (UTC)`} points={a.outcomes} series={OUTCOME_SERIES} beside={RUN_SERIES} rate={APPROVAL_RATE} labelOf={label} />
      <p className="hint">Beside each column: of its approved requests, those that ran (Executed) and those whose run failed (Failed). The line: that {a.bucket}'s approval rate.</p>
      <h2 id="top-requesters">Top requesters</h2>
      <div className="table-wrap">
        <table aria-labelledby="top-requesters">
          <thead>
            <tr>
              <th scope="col">Requester</th>
              <th scope="col">Requests</th>
              <th scope="col">Approved</th>
              <th scope="col">Rejected</th>
              <th scope="col">Approval rate</th>
            </tr>
          </thead>
          <tbody>
            {a.topRequesters.map((r) => (
              <tr key={r.requester}>
                <th scope="row">{r.requester}</th>
                <td>{r.requests}</td>
                <td>{r.approved}</td>
                <td>{r.rejected}</td>
                <td>{percent(r.approvalRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2 id="common-commands">Most common commands</h2>
      <div className="table-wrap">
        <table aria-labelledby="common-commands">
          <thead>
            <tr>
              <th scope="col">Requests</th>
              <th scope="col">Sample (first line)</th>
              <th scope="col">Pattern</th>
            </tr>
          </thead>
          <tbody>
            {a.commonCommands.map((c) => (
              <tr key={c.fingerprint ?? 'none'}>
                <td>{c.requests}</td>
                <td>
                  <code>{c.sample}</code>
                </td>
                <td className="mono">{c.fingerprint ?? '(not fingerprinted)'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
