// Corrections (issue 14) on a request's page: a reviewer's "Suggest a change" (a dialog with the
// command to edit and a required comment), and on a correction what it corrects, by whom, the line
// diff, and for its requester the "Accept change" button (it never runs before).
import { useRef, useState, type FormEvent } from 'react';
import type { ReviewViewForViewer } from '../../../src/contracts/review-view.ts';
import { api } from '../api.ts';
import { ErrorMessage } from './common.tsx';
import { visibleText } from './visible-text.tsx';
import { Link, navigate } from '../router.tsx';

/** The "Suggest a change" button and its dialog, for those the gateway says may suggest one. */
export function SuggestChange({ review, group, disabled }: { review: ReviewViewForViewer; group: string; disabled?: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [input, setInput] = useState(review.input);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!review.viewer.canSuggest) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const done = await api.post<{ correction: ReviewViewForViewer }>(`/api/reviews/${encodeURIComponent(review.id)}/suggest`, { input, comment: comment.trim(), ...(group ? { group } : {}) });
      dialog.current?.close();
      navigate(`/reviews/${encodeURIComponent(done.correction.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="secondary"
        disabled={disabled || busy}
        onClick={() => {
          setError(null);
          setInput(review.input);
          dialog.current?.showModal();
        }}
      >
        Suggest a change
      </button>
      <dialog ref={dialog} aria-labelledby="suggest-h" className="suggest">
        <form method="dialog" onSubmit={submit}>
          <h2 id="suggest-h">Suggest a change</h2>
          <p className="hint">This request is rejected, and the corrected command becomes a new request in the requester's name, with your approval. It runs once the requester accepts the change and the other groups approve.</p>
          <div className="field">
            <label htmlFor="suggest-input">Command</label>
            <textarea id="suggest-input" className="mono" rows={8} value={input} onChange={(e) => setInput(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="suggest-comment">Comment</label>
            <textarea id="suggest-comment" className="reason" required maxLength={1000} value={comment} onChange={(e) => setComment(e.target.value)} aria-describedby="suggest-hint" />
            <p className="hint" id="suggest-hint">
              Why the command changes; everyone sees it. Required, up to 1,000 characters.
            </p>
          </div>
          <ErrorMessage error={error} />
          <div className="row">
            <button type="submit" disabled={busy || !comment.trim() || input === review.input}>
              Suggest change
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

/** One line of a diff, marked as removed, added or kept. */
function DiffLine({ line }: { line: string }) {
  const mark = line[0];
  const kind = mark === '+' ? 'added' : mark === '-' ? 'removed' : 'kept';
  return <span className={`diff-${kind}`}>{visibleText(line)}</span>;
}

/** What a correction corrects, by whom and why, its diff, and its requester's Accept button; or, on an original, the link to its correction. */
export function CorrectionPanel({ review, onAccepted }: { review: ReviewViewForViewer; onAccepted: (r: ReviewViewForViewer) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const c = review.correction;
  if (!c) {
    return review.correctedBy ? (
      <p className="notice" role="note">
        A reviewer changed this request: see its <Link to={`/reviews/${encodeURIComponent(review.correctedBy)}`}>correction</Link>.
      </p>
    ) : null;
  }
  // The requester accepts the change, or turns it down (a rejection of the correction).
  const answer = async (action: 'accept' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      onAccepted(await api.put<ReviewViewForViewer>(`/api/reviews/${encodeURIComponent(review.id)}/${action}`, action === 'reject' ? { reason: 'The requester declined the change.' } : {}));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="panel correction" aria-labelledby="correction-h">
      <h2 id="correction-h">
        Correction of {c.of ? <Link to={`/reviews/${encodeURIComponent(c.of)}`}>{c.of}</Link> : 'a deleted request'}
      </h2>
      <p>
        Changed by {c.suggestedBy ? visibleText(c.suggestedBy) : 'a reviewer'}: “{visibleText(c.comment)}”
      </p>
      <pre className="diff" aria-label="What changed: removed lines start with -, added lines with +">
        {c.diff.split('\n').map((line, i) => (
          <DiffLine key={i} line={line} />
        ))}
      </pre>
      <p className="hint">{c.accepted ? 'The requester accepted this change.' : 'It runs only once its requester accepts the change and every reviewer group has approved it.'}</p>
      {review.viewer.canAccept ? (
        <div className="row">
          <button type="button" className="approve" disabled={busy} onClick={() => void answer('accept')}>
            Accept change
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => void answer('reject')}>
            Decline change
          </button>
        </div>
      ) : null}
      <ErrorMessage error={error} />
    </section>
  );
}
