// What became of a request, as `hoop exec` says it: the result as psql shows it, the command tags
// and rows affected, the database's error, or why it was not run (rejected, expired).
import type { ReviewView } from '../../../src/contracts/review-view.ts';
import { Link } from '../router.tsx';
import { Time } from './common.tsx';
import { visibleString } from './visible-text.tsx';

/** The groups that have not approved yet, e.g. "dba-team, security". */
export function waitingOn(review: ReviewView): string[] {
  return review.groups.filter((g) => g.status === 'PENDING').map((g) => g.group);
}

/** The words `hoop exec` prints for a rejection. */
export function rejectionWords(review: ReviewView): string {
  const g = review.groups.find((x) => x.status === 'REJECTED');
  return `Rejected${g?.reviewer ? ` by ${visibleString(g.reviewer)}` : ''}${g ? ` (${g.group})` : ''}: ${visibleString(review.rejectReason ?? 'no reason given')}. The command was not executed.`;
}

/** The outcome of a finished request (Executed, Failed, Rejected, Expired). */
export function ReviewOutcome({ review }: { review: ReviewView }) {
  if (review.status === 'REJECTED') {
    return (
      <div role="status" className="error">
        {rejectionWords(review)}
      </div>
    );
  }
  if (review.status === 'EXPIRED') {
    return (
      <div role="status" className="error">
        Expired at <Time iso={review.decidedAt ?? review.expiresAt} /> without every approval; the command was not executed. Resubmit it.
      </div>
    );
  }
  const failed = review.status === 'FAILED';
  const output = failed ? review.output || (review.error ? `ERROR:  ${review.error}` : '') : review.output;
  const withheld = (review as ReviewView & { outputWithheld?: boolean }).outputWithheld;
  return (
    <div className="outcome">
      {failed ? (
        <p role="status" className="error">
          The command failed{review.error ? `: ${review.error}` : '.'}
        </p>
      ) : null}
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
            <dd>{review.rowsAffected}</dd>
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
      {output ? (
        <pre className="result" aria-label="Result" tabIndex={0}>
          {output}
        </pre>
      ) : withheld ? (
        <p className="muted">The result is withheld here; open the request to see it.</p>
      ) : failed ? null : (
        <p className="muted">No output.</p>
      )}
      {review.outputTruncated ? (
        <p className="hint">
          The output was cut at the gateway's limit; <Link to={`/reviews/${review.id}`}>the request</Link> has what was kept.
        </p>
      ) : null}
    </div>
  );
}
