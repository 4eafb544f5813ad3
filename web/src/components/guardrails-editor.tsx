// A connection's guardrails: rules that refuse a command before any review. Existing rules are
// sent back as they are (with their names and messages); new ones get the gateway's defaults.
import { useId, useState } from 'react';
import type { GuardrailRule } from '../../../src/core/sql-policy.ts';

/** A rule as the editor holds it: a stored one, or a new one the gateway completes. */
export type RuleDraft = GuardrailRule | { type: 'deny-command'; command: string } | { type: 'regex'; pattern: string } | { type: 'deny-unbounded-write' | 'deny-unchecked-sql' };

const KINDS = [
  { type: 'deny-command', label: 'Block a command', needs: 'Command', example: 'DROP TABLE' },
  { type: 'regex', label: 'Block SQL matching a pattern', needs: 'Pattern', example: 'pg_sleep' },
  { type: 'deny-unbounded-write', label: 'Block UPDATE and DELETE without WHERE', needs: null, example: '' },
  { type: 'deny-unchecked-sql', label: 'Block SQL the gateway cannot check', needs: null, example: '' },
] as const;

/** A rule in words, e.g. "Block DROP TABLE". */
export function ruleWords(r: RuleDraft): string {
  if (r.type === 'deny-command') return `Block ${r.command.toUpperCase()}`;
  if (r.type === 'regex') return `Block SQL matching /${r.pattern}/`;
  if (r.type === 'deny-unbounded-write') return 'Block UPDATE and DELETE without WHERE';
  return 'Block SQL the gateway cannot check';
}

export function GuardrailsEditor({ rules, onChange }: { rules: RuleDraft[]; onChange(rules: RuleDraft[]): void }) {
  const id = useId();
  const [kind, setKind] = useState<(typeof KINDS)[number]['type']>('deny-command');
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const spec = KINDS.find((k) => k.type === kind)!;

  const add = () => {
    const v = value.trim();
    if (spec.needs && !v) return setProblem(`Give the ${spec.needs.toLowerCase()} to block, e.g. ${spec.example}.`);
    if (kind === 'regex') {
      try {
        new RegExp(v, 'i');
      } catch (e) {
        return setProblem(`"${v}" is not a valid regular expression (${(e as Error).message}).`);
      }
    }
    const rule: RuleDraft = kind === 'deny-command' ? { type: kind, command: v.toUpperCase().replace(/\s+/g, ' ') } : kind === 'regex' ? { type: kind, pattern: v } : { type: kind };
    if (rules.some((r) => ruleWords(r) === ruleWords(rule))) return setProblem('That rule is in the list already.');
    setProblem(null);
    setValue('');
    onChange([...rules, rule]);
  };

  return (
    <div className="guardrails">
      <ul className="rules" aria-label="Guardrails">
        {rules.map((r, i) => (
          <li key={`${ruleWords(r)}-${i}`}>
            <span>
              {ruleWords(r)}
              {'message' in r && r.message ? <span className="hint"> — “{r.message}”</span> : null}
            </span>
            <button type="button" className="secondary small" aria-label={`Remove rule: ${ruleWords(r)}`} onClick={() => onChange(rules.filter((_, j) => j !== i))}>
              Remove
            </button>
          </li>
        ))}
        {rules.length === 0 ? <li className="muted">No guardrails: any command may be requested.</li> : null}
      </ul>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-kind`}>New rule</label>
          <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>
            {KINDS.map((k) => (
              <option key={k.type} value={k.type}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        {spec.needs ? (
          <div className="field">
            <label htmlFor={`${id}-value`}>{spec.needs}</label>
            <input
              id={`${id}-value`}
              className="mono"
              value={value}
              placeholder={spec.example}
              onChange={(e) => setValue(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  add();
                }
              }}
            />
          </div>
        ) : null}
        <div className="field">
          <button type="button" className="secondary" onClick={add}>
            Add rule
          </button>
        </div>
      </div>
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
