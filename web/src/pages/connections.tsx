// Connections: the list everyone may see (only the connections they may use, as the API lists
// them), and for admins the forms that create and configure one (/connections/new,
// /connections/<name>): the seeds' "Connections → Additional Configuration → Access Requests →
// Add Group → Save". Others see a connection's settings read-only.
import { useCallback, useEffect, useState } from 'react';
import { api, query } from '../api.ts';
import { ErrorMessage, PageHeader } from '../components/common.tsx';
import { ConnectionForm } from '../components/connection-form.tsx';
import { ACCESS_MODE_CHOICES } from '../components/access-settings.tsx';
import { durationWords } from '../../../src/core/access-window.ts';
import { ruleWords } from '../components/guardrails-editor.tsx';
import { loadConnections, type ConnectionView } from '../connections-api.ts';
import { Link, navigate } from '../router.tsx';
import { useSession } from '../session.tsx';

const MODE_WORDS: Record<string, string> = { writes: 'Writes', all: 'All', none: 'None' };

export function ConnectionsPage({ path }: { path: string }) {
  const { session } = useSession();
  const admin = session.user.admin;
  const [connections, setConnections] = useState<ConnectionView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  // Said once after a save, on that connection's page only.
  const [notice, setNotice] = useState<{ name: string; text: string } | null>(null);
  const [knownGroups, setKnownGroups] = useState<string[]>([]);

  const reload = useCallback(async () => {
    try {
      setConnections(await loadConnections());
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);

  // Admins get the groups users already have as suggestions (one page of users is plenty).
  useEffect(() => {
    if (!admin) return;
    api
      .get<{ users: { groups: string[] }[] }>(`/api/users${query({ limit: 200 })}`)
      .then((r) => setKnownGroups([...new Set(r.users.flatMap((u) => u.groups))].sort()))
      .catch(() => undefined);
  }, [admin]);

  const sub = path.replace(/^\/connections\/?/, '');
  const name = sub ? decodeURIComponent(sub) : null;
  if (name === 'new') {
    if (!admin) return <NotAdmin />;
    return (
      <section>
        <PageHeader title="New connection">
          <Link to="/connections" className="button secondary">
            Back to connections
          </Link>
        </PageHeader>
        <ConnectionForm
          knownGroups={knownGroups}
          onSaved={(c) => {
            setNotice({ name: c.name, text: `Connection ${c.name} created.` });
            // Shown at once on its own page; the list is read again for what others changed.
            setConnections((list) => [...(list ?? []).filter((x) => x.name !== c.name), c].sort((a, b) => a.name.localeCompare(b.name)));
            void reload();
            navigate(`/connections/${encodeURIComponent(c.name)}`);
          }}
        />
      </section>
    );
  }
  if (name) {
    const c = connections?.find((x) => x.name === name);
    return (
      <section>
        <PageHeader title={name}>
          <Link to={`/run?connection=${encodeURIComponent(name)}`} className="button secondary">
            Run a command
          </Link>
          <Link to="/connections" className="button secondary">
            Back to connections
          </Link>
        </PageHeader>
        <ErrorMessage error={error} />
        {notice?.name === name ? (
          <p className="notice" role="status">
            {notice.text}
          </p>
        ) : null}
        {!connections ? (
          <p className="loading">Loading…</p>
        ) : !c ? (
          <p className="notice">There is no connection named {name} that you may see.</p>
        ) : admin ? (
          <ConnectionForm
            key={`${c.name}-${c.updatedAt}`}
            existing={c}
            knownGroups={knownGroups}
            onSaved={(saved) => {
              setNotice({ name: saved.name, text: `Connection ${saved.name} saved.` });
              setConnections((list) => list?.map((x) => (x.name === saved.name ? saved : x)) ?? null);
            }}
          />
        ) : (
          <ConnectionFacts c={c} />
        )}
      </section>
    );
  }
  return (
    <section>
      <PageHeader title="Connections">
        {admin ? (
          <Link to="/connections/new" className="button">
            New connection
          </Link>
        ) : null}
      </PageHeader>
      <ErrorMessage error={error} />
      {!admin ? <p className="hint">The connections you may use. An admin configures them.</p> : null}
      {!connections ? (
        <p className="loading">Loading…</p>
      ) : connections.length === 0 ? (
        <p className="notice">{admin ? 'No connection yet: make one with New connection.' : 'There is no connection you may use yet.'}</p>
      ) : (
        <ConnectionTable connections={connections} admin={admin} />
      )}
    </section>
  );
}

function NotAdmin() {
  return (
    <section>
      <PageHeader title="Connections" />
      <p className="notice">Only an admin can create or configure connections; ask an admin of your gateway.</p>
    </section>
  );
}

const groupsText = (c: ConnectionView) => (c.reviewers.length ? c.reviewers.join(', ') : 'Off');
const pluginsText = (c: ConnectionView) => (c.plugins.length ? c.plugins.join(', ') : 'Every channel');

function ConnectionTable({ connections, admin }: { connections: ConnectionView[]; admin: boolean }) {
  return (
    <div className="table-wrap">
      <table className="connections stack-narrow">
        <caption className="visually-hidden">Connections</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Access Requests</th>
            <th scope="col">Review mode</th>
            <th scope="col">Plugins</th>
            <th scope="col">Slack channel</th>
          </tr>
        </thead>
        <tbody>
          {connections.map((c) => (
            <tr key={c.name}>
              <th scope="row">
                <Link to={`/connections/${encodeURIComponent(c.name)}`} aria-label={admin ? `Configure ${c.name}` : `${c.name} settings`}>
                  {c.name}
                </Link>
              </th>
              <td data-label="Type">{c.type}</td>
              <td data-label="Access Requests">{groupsText(c)}</td>
              <td data-label="Review mode">{c.reviewers.length ? (MODE_WORDS[c.reviewMode] ?? c.reviewMode) : '—'}</td>
              <td data-label="Plugins">{pluginsText(c)}</td>
              <td data-label="Slack channel" className="mono">{c.slackChannel ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** "Access windows only, up to 4 hours (agents too)". */
function accessModeWords(c: ConnectionView): string {
  const label = ACCESS_MODE_CHOICES.find((m) => m.mode === c.accessMode)?.label ?? c.accessMode;
  return c.accessMode === 'command' ? label : `${label}; windows up to ${durationWords(c.maxAccessSec)}${c.jitAgents ? ' (agents too)' : ''}`;
}

/** A connection's settings, read-only (for those who are not admins). */
function ConnectionFacts({ c }: { c: ConnectionView }) {
  const list = (l: string[], none: string) => (l.length ? l.join(', ') : none);
  return (
    <section className="panel" aria-label={`${c.name} settings`}>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{c.type}</dd>
        <dt>Access Requests</dt>
        <dd>{c.reviewers.length ? `On: approved by ${c.reviewers.join(', ')}` : 'Off: commands run without review'}</dd>
        <dt>Review mode</dt>
        <dd>{MODE_WORDS[c.reviewMode] ?? c.reviewMode}</dd>
        <dt>Distinct approvers</dt>
        <dd>{c.distinctApprovers ? 'Yes' : 'No'}</dd>
        <dt>Just-in-Time access</dt>
        <dd>{accessModeWords(c)}</dd>
        <dt>Guardrails</dt>
        <dd>{list(c.guardrails.map(ruleWords), 'None')}</dd>
        <dt>Masked columns</dt>
        <dd>{list(c.maskColumns, 'None')}</dd>
        <dt>Masking detectors</dt>
        <dd>{list(c.maskDetectors, 'None')}</dd>
        <dt>Allowed groups</dt>
        <dd>{list(c.allowedGroups, 'Everyone')}</dd>
        <dt>Plugins</dt>
        <dd>{pluginsText(c)}</dd>
        <dt>Slack channel</dt>
        <dd>{c.slackChannel ?? '—'}</dd>
      </dl>
    </section>
  );
}
