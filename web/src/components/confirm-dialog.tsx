// A question before something that cannot be undone by a click (deactivate, revoke, delete): a
// native <dialog> shown modally, so focus moves into it, Escape cancels and the page behind is inert.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { ErrorMessage } from './common.tsx';

export interface ConfirmDialogProps {
  /** The dialog's heading, also its accessible name. */
  title: string;
  children?: ReactNode;
  /** The confirming button's words, e.g. "Revoke key". */
  confirm: string;
  danger?: boolean;
  /** Does the thing; a refusal (thrown) is shown in the dialog, which stays open. */
  onConfirm(): Promise<void>;
  onClose(): void;
}

/** Open while rendered: render it when the question is asked, drop it in `onClose`. */
export function ConfirmDialog({ title, children, confirm, danger, onConfirm, onClose }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const titleId = `confirm-${title.replace(/\W+/g, '-').toLowerCase()}`;

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e) => (busy ? e.preventDefault() : onClose())}>
      <h2 id={titleId} className="dialog-title">
        {title}
      </h2>
      {children}
      <ErrorMessage error={error} />
      <div className="dialog-actions">
        <button type="button" className="secondary" onClick={onClose} disabled={busy} autoFocus>
          Cancel
        </button>
        <button type="button" className={danger ? 'danger' : undefined} onClick={() => void run()} disabled={busy}>
          {busy ? 'Working…' : confirm}
        </button>
      </div>
    </dialog>
  );
}
