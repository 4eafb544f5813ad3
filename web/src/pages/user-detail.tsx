// One user, for admins: change their name, groups and admin flag; deactivate or reactivate them;
// list, revoke and make API keys. Refusals (the last admin, the ADMIN_EMAIL admin) come from the
// gateway and are shown in its words.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { KeyView, UserView } from '../../../src/contracts/admin-views.ts';
import { api } from '../api.ts';
import { ErrorMessage, Time } from '../components/common.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { GroupList, parseGroups } from '../components/groups.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { setQuery } from '../router.tsx';
import { useSession } from '../session.tsx';

const userPath = (ref: string) => `/api/users/${encodeURIComponent(ref)}`;

export function UserDetail({ userRef, onChanged }: { userRef: string; onChanged(): void }) {
  const [user, setUser] = useState<UserView | null>(null);
  const [keys, setKeys] = useState<KeyView[] | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      const [u, k] = await Promise.all([api.get<{ user: UserView }>(userPath(userRef)), api.get<{ keys: KeyView[] }>(`${userPath(userRef)}/keys`)]);
      setUser(u.user);
      setKeys(k.keys);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [userRef]);
  useEffect(() => void load(), [load]);

  const changed = () => {
    onChanged();
    void load();
  };

  return (
    <section className="panel detail" aria-labelledby="user-detail-title">
      <div className="detail-head">
        <h2 id="user-detail-title">{user ? user.email : userRef}</h2>
        <button type="button" className="secondary" onClick={() => setQuery({ user: undefined })}>
          Close
        </button>
      </div>
      <ErrorMessage error={error} />
      {user && (
        <>
          <UserFacts user={user} />
          <EditUser user={user} onSaved={changed} />
          <Activation user={user} onChanged={changed} />
        </>
      )}
      {user && keys && <Keys user={user} keys={keys} onChanged={changed} />}
    </section>
  );
}

function UserFacts({ user }: { user: UserView }) {
  return (
    <dl className="facts">
      <dt>Status</dt>
      <dd>{user.active ? 'Active' : <>Deactivated <Time iso={user.deactivatedAt} /></>}</dd>
      <dt>Groups</dt>
      <dd>{user.groups.length ? <GroupList groups={user.groups} /> : <span className="muted">none</span>}</dd>
      <dt>Admin</dt>
      <dd>{user.admin ? `Yes${user.bootstrap ? ' (named by ADMIN_EMAIL)' : ''}` : 'No'}</dd>
      <dt>Slack</dt>
      <dd>{user.slackUserId ? <code>{user.slackUserId}</code> : 'not linked'}</dd>
      <dt>Created</dt>
      <dd>
        <Time iso={user.createdAt} />
      </dd>
    </dl>
  );
}

function EditUser({ user, onSaved }: { user: UserView; onSaved(): void }) {
  const [name, setName] = useState(user.name ?? '');
  const [groups, setGroups] = useState(user.groups.join(', '));
  const [admin, setAdmin] = useState(user.admin);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      await api.patch(userPath(user.id), { name: name.trim() || null, groups: parseGroups(groups), admin });
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="sub-form" aria-labelledby="edit-user-title">
      <h3 id="edit-user-title">Name, groups and admin</h3>
      <div className="field">
        <label htmlFor="edit-user-name">Name</label>
        <input id="edit-user-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
      </div>
      <div className="field">
        <label htmlFor="edit-user-groups">Groups</label>
        <input id="edit-user-groups" value={groups} onChange={(e) => setGroups(e.target.value)} autoComplete="off" aria-describedby="edit-user-groups-hint" />
        <p className="hint" id="edit-user-groups-hint">
          Separated by commas or spaces; empty for none.
        </p>
      </div>
      <div className="field checkbox">
        <input id="edit-user-admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} />
        <label htmlFor="edit-user-admin">Admin</label>
      </div>
      <ErrorMessage error={error} />
      <div className="row">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : 'Save changes'}
        </button>
        <span className="hint" role="status">
          {saved ? 'Saved.' : ''}
        </span>
      </div>
    </form>
  );
}

function Activation({ user, onChanged }: { user: UserView; onChanged(): void }) {
  const { session } = useSession();
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const setActive = async (active: boolean) => {
    await api.patch(userPath(user.id), { active });
    onChanged();
  };
  return (
    <div className="sub-form">
      <h3>Access</h3>
      {user.active ? (
        <>
          <p className="hint">A deactivated user's keys and sessions stop working at once; their keys come back if they are reactivated.</p>
          <button type="button" className="danger" onClick={() => setAsking(true)}>
            Deactivate user
          </button>
        </>
      ) : (
        <>
          <p className="hint">Deactivated: no key or session of theirs works.</p>
          <button
            type="button"
            onClick={() => {
              setError(null);
              setActive(true).catch(setError);
            }}
          >
            Reactivate user
          </button>
        </>
      )}
      <ErrorMessage error={error} />
      {asking && (
        <ConfirmDialog title={`Deactivate ${user.email}?`} confirm="Deactivate" danger onConfirm={() => setActive(false)} onClose={() => setAsking(false)}>
          <p>
            {user.id === session.user.id ? 'This is you: you will be signed out. ' : ''}
            Their API keys and web sessions stop working at once. You can reactivate them later.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function Keys({ user, keys, onChanged }: { user: UserView; keys: KeyView[]; onChanged(): void }) {
  const [revoking, setRevoking] = useState<KeyView | null>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [made, setMade] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ key: KeyView; apiKey: string }>(`${userPath(user.id)}/keys`, name.trim() ? { name: name.trim() } : {});
      setMade(r.apiKey);
      setName('');
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="sub-form">
      <h3>API keys</h3>
      {keys.length === 0 ? (
        <p className="muted">No keys.</p>
      ) : (
        <div className="table-wrap">
          <table className="stack">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id}>
                  <td data-label="Key">
                    <code>{k.prefix}…</code>
                  </td>
                  <td data-label="Name">{k.name ?? (k.bootstrap ? 'ADMIN_API_KEY' : <span className="muted">—</span>)}</td>
                  <td data-label="Created">
                    <Time iso={k.createdAt} />
                  </td>
                  <td data-label="Last used">{k.lastUsedAt ? <Time iso={k.lastUsedAt} /> : <span className="muted">never</span>}</td>
                  <td data-label="State">{k.revokedAt ? <>Revoked <Time iso={k.revokedAt} /></> : 'Active'}</td>
                  <td data-label="">
                    {!k.revokedAt && (
                      <button type="button" className="secondary" onClick={() => setRevoking(k)} aria-label={`Revoke key ${k.prefix}…${k.name ? ` (${k.name})` : ''}`}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {made ? (
        <SecretOnce label={`New API key of ${user.email}`} secret={made} onDone={() => setMade(null)} />
      ) : (
        <form className="row" onSubmit={(e) => void create(e)}>
          <div className="field">
            <label htmlFor="new-key-name">New key's name</label>
            <input id="new-key-name" placeholder="laptop, ci…" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
          </div>
          <div className="field">
            <button type="submit" disabled={busy}>
              {busy ? 'Making…' : 'Make a new key'}
            </button>
          </div>
        </form>
      )}
      <ErrorMessage error={error} />
      {revoking && (
        <ConfirmDialog
          title={`Revoke key ${revoking.prefix}…?`}
          confirm="Revoke key"
          danger
          onConfirm={async () => {
            await api.delete(`/api/keys/${encodeURIComponent(revoking.id)}`);
            onChanged();
          }}
          onClose={() => setRevoking(null)}
        >
          <p>
            The next request made with {revoking.name ? `the key “${revoking.name}”` : 'this key'} of {user.email} is refused. This cannot be undone: make a new key instead.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
