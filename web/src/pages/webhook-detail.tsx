// One webhook endpoint, for admins: its facts, edit (PATCH), enable or disable, rotate the secret
// (the old one keeps signing for 24 h), delete, and its delivery log with Replay per delivery.
import { useCallback, useEffect, useState } from 'react';
import type { DeliveryView, WebhookListView, WebhookView } from '../../../src/contracts/admin-views.ts';
import { api, query } from '../api.ts';
import { ErrorMessage, Time } from '../components/common.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { WebhookForm } from '../components/webhook-form.tsx';
import { DeliveryStatus, EndpointState } from '../components/webhook-status.tsx';
import { setQuery } from '../router.tsx';

const hookPath = (id: string) => `/api/webhooks/${encodeURIComponent(id)}`;
/** The log refreshes itself this often while open: deliveries happen in the background. */
const REFRESH_MS = 5000;

type Asking = 'rotate' | 'delete' | null;

export function WebhookDetail({ id, onChanged }: { id: string; onChanged(): void }) {
  const [hook, setHook] = useState<WebhookListView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [asking, setAsking] = useState<Asking>(null);
  const [secret, setSecret] = useState<{ value: string; oldUntil: string | null } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const load = useCallback(async () => {
    try {
      setHook((await api.get<{ webhook: WebhookListView }>(hookPath(id))).webhook);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [id]);
  useEffect(() => void load(), [load]);

  const changed = () => {
    onChanged();
    void load();
  };

  const setEnabled = async (enabled: boolean) => {
    setActionError(null);
    try {
      await api.patch(hookPath(id), { enabled });
      changed();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <section className="panel detail" aria-labelledby="webhook-detail-title">
      <div className="detail-head">
        <h2 id="webhook-detail-title" className="break">
          {hook ? hook.url : 'Webhook'}
        </h2>
        <button type="button" className="secondary" onClick={() => setQuery({ webhook: undefined })}>
          Close
        </button>
      </div>
      <ErrorMessage error={error} />
      {hook && (
        <>
          <dl className="facts">
            <dt>State</dt>
            <dd>
              <EndpointState hook={hook} />
            </dd>
            <dt>Events</dt>
            <dd>{hook.events.join(', ')}</dd>
            <dt>Connections</dt>
            <dd>{hook.connections.length ? hook.connections.join(', ') : 'every connection'}</dd>
            <dt>Description</dt>
            <dd>{hook.description ?? '—'}</dd>
            {hook.previousSecretExpiresAt && new Date(hook.previousSecretExpiresAt).getTime() > Date.now() && (
              <>
                <dt>Old secret</dt>
                <dd>
                  still signs until <Time iso={hook.previousSecretExpiresAt} />
                </dd>
              </>
            )}
            <dt>Created</dt>
            <dd>
              <Time iso={hook.createdAt} />
            </dd>
          </dl>
          {secret && (
            <SecretOnce label="New signing secret" secret={secret.value} onDone={() => setSecret(null)}>
              <p>
                The old secret keeps signing too {secret.oldUntil ? <>until <Time iso={secret.oldUntil} /></> : 'for 24 hours'}: every delivery carries both signatures until then, so update your receiver before it ends.
              </p>
            </SecretOnce>
          )}
          {editing ? (
            <div className="sub-form">
              <h3>Edit</h3>
              <WebhookForm
                initial={hook}
                submitLabel="Save changes"
                onCancel={() => setEditing(false)}
                onSubmit={async (fields) => {
                  await api.patch(hookPath(id), fields);
                  setEditing(false);
                  changed();
                }}
              />
            </div>
          ) : (
            <div className="row actions">
              <button type="button" onClick={() => setEditing(true)}>
                Edit
              </button>
              {hook.enabled ? (
                <button type="button" className="secondary" onClick={() => void setEnabled(false)}>
                  Disable
                </button>
              ) : (
                <button type="button" className="secondary" onClick={() => void setEnabled(true)}>
                  Enable
                </button>
              )}
              <button type="button" className="secondary" onClick={() => setAsking('rotate')}>
                Rotate secret
              </button>
              <button type="button" className="danger" onClick={() => setAsking('delete')}>
                Delete
              </button>
            </div>
          )}
          <ErrorMessage error={actionError} />
          <Deliveries hook={hook} onReplayed={changed} />
          {asking === 'rotate' && (
            <ConfirmDialog
              title="Rotate the signing secret?"
              confirm="Rotate secret"
              onConfirm={async () => {
                const r = await api.patch<{ webhook: WebhookView & { secret: string } }>(hookPath(id), { rotateSecret: true });
                setSecret({ value: r.webhook.secret, oldUntil: r.webhook.previousSecretExpiresAt });
                changed();
              }}
              onClose={() => setAsking(null)}
            >
              <p>A new secret is made and shown once. The old one stays valid for 24 hours (deliveries are signed with both), so your receiver keeps working while you change it.</p>
            </ConfirmDialog>
          )}
          {asking === 'delete' && (
            <ConfirmDialog
              title="Delete this webhook?"
              confirm="Delete webhook"
              danger
              onConfirm={async () => {
                await api.delete(hookPath(id));
                setQuery({ webhook: undefined });
                onChanged();
              }}
              onClose={() => setAsking(null)}
            >
              <p className="break">
                <code>{hook.url}</code> receives nothing more, and its delivery log is deleted with it. This cannot be undone.
              </p>
            </ConfirmDialog>
          )}
        </>
      )}
    </section>
  );
}

function Deliveries({ hook, onReplayed }: { hook: WebhookView; onReplayed(): void }) {
  const [deliveries, setDeliveries] = useState<DeliveryView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pages, setPages] = useState(1);

  // Reloads the newest page; older pages already opened stay below it.
  const load = useCallback(async () => {
    try {
      const r = await api.get<{ deliveries: DeliveryView[]; nextCursor: string | null }>(`${hookPath(hook.id)}/deliveries`);
      setDeliveries((old) => (pages > 1 && old ? mergeNewest(r.deliveries, old) : r.deliveries));
      if (pages === 1) setNextCursor(r.nextCursor);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [hook.id, pages]);

  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(t);
  }, [load]);

  const older = async () => {
    if (!nextCursor) return;
    try {
      const r = await api.get<{ deliveries: DeliveryView[]; nextCursor: string | null }>(`${hookPath(hook.id)}/deliveries${query({ cursor: nextCursor })}`);
      setDeliveries((d) => [...(d ?? []), ...r.deliveries]);
      setNextCursor(r.nextCursor);
      setPages((p) => p + 1);
    } catch (e) {
      setError(e);
    }
  };

  const replay = async (d: DeliveryView) => {
    setNotice(null);
    setError(null);
    try {
      await api.post(`${hookPath(hook.id)}/deliveries/${encodeURIComponent(d.id)}/replay`);
      setNotice(`Replay of ${d.event} queued: attempt ${d.attempts + 1} is on its way.`);
      onReplayed();
      void load();
    } catch (e) {
      setError(e);
    }
  };

  return (
    <div className="sub-form">
      <div className="detail-head">
        <h3>Delivery log</h3>
        <button type="button" className="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <ErrorMessage error={error} />
      {deliveries === null && !error && <p className="muted">Loading deliveries…</p>}
      {deliveries && deliveries.length === 0 && <p className="muted">No deliveries yet: they appear here when a subscribed event happens.</p>}
      {deliveries && deliveries.length > 0 && (
        <ol className="deliveries" aria-label="Deliveries">
          {deliveries.map((d) => (
            <li key={d.id} className="delivery" aria-label={`${d.event} delivery`}>
              <div className="delivery-head">
                <strong>{d.event}</strong>
                <DeliveryStatus status={d.status} />
                <span className="hint">
                  <Time iso={d.createdAt} />
                </span>
                <button type="button" className="secondary" onClick={() => void replay(d)} aria-label={`Replay ${d.event} delivery`} disabled={!hook.enabled} title={hook.enabled ? undefined : 'Enable the webhook to replay'}>
                  Replay
                </button>
              </div>
              {d.nextAttemptAt && d.status !== 'succeeded' && (
                <p className="hint">
                  Next attempt <Time iso={d.nextAttemptAt} />
                </p>
              )}
              {d.log.length === 0 ? (
                <p className="muted">No attempt yet.</p>
              ) : (
                <div className="table-wrap">
                  <table className="attempts stack">
                    <thead>
                      <tr>
                        <th scope="col">Attempt</th>
                        <th scope="col">Event</th>
                        <th scope="col">Status code</th>
                        <th scope="col">Duration</th>
                        <th scope="col">Error</th>
                        <th scope="col">Response</th>
                        <th scope="col">At</th>
                      </tr>
                    </thead>
                    <tbody>
                      {d.log.map((a) => (
                        <tr key={a.attempt + a.at}>
                          <td data-label="Attempt">{a.attempt}</td>
                          <td data-label="Event">{a.event}</td>
                          <td data-label="Status code">{a.statusCode ?? <span className="muted">none</span>}</td>
                          <td data-label="Duration">{a.durationMs === null ? '—' : `${a.durationMs} ms`}</td>
                          <td data-label="Error" className="break">{a.error ?? <span className="muted">—</span>}</td>
                          <td data-label="Response">{a.responseExcerpt ? <code className="excerpt">{a.responseExcerpt}</code> : <span className="muted">—</span>}</td>
                          <td data-label="At">
                            <Time iso={a.at} />
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </li>
          ))}
        </ol>
      )}
      {nextCursor && (
        <button type="button" className="secondary" onClick={() => void older()}>
          Older deliveries
        </button>
      )}
    </div>
  );
}

/** The fresh newest page in front of the older rows already shown (a row in both: the fresh one). */
function mergeNewest(fresh: DeliveryView[], old: DeliveryView[]): DeliveryView[] {
  const ids = new Set(fresh.map((d) => d.id));
  return [...fresh, ...old.filter((d) => !ids.has(d.id))];
}
