// Webhooks (admins): endpoints that receive signed review.* events — the list with each one's
// state and newest delivery, a new endpoint with its secret shown once, and one endpoint's edit,
// rotation, deletion and delivery log (webhook-detail.tsx). The gateway decides who may do this.
import { useCallback, useEffect, useState } from 'react';
import type { WebhookListView, WebhookView } from '../../../src/contracts/admin-views.ts';
import { api, ApiError, query } from '../api.ts';
import { ErrorMessage, PageHeader, Time } from '../components/common.tsx';
import { SecretOnce } from '../components/secret-once.tsx';
import { WebhookForm } from '../components/webhook-form.tsx';
import { DeliveryStatus, EndpointState } from '../components/webhook-status.tsx';
import { Link, setQuery, useLocation } from '../router.tsx';
import { WebhookDetail } from './webhook-detail.tsx';

export function WebhooksPage() {
  const { query: q } = useLocation();
  const selected = q.get('webhook');
  const [hooks, setHooks] = useState<WebhookListView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<(WebhookView & { secret: string }) | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await api.get<{ webhooks: WebhookListView[]; nextCursor: string | null }>('/api/webhooks');
      setHooks(r.webhooks);
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
      const r = await api.get<{ webhooks: WebhookListView[]; nextCursor: string | null }>(`/api/webhooks${query({ cursor: nextCursor })}`);
      setHooks((h) => [...(h ?? []), ...r.webhooks]);
      setNextCursor(r.nextCursor);
    } catch (e) {
      setError(e);
    }
  };

  if (error instanceof ApiError && error.status === 403) {
    return (
      <section>
        <PageHeader title="Webhooks" />
        <ErrorMessage error={error} />
      </section>
    );
  }

  return (
    <section>
      <PageHeader title="Webhooks">
        {!creating && !created && (
          <button type="button" onClick={() => setCreating(true)}>
            New webhook
          </button>
        )}
      </PageHeader>
      <p className="hint page-intro">
        Each endpoint receives a signed POST (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>) for the events it subscribes to. Failed deliveries are retried for about a day; an endpoint failing
        that long is disabled.
      </p>
      <ErrorMessage error={error} />
      {creating && (
        <section className="panel" aria-labelledby="new-webhook-title">
          <h2 id="new-webhook-title">New webhook</h2>
          <WebhookForm
            submitLabel="Create webhook"
            onCancel={() => setCreating(false)}
            onSubmit={async (body) => {
              const r = await api.post<{ webhook: WebhookView & { secret: string } }>('/api/webhooks', body);
              setCreating(false);
              setCreated(r.webhook);
              void load();
            }}
          />
        </section>
      )}
      {created && (
        <section className="panel" aria-labelledby="created-webhook-title">
          <h2 id="created-webhook-title">Webhook created</h2>
          <SecretOnce
            label="Signing secret"
            secret={created.secret}
            onDone={() => {
              setCreated(null);
              setQuery({ webhook: created.id });
            }}
          >
            <p>
              Configure your receiver for <code className="break">{created.url}</code> with this secret; it verifies the <code>webhook-signature</code> header of every delivery.
            </p>
          </SecretOnce>
        </section>
      )}
      {selected && <WebhookDetail key={selected} id={selected} onChanged={() => void load()} />}
      {hooks === null && !error ? <p className="loading">Loading webhooks…</p> : null}
      {hooks && hooks.length === 0 && !creating && <p className="muted">No webhook endpoints yet.</p>}
      {hooks && hooks.length > 0 && (
        <div className="table-wrap">
          <table className="admin-table stack">
            <caption className="visually-hidden">Webhook endpoints</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">Events</th>
                <th scope="col">Description</th>
                <th scope="col">Connections</th>
                <th scope="col">State</th>
                <th scope="col">Last delivery</th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((w) => (
                <tr key={w.id} className={w.id === selected ? 'selected' : undefined}>
                  <td data-label="URL" className="url-cell">
                    <Link to={`/webhooks${query({ webhook: w.id })}`} aria-current={w.id === selected ? 'true' : undefined}>
                      {w.url}
                    </Link>
                  </td>
                  <td data-label="Events">
                    <ul className="chips">
                      {w.events.map((e) => (
                        <li key={e}>{e}</li>
                      ))}
                    </ul>
                  </td>
                  <td data-label="Description">{w.description ?? <span className="muted">—</span>}</td>
                  <td data-label="Connections">{w.connections.length ? w.connections.join(', ') : <span className="muted">every connection</span>}</td>
                  <td data-label="State">
                    <div>
                      <EndpointState hook={w} />
                    </div>
                  </td>
                  <td data-label="Last delivery">
                    <div>
                      {w.lastDelivery ? (
                        <>
                          {w.lastDelivery.event} <DeliveryStatus status={w.lastDelivery.status} />
                          {w.lastDelivery.lastStatusCode !== null && <> HTTP {w.lastDelivery.lastStatusCode}</>}
                          {w.lastDelivery.lastStatusCode === null && w.lastDelivery.lastError && <span className="hint block break">{w.lastDelivery.lastError}</span>}
                          <span className="hint block">
                            <Time iso={w.lastDelivery.updatedAt} />
                          </span>
                        </>
                      ) : (
                        <span className="muted">none yet</span>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {nextCursor && (
        <p>
          <button type="button" className="secondary" onClick={() => void more()}>
            More webhooks
          </button>
        </p>
      )}
    </section>
  );
}
