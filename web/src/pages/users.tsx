// Users (admins): the list, a new user with their first API key shown once, and one user's
// groups, admin flag, activation and keys (user-detail.tsx). The gateway decides who may do this;
// a non-admin who opens the URL sees its refusal and nothing else.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { UserListView, UserView } from '../../../src/contracts/admin-views.ts';
import { api, ApiError, query } from '../api.ts';
import { ErrorMessage, PageHeader } from '../components/common.tsx';
import { GroupList, parseGroups } from '../components/groups.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { Link, setQuery, useLocation } from '../router.tsx';
import { UserDetail } from './user-detail.tsx';

export function UsersPage() {
  const { query: q } = useLocation();
  const selected = q.get('user');
  const [users, setUsers] = useState<UserListView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ users: UserListView[]; nextCursor: string | null }>('/api/users');
      setUsers(r.users);
      setNextCursor(r.nextCursor);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, []);
  useEffect(() => void load(), [load]);

  const more = async () => {
    if (!nextCursor) return;
    try {
      const r = await api.get<{ users: UserListView[]; nextCursor: string | null }>(`/api/users${query({ cursor: nextCursor })}`);
      setUsers((u) => [...(u ?? []), ...r.users]);
      setNextCursor(r.nextCursor);
    } catch (e) {
      setError(e);
    }
  };

  // A refusal (403 for a non-admin) is all the page shows.
  if (error instanceof ApiError && error.status === 403) {
    return (
      <section>
        <PageHeader title="Users" />
        <ErrorMessage error={error} />
      </section>
    );
  }

  return (
    <section>
      <PageHeader title="Users">
        {!creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New user
          </button>
        )}
      </PageHeader>
      <ErrorMessage error={error} />
      {creating && <CreateUser onClose={() => setCreating(false)} onCreated={() => void load()} />}
      {selected && <UserDetail key={selected} userRef={selected} onChanged={() => void load()} />}
      {users === null && !error ? <p className="loading">Loading users…</p> : null}
      {users && (
        <div className="table-wrap">
          <table className="admin-table stack">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Groups</th>
                <th scope="col">Admin</th>
                <th scope="col">Active</th>
                <th scope="col">Slack</th>
                <th scope="col">Keys</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} className={u.email === selected ? 'selected' : undefined}>
                  <td data-label="Email">
                    <Link to={`/users${query({ user: u.email })}`} aria-current={u.email === selected ? 'true' : undefined}>
                      {u.email}
                    </Link>
                  </td>
                  <td data-label="Name">{u.name ?? <span className="muted">—</span>}</td>
                  <td data-label="Groups">{u.groups.length ? <GroupList groups={u.groups} /> : <span className="muted">none</span>}</td>
                  <td data-label="Admin">{u.admin ? `Admin${u.bootstrap ? ' (ADMIN_EMAIL)' : ''}` : 'No'}</td>
                  <td data-label="Active">{u.active ? 'Active' : <span className="status status-expired">Deactivated</span>}</td>
                  <td data-label="Slack">{u.slackUserId ? <code>{u.slackUserId}</code> : <span className="muted">not linked</span>}</td>
                  <td data-label="Keys">{u.activeKeys === 1 ? '1 active' : `${u.activeKeys} active`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextCursor && (
        <p>
          <button type="button" className="secondary" onClick={() => void more()}>
            More users
          </button>
        </p>
      )}
    </section>
  );
}

function CreateUser({ onClose, onCreated }: { onClose(): void; onCreated(): void }) {
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [groups, setGroups] = useState('');
  const [admin, setAdmin] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<{ user: UserView; apiKey: string } | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ user: UserView; apiKey: string }>('/api/users', { email, name: name || undefined, groups: parseGroups(groups), admin });
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
      <section className="panel" aria-labelledby="new-user-title">
        <h2 id="new-user-title">User {created.user.email} created</h2>
        <SecretOnce
          label={`API key of ${created.user.email}`}
          secret={created.apiKey}
          onDone={() => {
            setCreated(null);
            onClose();
            setQuery({ user: created.user.email });
          }}
        >
          <p>Give this key to {created.user.email} over a private channel; they sign in with it here or use it with the CLI.</p>
        </SecretOnce>
      </section>
    );
  }

  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-labelledby="create-user-title">
      <h2 id="create-user-title">New user</h2>
      <div className="field">
        <label htmlFor="new-user-email">Email</label>
        <input id="new-user-email" type="email" required autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="new-user-name">Name</label>
        <input id="new-user-name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="new-user-groups">Groups</label>
        <input id="new-user-groups" autoComplete="off" value={groups} onChange={(e) => setGroups(e.target.value)} aria-describedby="new-user-groups-hint" />
        <p className="hint" id="new-user-groups-hint">
          Separated by commas or spaces, e.g. <code>dba-team, security</code>. Reviewer groups of connections decide who approves what.
        </p>
      </div>
      <div className="field checkbox">
        <input id="new-user-admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
        <label htmlFor="new-user-admin">Admin (manages users, connections and webhooks)</label>
      </div>
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create user'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
