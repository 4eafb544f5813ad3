// Agents (admins, issue 13): non-human identities listed apart from people, each with the person who
// answers for it; a new agent's API key is shown once. The gateway decides who may do this: a
// non-admin who opens the URL sees its refusal and nothing else.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { AgentListView, AgentView, UserListView } from '../../../src/contracts/admin-views.ts';
import { api, ApiError } from '../api.ts';
import { ErrorMessage, PageHeader, Time } from '../components/common.tsx';
import { GroupList, parseGroups } from '../components/groups.tsx';
import { SecretOnce } from '../components/secret-once.tsx';

export function AgentsPage() {
  const [agents, setAgents] = useState<AgentListView[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ agents: AgentListView[] }>('/api/agents');
      setAgents(r.agents);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => void load(), [load]);

  // A refusal (403 for a non-admin) is all the page shows.
  if (error instanceof ApiError && error.status === 403) {
    return (
      <section>
        <PageHeader title="Agents" />
        <ErrorMessage error={error} />
      </section>
    );
  }

  return (
    <section>
      <PageHeader title="Agents">
        {!creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New agent
          </button>
        )}
      </PageHeader>
      <p className="hint">
        An agent is a CI job, a script or an AI agent with its own API key, owned by a person who answers for it. It can submit requests (always with a reason) but never approve or
        reject anything; reviewers see which agent asked, its owner and where it came from.
      </p>
      <ErrorMessage error={error} />
      {creating && <CreateAgent onClose={() => setCreating(false)} onCreated={() => void load()} />}
      {agents === null && !error ? <p className="loading">Loading agents…</p> : null}
      {agents && agents.length === 0 ? <p className="muted">No agents yet.</p> : null}
      {agents && agents.length > 0 && (
        <div className="table-wrap">
          <table className="admin-table stack">
            <caption className="visually-hidden">Agents</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Owner</th>
                <th scope="col">Groups</th>
                <th scope="col">Active</th>
                <th scope="col">Keys</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {agents.map((a) => (
                <tr key={a.name}>
                  <td data-label="Name">
                    <strong>{a.name}</strong>
                  </td>
                  <td data-label="Owner">{a.owner}</td>
                  <td data-label="Groups">{a.groups.length ? <GroupList groups={a.groups} /> : <span className="muted">none</span>}</td>
                  <td data-label="Active">{a.active ? 'Active' : <span className="status status-expired">Deactivated</span>}</td>
                  <td data-label="Keys">{a.activeKeys === 1 ? '1 active' : `${a.activeKeys} active`}</td>
                  <td data-label="Created">
                    <Time iso={a.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CreateAgent({ onClose, onCreated }: { onClose(): void; onCreated(): void }) {
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [groups, setGroups] = useState('');
  const [people, setPeople] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ agent: AgentView; apiKey: string } | null>(null);

  // The first page of people, as suggestions for the owner; any person's email is accepted.
  useEffect(() => {
    api
      .get<{ users: UserListView[] }>('/api/users')
      .then((r) => setPeople(r.users.filter((u) => u.active).map((u) => u.email)))
      .catch(() => setPeople([]));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ agent: AgentView; apiKey: string }>('/api/agents', { name, owner, groups: parseGroups(groups) });
      setCreated(r);
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  if (created) {
    return (
      <section className="panel" aria-labelledby="new-agent-title">
        <h2 id="new-agent-title">Agent {created.agent.name} created</h2>
        <SecretOnce
          label={`API key of agent ${created.agent.name}`}
          secret={created.apiKey}
          onDone={() => {
            setCreated(null);
            onClose();
          }}
        >
          <p>
            Give this key to the agent's configuration (e.g. <code>HOOP_API_KEY</code>) over a private channel. {created.agent.owner} answers for what it does.
          </p>
        </SecretOnce>
      </section>
    );
  }

  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="create-agent-title">
      <h2 id="create-agent-title">New agent</h2>
      <div className="field">
        <label htmlFor="new-agent-name">Name</label>
        <input id="new-agent-name" required autoComplete="off" maxLength={63} pattern="[A-Za-z0-9][A-Za-z0-9_\-]*" value={name} onChange={(e) => setName(e.target.value)} aria-describedby="new-agent-name-hint" />
        <p className="hint" id="new-agent-name-hint">
          Letters, digits, <code>-</code> and <code>_</code>, e.g. <code>deploy-bot</code>. Stored lower-case.
        </p>
      </div>
      <div className="field">
        <label htmlFor="new-agent-owner">Owner</label>
        <input id="new-agent-owner" type="email" required autoComplete="off" list="new-agent-owners" value={owner} onChange={(e) => setOwner(e.target.value)} aria-describedby="new-agent-owner-hint" />
        <datalist id="new-agent-owners">
          {people.map((p) => (
            <option key={p} value={p} />
          ))}
        </datalist>
        <p className="hint" id="new-agent-owner-hint">
          The email of an active person who answers for the agent; reviewers see it on every request the agent makes.
        </p>
      </div>
      <div className="field">
        <label htmlFor="new-agent-groups">Groups</label>
        <input id="new-agent-groups" autoComplete="off" value={groups} onChange={(e) => setGroups(e.target.value)} aria-describedby="new-agent-groups-hint" />
        <p className="hint" id="new-agent-groups-hint">
          Separated by commas or spaces; they decide which connections the agent may use. Being in a reviewer group never lets an agent approve.
        </p>
      </div>
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create agent'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
