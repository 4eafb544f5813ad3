// An access request's window on its page (Just-in-Time access, issue 13): what was asked for, where
// it stands in words (pending, granted until 14:30 with a live countdown, ended, revoked by whom and
// when), and Revoke access for those the gateway says may (viewer.canRevoke). And, on a command that
// ran under a window, the link to that window's request.
import { useState } from 'react';
import type { ReviewView, ReviewViewForViewer } from '../../../src/contracts/review-view.ts';
import { accessTitle, durationWords } from '../../../src/core/access-window.ts';
import { api } from '../api.ts';
import { Link } from '../router.tsx';
import { relative, useNow } from './common.tsx';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { visibleString } from './visible-text.tsx';

/** "Access for 30 minutes to prod-db" for an access request; null for a command. */
export function accessRequestTitle(review: Pick<ReviewView, 'kind' | 'access' | 'connection'>): string | null {
  return review.kind === 'access' && review.access ? accessTitle(review.access.durationSec, review.connection) : null;
}

/** "14:30", with the exact time on hover. */
function Clock({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
    </time>
  );
}

/** Where a window stands, in words; the countdown moves every second. */
export function AccessStatusWords({ review, now }: { review: ReviewView; now: number }) {
  const a = review.access;
  if (!a) return null;
  switch (review.status) {
    case 'PENDING':
      return <>Pending: no access until every reviewer group approves.</>;
    case 'GRANTED':
      // The window closes by its end time itself, before the gateway records the end.
      if (a.endsAt && new Date(a.endsAt).getTime() > now) {
        return (
          <>
            Granted until <Clock iso={a.endsAt} /> (<span className="countdown">{relative(a.endsAt, now).replace(/^in /, '')} left</span>)
          </>
        );
      }
      return a.endsAt ? <>Ended at <Clock iso={a.endsAt} /></> : <>Ended</>;
    case 'ENDED':
      if (a.revokedAt) {
        return (
          <>
            Revoked by {a.revokedBy ? visibleString(a.revokedBy) : 'someone'} at <Clock iso={a.revokedAt} />
          </>
        );
      }
      return a.endsAt ? <>Ended at <Clock iso={a.endsAt} /></> : <>Ended</>;
    case 'REJECTED':
      return <>Rejected: no access was granted.</>;
    case 'EXPIRED':
      return <>Expired without every approval: no access was granted.</>;
    default:
      return <>{review.status.toLowerCase()}</>;
  }
}

/** The window of an access request, and Revoke access (with a confirmation) for those who may. */
export function AccessWindowPanel({ review, onRevoked }: { review: ReviewViewForViewer; onRevoked(r: ReviewViewForViewer): void }) {
  const now = useNow();
  const [confirming, setConfirming] = useState(false);
  const a = review.access;
  if (!a) return null;
  const open = review.status === 'GRANTED' && a.endsAt !== null && new Date(a.endsAt).getTime() > now;
  return (
    <section className="panel access-window" aria-labelledby="access-window-h">
      <h2 id="access-window-h">Access window</h2>
      <dl className="facts">
        <dt>Asked for</dt>
        <dd>
          {durationWords(a.durationSec)} on {review.connection}
        </dd>
        <dt>Access</dt>
        <dd>
          <AccessStatusWords review={review} now={now} />
        </dd>
      </dl>
      {open ? <p className="hint">{visibleString(review.requester)}'s commands on {review.connection} run without a per-command review until then; guardrails and masking still apply.</p> : null}
      {open && review.viewer.canRevoke ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Revoke access
        </button>
      ) : null}
      {confirming ? (
        <ConfirmDialog
          title="Revoke this access?"
          confirm="Revoke access"
          danger
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            onRevoked(await api.put<ReviewViewForViewer>(`/api/reviews/${encodeURIComponent(review.id)}/revoke`, {}));
          }}
        >
          <p>
            {visibleString(review.requester)}'s access to {review.connection} ends now; their next command there that needs a review waits for one again.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** On a command that ran under an access window: the link to that window's request. */
export function GrantLink({ review }: { review: ReviewView }) {
  if (!review.grantId) return null;
  return (
    <p className="notice" role="note">
      Ran under access window <Link to={`/reviews/${review.grantId}`}>{review.grantId.slice(0, 8)}</Link>: no per-command review was asked for.
    </p>
  );
}
