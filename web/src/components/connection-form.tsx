// An admin's form for a connection, new or existing: what `hoop admin create connection` takes.
// The database URL and the Teams URL are write-only: password fields, never filled from the
// gateway (it never sends them); left empty on an existing connection, the gateway keeps them.
import { useState, type FormEvent } from 'react';
import { ErrorMessage } from './common.tsx';
import { ChipList } from './chip-list.tsx';
import { GuardrailsEditor, type RuleDraft } from './guardrails-editor.tsx';
import { AccessSettings, compactDuration, type AccessSettingsValue } from './access-settings.tsx';
import { saveConnection, type ConnectionInput, type ConnectionView } from '../connections-api.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DETECTORS = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip'] as const;
const PLUGINS = [
  { name: 'slack', label: 'Slack' },
  { name: 'teams', label: 'Microsoft Teams' },
  { name: 'webhooks', label: 'Webhooks' },
] as const;
const MODES = [
  { mode: 'writes', label: 'Writes', hint: 'Reads run at once, in a read-only transaction; everything else waits for approval.' },
  { mode: 'all', label: 'All', hint: 'Every command waits for approval, reads too.' },
  { mode: 'none', label: 'None', hint: 'Nothing waits for approval (the groups are kept for later).' },
] as const;
/** A new connection's guardrails, as the gateway would set them. */
const NEW_RULES: RuleDraft[] = [
  { type: 'deny-command', command: 'DROP TABLE' },
  { type: 'deny-command', command: 'DROP SCHEMA' },
  { type: 'deny-command', command: 'DROP DATABASE' },
  { type: 'deny-command', command: 'TRUNCATE' },
];

const groupCheck = (g: string) => (GROUP.test(g) ? null : `"${g}" is not a valid group name: use letters, digits, '.', '_' or '-'.`);

export interface ConnectionFormProps {
  /** The connection being changed; absent for a new one. */
  existing?: ConnectionView;
  /** Groups to suggest (those users already have). */
  knownGroups: string[];
  onSaved(c: ConnectionView, created: boolean): void;
}

export function ConnectionForm({ existing, knownGroups, onSaved }: ConnectionFormProps) {
  const [name, setName] = useState(existing?.name ?? '');
  const [url, setUrl] = useState('');
  const [accessRequests, setAccessRequests] = useState(existing ? existing.reviewers.length > 0 : false);
  const [reviewers, setReviewers] = useState<string[]>(existing?.reviewers ?? []);
  const [reviewMode, setReviewMode] = useState(existing?.reviewMode ?? 'writes');
  const [distinctApprovers, setDistinctApprovers] = useState(existing?.distinctApprovers ?? true);
  const [rules, setRules] = useState<RuleDraft[]>(existing?.guardrails ?? NEW_RULES);
  const [allowedGroups, setAllowedGroups] = useState<string[]>(existing?.allowedGroups ?? []);
  const [maskColumns, setMaskColumns] = useState<string[]>(existing?.maskColumns ?? []);
  const [maskDetectors, setMaskDetectors] = useState<string[]>(existing?.maskDetectors ?? []);
  const [allowFunctions, setAllowFunctions] = useState<string[]>(existing?.allowFunctions ?? []);
  const [plugins, setPlugins] = useState<string[]>(existing?.plugins ?? []);
  const [slackChannel, setSlackChannel] = useState(existing?.slackChannel ?? '');
  const [teamsUrl, setTeamsUrl] = useState('');
  const [removeTeamsUrl, setRemoveTeamsUrl] = useState(false);
  const [access, setAccess] = useState<AccessSettingsValue>({ accessMode: existing?.accessMode ?? 'command', maxAccess: existing ? compactDuration(existing.maxAccessSec) : '1h', jitAgents: existing?.jitAgents ?? false });
  const [previewMode, setPreviewMode] = useState<ConnectionInput['previewMode']>(existing?.previewMode ?? 'auto');
  const [previewTimeout, setPreviewTimeout] = useState(String(existing?.previewTimeoutMs ?? 2000));
  const [previewLock, setPreviewLock] = useState(String(existing?.previewLockTimeoutMs ?? 200));
  const [tolerance, setTolerance] = useState(String(existing?.rowTolerancePct ?? 0));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const toggle = (list: string[], value: string, on: boolean) => (on ? [...new Set([...list, value])] : list.filter((x) => x !== value));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!existing && !NAME.test(name.trim())) return setError(new Error('Give the connection a name of letters, digits, ".", "_" or "-", e.g. prod-db.'));
    if (!existing && !url.trim()) return setError(new Error('Give the database URL, e.g. postgres://app:secret@db.internal:5432/app.'));
    if (accessRequests && reviewers.length === 0) return setError(new Error('Add at least one approver group (Add Group), or turn Access Requests off.'));
    const whole = (v: string) => (/^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : NaN);
    const limits = { previewTimeoutMs: whole(previewTimeout), previewLockTimeoutMs: whole(previewLock), rowTolerancePct: whole(tolerance) };
    if (Object.values(limits).some(Number.isNaN)) return setError(new Error('The impact preview limits and the row tolerance are whole numbers (milliseconds, percent).'));
    const input: ConnectionInput = {
      name: existing?.name ?? name.trim(),
      reviewers: accessRequests ? reviewers : [],
      slackChannel: slackChannel.trim() || null,
      reviewMode,
      guardrails: rules,
      allowedGroups,
      maskColumns,
      maskDetectors,
      allowFunctions,
      distinctApprovers,
      plugins,
      accessMode: access.accessMode,
      jitAgents: access.jitAgents,
      previewMode,
      ...limits,
    };
    // The gateway parses and bounds it, and says what it takes when it is not a duration.
    if (access.maxAccess.trim()) input.maxAccessDuration = access.maxAccess.trim();
    // Write-only secrets: sent only when typed (or, for Teams, removed on purpose).
    if (url.trim()) input.url = url.trim();
    if (removeTeamsUrl) input.teamsWebhookUrl = null;
    else if (teamsUrl.trim()) input.teamsWebhookUrl = teamsUrl.trim();
    setBusy(true);
    try {
      const saved = await saveConnection(input, Boolean(existing));
      setUrl('');
      setTeamsUrl('');
      setRemoveTeamsUrl(false);
      onSaved(saved, !existing);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="connection-form" onSubmit={submit} aria-label={existing ? `Configure ${existing.name}` : 'New connection'} noValidate>
      <section className="panel" aria-labelledby="cf-basics">
        <h2 id="cf-basics">Connection</h2>
        <div className="field">
          <label htmlFor="cf-name">Name</label>
          <input id="cf-name" value={name} readOnly={Boolean(existing)} onChange={(e) => setName(e.target.value)} autoComplete="off" placeholder="prod-db" aria-describedby="cf-name-hint" />
          <p className="hint" id="cf-name-hint">
            {existing ? 'The name is how users pick it (hoop exec NAME); it cannot change.' : 'Letters, digits, ".", "_" or "-".'}
          </p>
        </div>
        <div className="field">
          <label htmlFor="cf-url">Database URL</label>
          <input id="cf-url" className="wide mono" type="password" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="new-password" spellCheck={false} placeholder={existing ? '(unchanged)' : 'postgres://USER:PASSWORD@HOST:5432/DBNAME'} aria-describedby="cf-url-hint" />
          <p className="hint" id="cf-url-hint">
            {existing
              ? `A ${existing.type} database. The URL holds its password, so it is never shown; leave this empty to keep the current one.`
              : 'postgres:// or mysql://, with the password. It is stored on the gateway and never shown again.'}
          </p>
        </div>
      </section>

      <section className="panel" aria-labelledby="cf-additional">
        <h2 id="cf-additional">Additional Configuration</h2>
        <div className="field switch-field">
          <input id="cf-access-requests" type="checkbox" role="switch" checked={accessRequests} onChange={(e) => setAccessRequests(e.target.checked)} aria-describedby="cf-access-hint" />
          <label htmlFor="cf-access-requests">Access Requests</label>
          <p className="hint" id="cf-access-hint">
            {accessRequests ? 'Commands wait for approval by every group below before they run.' : 'Off: commands run without review.'}
          </p>
        </div>
        {accessRequests ? (
          <fieldset>
            <legend>Approver groups</legend>
            <ChipList
              label="Group"
              listLabel="Approver groups"
              addLabel="Add Group"
              values={reviewers}
              onChange={setReviewers}
              check={groupCheck}
              suggestions={knownGroups}
              placeholder="dba-team"
              empty="No group yet: add one."
              hint="Every group must approve; any member of a group approves for it. Members are notified of new requests."
            />
            <div className="field">
              <label htmlFor="cf-review-mode">Review mode</label>
              <select id="cf-review-mode" value={reviewMode} onChange={(e) => setReviewMode(e.target.value)} aria-describedby="cf-review-mode-hint">
                {MODES.map((m) => (
                  <option key={m.mode} value={m.mode}>
                    {m.label}
                  </option>
                ))}
              </select>
              <p className="hint" id="cf-review-mode-hint">
                {MODES.find((m) => m.mode === reviewMode)?.hint}
              </p>
            </div>
            <div className="field check">
              <input id="cf-distinct" type="checkbox" checked={distinctApprovers} onChange={(e) => setDistinctApprovers(e.target.checked)} />
              <label htmlFor="cf-distinct">Distinct approvers (one person approves for one group only)</label>
            </div>
          </fieldset>
        ) : null}

        <AccessSettings value={access} onChange={setAccess} />

        <fieldset>
          <legend>Impact preview</legend>
          <p className="hint">Before reviewers are asked, a write is measured: a dry run that is always rolled back where that is safe, else the planner's estimate. An approved run that changes more rows than counted (plus the tolerance) is rolled back.</p>
          <div className="field">
            <label htmlFor="cf-preview">Preview</label>
            <select id="cf-preview" value={previewMode} onChange={(e) => setPreviewMode(e.target.value as ConnectionInput['previewMode'])}>
              <option value="auto">Dry run where safe, else estimate</option>
              <option value="estimate">Estimate only</option>
              <option value="off">Off</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="cf-preview-timeout">Dry run time limit (ms)</label>
            <input id="cf-preview-timeout" inputMode="numeric" value={previewTimeout} onChange={(e) => setPreviewTimeout(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="cf-preview-lock">Lock wait limit (ms)</label>
            <input id="cf-preview-lock" inputMode="numeric" value={previewLock} onChange={(e) => setPreviewLock(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="cf-tolerance">Row tolerance (%)</label>
            <input id="cf-tolerance" inputMode="numeric" value={tolerance} onChange={(e) => setTolerance(e.target.value)} aria-describedby="cf-tolerance-hint" />
            <p className="hint" id="cf-tolerance-hint">How many percent more rows than the dry run counted an approved run may change; 0 allows exactly the count.</p>
          </div>
        </fieldset>

        <fieldset>
          <legend>Guardrails</legend>
          <p className="hint">Commands matching a rule are refused before any review.</p>
          <GuardrailsEditor rules={rules} onChange={setRules} />
        </fieldset>

        <fieldset>
          <legend>Masking</legend>
          <ChipList label="Column" listLabel="Masked columns" addLabel="Add column" values={maskColumns} onChange={setMaskColumns} placeholder="email or *_ssn" hint="Values of columns named like these are masked in results." />
          <div className="checks" role="group" aria-label="Masking detectors">
            <p className="hint">Mask values found by:</p>
            {DETECTORS.map((d) => (
              <div className="field check" key={d}>
                <input id={`cf-detector-${d}`} type="checkbox" checked={maskDetectors.includes(d)} onChange={(e) => setMaskDetectors(toggle(maskDetectors, d, e.target.checked))} />
                <label htmlFor={`cf-detector-${d}`}>{d.replace('_', ' ')}</label>
              </div>
            ))}
          </div>
        </fieldset>

        <fieldset>
          <legend>Allowed groups</legend>
          <ChipList label="Allowed group" listLabel="Allowed groups" addLabel="Add allowed group" values={allowedGroups} onChange={setAllowedGroups} check={groupCheck} suggestions={knownGroups} empty="Everyone may use this connection." hint="Only these groups (and the approvers) see and use the connection." />
        </fieldset>

        <fieldset>
          <legend>Read-only functions</legend>
          <ChipList label="Function" listLabel="Read-only functions" addLabel="Add function" values={allowFunctions} onChange={setAllowFunctions} placeholder="app.my_report" hint="Functions this database only reads with: a SELECT calling them still runs at once." />
        </fieldset>

        <fieldset>
          <legend>Plugins</legend>
          <div className="checks" role="group" aria-label="Plugins">
            {PLUGINS.map((p) => (
              <div className="field check" key={p.name}>
                <input id={`cf-plugin-${p.name}`} type="checkbox" checked={plugins.includes(p.name)} onChange={(e) => setPlugins(toggle(plugins, p.name, e.target.checked))} />
                <label htmlFor={`cf-plugin-${p.name}`}>{p.label}</label>
              </div>
            ))}
          </div>
          <p className="hint">None ticked: requests are announced on every channel the gateway has.</p>
          <div className="field">
            <label htmlFor="cf-slack-channel">Slack channel</label>
            <input id="cf-slack-channel" value={slackChannel} onChange={(e) => setSlackChannel(e.target.value)} placeholder="C0123456789" autoComplete="off" />
          </div>
          <div className="field">
            <label htmlFor="cf-teams-url">Teams webhook URL</label>
            <input id="cf-teams-url" className="wide mono" type="password" value={teamsUrl} disabled={removeTeamsUrl} onChange={(e) => setTeamsUrl(e.target.value)} autoComplete="new-password" spellCheck={false} aria-describedby="cf-teams-hint" placeholder={existing?.teamsWebhookUrlSet ? '(unchanged)' : 'https://…'} />
            <p className="hint" id="cf-teams-hint">
              {existing?.teamsWebhookUrlSet
                ? 'This connection has its own Teams URL (never shown: it holds a secret). Leave empty to keep it.'
                : 'The HTTP POST URL of a Teams Workflows flow; empty: the gateway\'s TEAMS_WEBHOOK_URL.'}
            </p>
          </div>
          {existing?.teamsWebhookUrlSet ? (
            <div className="field check">
              <input id="cf-teams-remove" type="checkbox" checked={removeTeamsUrl} onChange={(e) => setRemoveTeamsUrl(e.target.checked)} />
              <label htmlFor="cf-teams-remove">Remove this connection's Teams URL</label>
            </div>
          ) : null}
        </fieldset>
      </section>
      <ErrorMessage error={error} />
      <div className="row form-actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
