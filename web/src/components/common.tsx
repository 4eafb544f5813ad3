// Small pieces every page uses: statuses as words, times, errors in words, a page heading.
import { useEffect, useState, type ReactNode } from 'react';
import { ApiError } from '../api.ts';

const STATUS_WORDS: Record<string, string> = {
  PENDING: 'Pending',
  APPROVED: 'Approved',
  RUNNING: 'Running',
  EXECUTED: 'Executed',
  FAILED: 'Failed',
  REJECTED: 'Rejected',
  EXPIRED: 'Expired',
  GRANTED: 'Granted',
  ENDED: 'Ended',
};

/** A review's status as a word, e.g. "Pending". */
export function statusWord(status: string): string {
  return STATUS_WORDS[status] ?? status.charAt(0) + status.slice(1).toLowerCase();
}

export function StatusBadge({ status }: { status: string }) {
  return <span className={`status status-${status.toLowerCase()}`}>{statusWord(status)}</span>;
}

/** Re-renders every `ms` (for countdowns). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** "in 4 min 12 s", "3 h ago". */
export function relative(iso: string, now: number): string {
  const diff = new Date(iso).getTime() - now;
  const abs = Math.abs(diff) / 1000;
  const text =
    abs < 60 ? `${Math.floor(abs)} s` : abs < 3600 ? `${Math.floor(abs / 60)} min ${Math.floor(abs % 60)} s` : abs < 86_400 ? `${Math.floor(abs / 3600)} h ${Math.floor((abs % 3600) / 60)} min` : `${Math.floor(abs / 86_400)} d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** A time as the reader's locale writes it, with the exact ISO time on hover. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={iso}>
      {new Date(iso).toLocaleString()}
    </time>
  );
}

/** An error in words, announced to screen readers. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="error">
      {message}
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · hoop approvals`;
  }, [title]);
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children ? <div className="page-actions">{children}</div> : null}
    </header>
  );
}

/** "1 of 2 groups approved", "0 of 1 group approved". */
export function approvalsText(a: { approved: number; total: number }): string {
  return `${a.approved} of ${a.total} ${a.total === 1 ? 'group' : 'groups'} approved`;
}
