// A secret the API answers once (a new user's or new API key, a webhook's signing secret): shown
// with a copy button and a plain warning, because it is stored only as a hash (or only in the
// signing table) and no page can show it again.
import { useRef, useState, type ReactNode } from 'react';

export interface SecretOnceProps {
  /** The field's label, e.g. "API key of alice@example.com". */
  label: string;
  secret: string;
  children?: ReactNode;
  onDone(): void;
}

export function SecretOnce({ label, secret, children, onDone }: SecretOnceProps) {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'select' | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // No clipboard (an insecure origin, a refused permission): select it for Ctrl+C instead.
      input.current?.select();
      setCopied('select');
    }
  };
  return (
    <div className="secret-once" role="region" aria-label={`${label}, shown once`}>
      <p className="secret-warning">
        <strong>Copy it now: you will not see it again.</strong> It is stored only in a form that cannot be shown back.
      </p>
      {children}
      <label htmlFor="secret-once-value">{label}</label>
      <div className="secret-row">
        <input id="secret-once-value" ref={input} className="mono" readOnly value={secret} onFocus={(e) => e.currentTarget.select()} spellCheck={false} autoComplete="off" />
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="hint" aria-live="polite">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'select' ? 'The browser refused the clipboard; the text is selected: press Ctrl+C (⌘C).' : ''}
      </p>
      <button type="button" className="secondary" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
