// A command shown whole, monospace and highlighted (sql-tokens.ts). Text goes through React, which
// escapes it: no HTML is built from the command. Long lines wrap; nothing is cut.
import { useMemo } from 'react';
import { tokenizeSql } from '../sql-tokens.ts';
import { hiddenCount, visibleText } from './visible-text.tsx';

/** Beyond this many characters the rest is shown plain (still whole): a span per token of a 1 MiB command would slow the page. */
const HIGHLIGHT_CHARS = 200_000;

export function SqlBlock({ sql, label }: { sql: string; label: string }) {
  const tokens = useMemo(() => {
    const head = tokenizeSql(sql.slice(0, HIGHLIGHT_CHARS));
    return sql.length > HIGHLIGHT_CHARS ? [...head, { kind: 'text' as const, text: sql.slice(HIGHLIGHT_CHARS) }] : head;
  }, [sql]);
  const hidden = useMemo(() => hiddenCount(sql), [sql]);
  return (
    <>
      {hidden ? (
        <p className="error" role="note">
          This command holds {hidden === 1 ? 'a character' : `${hidden} characters`} you would not see, or that would reorder what you see; each is shown as ⟦U+…⟧. Read it with care.
        </p>
      ) : null}
      <pre className="sql" tabIndex={0} aria-label={label}>
        <code>
          {tokens.map((t, i) => (t.kind === 'text' ? <span key={i}>{visibleText(t.text, String(i))}</span> : <span key={i} className={`sql-${t.kind}`}>{visibleText(t.text, String(i))}</span>))}
        </code>
      </pre>
    </>
  );
}
