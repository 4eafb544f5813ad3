// Characters a reader would not see, or that would reorder what they see (bidirectional overrides,
// zero-width characters, control characters), spelled out as ⟦U+202E⟧ the way Teams cards and the
// CLI show them: a command shown to a reviewer must read as it will run ("Trojan Source").
import type { ReactNode } from 'react';

const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u00ad\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** How many hidden or reordering characters `text` holds. */
export function hiddenCount(text: string): number {
  return text.match(HIDDEN)?.length ?? 0;
}

/** `text` with each hidden or reordering character shown as a marked ⟦U+XXXX⟧. */
export function visibleText(text: string, key = 'v'): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(HIDDEN)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const code = `U+${m[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    out.push(
      <mark key={`${key}-${m.index}`} className="hidden-char" title={`An invisible or direction-changing character (${code}) is here`}>
        ⟦{code}⟧
      </mark>,
    );
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** `text` with each hidden or reordering character written as ⟦U+XXXX⟧, for text built as a string. */
export function visibleString(text: string): string {
  return text.replace(HIDDEN, (c) => `⟦U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟧`);
}
