// A connection's Just-in-Time access settings (issue 13), part of the connection form: the access
// mode (the seeds' "Action vs JIT"), the longest window one request may ask for, and whether agents
// may ask for windows. The gateway checks every value again and says what it takes instead.
import { durationWords, parseDuration } from '../../../src/core/access-window.ts';

export const ACCESS_MODE_CHOICES = [
  { mode: 'command', label: 'Each command', hint: 'Every command that needs a review is reviewed on its own (an action request).' },
  { mode: 'jit', label: 'Access windows only', hint: 'People ask for a time window first; once approved, their commands run without a per-command review until it ends.' },
  { mode: 'both', label: 'Both', hint: 'A command may be reviewed on its own, or run under an approved access window.' },
] as const;

export type AccessModeChoice = (typeof ACCESS_MODE_CHOICES)[number]['mode'];

/** 5400 → "1h30m": a window as the duration field takes it back. */
export function compactDuration(sec: number): string {
  const units: [number, string][] = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let left = sec;
  let text = '';
  for (const [size, unit] of units) {
    const n = Math.floor(left / size);
    if (n > 0) text += `${n}${unit}`;
    left -= n * size;
  }
  return text || '0s';
}

export interface AccessSettingsValue {
  accessMode: AccessModeChoice;
  /** As typed: "30m", "4h", "1d" or seconds. */
  maxAccess: string;
  jitAgents: boolean;
}

export function AccessSettings({ value, onChange }: { value: AccessSettingsValue; onChange(v: AccessSettingsValue): void }) {
  const set = (patch: Partial<AccessSettingsValue>) => onChange({ ...value, ...patch });
  const sec = parseDuration(value.maxAccess);
  const windows = value.accessMode !== 'command';
  return (
    <fieldset>
      <legend>Just-in-Time access</legend>
      <div className="choices" role="radiogroup" aria-label="Access mode">
        {ACCESS_MODE_CHOICES.map((m) => (
          <div className="field check" key={m.mode}>
            <input id={`cf-access-mode-${m.mode}`} type="radio" name="cf-access-mode" value={m.mode} checked={value.accessMode === m.mode} onChange={() => set({ accessMode: m.mode })} aria-describedby={`cf-access-mode-${m.mode}-hint`} />
            <div>
              <label htmlFor={`cf-access-mode-${m.mode}`}>{m.label}</label>
              <p className="hint" id={`cf-access-mode-${m.mode}-hint`}>
                {m.hint}
              </p>
            </div>
          </div>
        ))}
      </div>
      <div className="field">
        <label htmlFor="cf-max-access">Longest access window</label>
        <input id="cf-max-access" value={value.maxAccess} maxLength={20} onChange={(e) => set({ maxAccess: e.target.value })} autoComplete="off" spellCheck={false} placeholder="1h" aria-describedby="cf-max-access-hint" />
        <p className="hint" id="cf-max-access-hint">
          {sec !== null ? `${durationWords(sec)}. ` : ''}e.g. 30m, 4h or 1d (1 minute to 7 days); one request asks for this or less.
        </p>
      </div>
      <div className="field switch-field">
        <input id="cf-jit-agents" type="checkbox" role="switch" checked={value.jitAgents} disabled={!windows} onChange={(e) => set({ jitAgents: e.target.checked })} aria-describedby="cf-jit-agents-hint" />
        <label htmlFor="cf-jit-agents">Agents may ask for windows</label>
        <p className="hint" id="cf-jit-agents-hint">
          {windows ? (value.jitAgents ? 'Agents may ask for access windows too (a person still approves them).' : 'Off: each command of an agent is reviewed.') : 'Only with access windows on.'}
        </p>
      </div>
    </fieldset>
  );
}
