// A list of names edited one at a time: each shown as a chip with its own Remove button, a labelled
// input and an Add button (Enter in the input adds too, instead of submitting the form).
import { useId, useRef, useState, type KeyboardEvent } from 'react';

export interface ChipListProps {
  /** The input's label, e.g. "Group". */
  label: string;
  /** The list's name for screen readers, e.g. "Approver groups". */
  listLabel: string;
  /** The add button's words, e.g. "Add Group". */
  addLabel: string;
  values: string[];
  onChange(values: string[]): void;
  /** A sentence saying what is wrong with `value`, or null when it may be added. */
  check?(value: string): string | null;
  placeholder?: string;
  /** Names to suggest while typing (e.g. groups users already have). */
  suggestions?: string[];
  hint?: string;
  empty?: string;
}

export function ChipList({ label, listLabel, addLabel, values, onChange, check, placeholder, suggestions, hint, empty }: ChipListProps) {
  const id = useId();
  const [draft, setDraft] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);

  // The pressed Remove button leaves the page with its chip: focus goes to the next chip's button
  // (or the input after the last one), not to <body>, where a keyboard user would start over.
  const remove = (v: string) => {
    const buttons = [...(listRef.current?.querySelectorAll<HTMLButtonElement>('button.chip-remove') ?? [])];
    const at = values.indexOf(v);
    const next = buttons[at + 1] ?? null;
    onChange(values.filter((x) => x !== v));
    if (next) next.focus();
    else inputRef.current?.focus();
  };

  const add = () => {
    const value = draft.trim();
    if (!value) return setProblem(`Type a name first, then ${addLabel}.`);
    const wrong = check?.(value) ?? null;
    if (wrong) return setProblem(wrong);
    setProblem(null);
    setDraft('');
    if (!values.includes(value)) onChange([...values, value]);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      add();
    }
  };

  return (
    <div className="chip-list">
      <ul className="chips" aria-label={listLabel} ref={listRef}>
        {values.map((v) => (
          <li key={v} className="chip">
            <span className="mono">{v}</span>
            <button type="button" className="chip-remove" aria-label={`Remove ${v}`} title={`Remove ${v}`} onClick={() => remove(v)}>
              ×
            </button>
          </li>
        ))}
        {values.length === 0 && empty ? <li className="muted chip-empty">{empty}</li> : null}
      </ul>
      <div className="row chip-add">
        <div className="field">
          <label htmlFor={`${id}-input`}>{label}</label>
          <input
            id={`${id}-input`}
            ref={inputRef}
            value={draft}
            placeholder={placeholder}
            list={suggestions?.length ? `${id}-suggestions` : undefined}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? `${id}-problem` : hint ? `${id}-hint` : undefined}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onKeyDown}
            autoComplete="off"
          />
          {suggestions?.length ? (
            <datalist id={`${id}-suggestions`}>
              {suggestions.filter((s) => !values.includes(s)).map((s) => (
                <option key={s} value={s} />
              ))}
            </datalist>
          ) : null}
        </div>
        <div className="field">
          <button type="button" className="secondary" onClick={add}>
            {addLabel}
          </button>
        </div>
      </div>
      {problem ? (
        <p className="error" id={`${id}-problem`} role="alert">
          {problem}
        </p>
      ) : hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}
