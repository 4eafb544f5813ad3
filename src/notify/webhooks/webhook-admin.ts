// Managing webhook endpoints (admins only): create, list, change, rotate the secret, delete, read
// the delivery log and replay a delivery. Every change is audited; secrets never are, and a URL's
// query (where receivers often put a token) is recorded redacted.
import type { DeliveryView, LastDeliveryView, WebhookListView, WebhookView } from '../../contracts/admin-views.js';
import { configChange, redactAccessUrl, redactFields } from '../../core/audit-diff.js';
import type { Clock } from '../../core/ports.js';
import { recordAudit, type AuditContext } from '../../db/audit.js';
import type { Db } from '../../db/client.js';
import type { OutboxEntry } from '../../db/outbox.js';
import { isUuid } from '../../db/reviews.js';
import { attemptsOf, findEndpoint, listDeliveries, listEndpoints, type WebhookDeliveryRow, type WebhookEndpointRow } from '../../db/webhooks.js';
import { AppError, ErrorCode } from '../../errors.js';
import { REVIEW_EVENTS } from '../channel.js';
import { deliverEntry } from './notifier.js';
import { generateSecret } from './signing.js';
import { checkDestination, parseWebhookUrl, type ResolveHost } from './ssrf.js';

/** Who acts: the authenticated user (only whether they are an admin matters here; no import of the service layer). */
export interface WebhookActor {
  isAdmin: boolean;
}

/** How long the secret before a rotation still signs. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
export const CREATE_FIELDS = ['url', 'events', 'description', 'connections'] as const;
export const UPDATE_FIELDS = ['url', 'events', 'description', 'connections', 'enabled', 'rotateSecret'] as const;

export interface WebhookAdminOptions {
  db: Db;
  clock: Clock;
  allowPrivate: boolean;
  /** Hands a replayed delivery's job to the `webhooks` queue (absent: the sweep picks it up within minutes). */
  enqueue?: (entry: OutboxEntry) => Promise<void>;
  resolve?: ResolveHost;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An endpoint as the API shows it: never a secret. */
export function webhookView(w: WebhookEndpointRow): WebhookView {
  return {
    id: w.id,
    url: w.url,
    description: w.description,
    events: w.events,
    connections: w.connections,
    enabled: w.enabled,
    disabledAt: iso(w.disabledAt),
    disabledReason: w.disabledReason,
    failingSince: iso(w.failingSince),
    previousSecretExpiresAt: iso(w.previousSecretExpiresAt),
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
  };
}

/** The newest delivery of an endpoint, for lists: what happened last, without opening the log. */
function lastDeliveryView(d: WebhookDeliveryRow | null | undefined): LastDeliveryView | null {
  if (!d) return null;
  return { id: d.id, event: d.event, status: d.status, attempts: d.attempts, lastStatusCode: d.lastStatusCode, lastError: d.lastError, createdAt: d.createdAt.toISOString(), updatedAt: d.updatedAt.toISOString() };
}

type Attempt = Awaited<ReturnType<typeof attemptsOf>>[number];

/** A delivery with its attempt log, as the API shows it. */
export function deliveryView(d: WebhookDeliveryRow, attempts: Attempt[]): DeliveryView {
  return {
    id: d.id,
    webhookId: d.endpointId,
    reviewId: d.reviewId,
    event: d.event,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastStatusCode: d.lastStatusCode,
    lastDurationMs: d.lastDurationMs,
    lastError: d.lastError,
    responseExcerpt: d.responseExcerpt,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    log: attempts.map((a) => ({ attempt: a.attempt, event: d.event, statusCode: a.statusCode, durationMs: a.durationMs, error: a.error, responseExcerpt: a.responseExcerpt, at: a.createdAt.toISOString() })),
  };
}

/** The URL for the audit trail: a query often holds a token, so it is not recorded. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}${u.search ? '?[redacted]' : ''}`;
}

/** What an admin can change of an endpoint, as the audit trail compares it (the secret aside). */
function webhookConfig(w: { url: string; events: string[]; description: string | null; connections: string[]; enabled: boolean }): Record<string, unknown> {
  return { url: w.url, events: w.events, description: w.description, connections: w.connections, enabled: w.enabled };
}

function requireAdmin(user: WebhookActor): void {
  if (!user.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can manage webhooks; ask an admin of your gateway.');
}

function notFound(id: string): AppError {
  return new AppError(ErrorCode.NotFound, `No webhook has the id ${String(id).slice(0, 60)}. List them with hoop admin get webhooks.`);
}

function parseEvents(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw new AppError(ErrorCode.BadInput, `"events" must be a non-empty list of event names: ${REVIEW_EVENTS.join(', ')}.`);
  }
  const events = [...new Set(value.map((v: string) => v.trim()))];
  const unknown = events.filter((e) => !(REVIEW_EVENTS as readonly string[]).includes(e));
  if (unknown.length) throw new AppError(ErrorCode.BadInput, `Unknown event${unknown.length > 1 ? 's' : ''} ${unknown.map((e) => `"${e.slice(0, 60)}"`).join(', ')}; the events are: ${REVIEW_EVENTS.join(', ')}.`);
  return events;
}

function parseDescription(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new AppError(ErrorCode.BadInput, '"description" must be a string.');
  if (value.length > 500) throw new AppError(ErrorCode.BadInput, '"description" is longer than 500 characters; shorten it.');
  return value.trim() || null;
}

export type WebhookAdmin = ReturnType<typeof createWebhookAdmin>;

/** The admin use cases of webhook endpoints. */
export function createWebhookAdmin(options: WebhookAdminOptions) {
  const { db, clock } = options;

  async function parseConnections(value: unknown): Promise<string[]> {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new AppError(ErrorCode.BadInput, '"connections" must be a list of connection names (empty: every connection).');
    const names = [...new Set(value.map((v: string) => v.trim()).filter(Boolean))];
    const found = new Set((await db.connection.findMany({ where: { name: { in: names } }, select: { name: true } })).map((c) => c.name));
    const missing = names.filter((n) => !found.has(n));
    if (missing.length) throw new AppError(ErrorCode.BadInput, `No connection named ${missing.map((n) => `"${n.slice(0, 60)}"`).join(', ')}; hoop admin get connections lists them.`);
    return names;
  }

  async function checkedUrl(raw: unknown): Promise<string> {
    const url = parseWebhookUrl(raw);
    await checkDestination(url, { allowPrivate: options.allowPrivate, resolve: options.resolve });
    return url.toString();
  }

  /** Each endpoint's newest delivery (one indexed look-up per endpoint: a page holds few). */
  async function newestDeliveries(endpointIds: string[]): Promise<Map<string, WebhookDeliveryRow>> {
    const rows = await Promise.all(endpointIds.map((endpointId) => listDeliveries(db, endpointId, { take: 1 })));
    return new Map(rows.flat().map((d) => [d.endpointId, d]));
  }

  async function load(id: string): Promise<WebhookEndpointRow> {
    const row = await findEndpoint(db, id);
    if (!row) throw notFound(id);
    return row;
  }

  return {
    /** Creates an endpoint; the answer carries its secret, the only time it is shown. */
    async create(actor: WebhookActor, input: Record<string, unknown>, ctx: AuditContext) {
      requireAdmin(actor);
      const events = parseEvents(input.events);
      const url = await checkedUrl(input.url);
      const description = parseDescription(input.description);
      const connections = await parseConnections(input.connections);
      const secret = generateSecret();
      const row = await db.$transaction(async (tx) => {
        const created = await tx.webhookEndpoint.create({ data: { url, events, description, connections, secret, subscribedAt: clock.now() } });
        await recordAudit(tx, ctx, 'webhook.created', null, { webhookId: created.id, url: redactUrl(url), events, connections, description });
        return created;
      });
      return { webhook: { ...webhookView(row), secret } };
    },

    async list(actor: WebhookActor, page: { take: number; after?: { createdAt: Date; id: string } }) {
      requireAdmin(actor);
      const rows = await listEndpoints(db, page);
      const last = await newestDeliveries(rows.map((w) => w.id));
      return rows.map((w) => ({ row: w, view: { ...webhookView(w), lastDelivery: lastDeliveryView(last.get(w.id)) } satisfies WebhookListView }));
    },

    async get(actor: WebhookActor, id: string): Promise<WebhookListView> {
      requireAdmin(actor);
      const row = await load(id);
      const last = await newestDeliveries([row.id]);
      return { ...webhookView(row), lastDelivery: lastDeliveryView(last.get(row.id)) };
    },

    /** Changes fields; `rotateSecret: true` makes a new secret (answered once), the old one signing too for 24 h. */
    async update(actor: WebhookActor, id: string, input: Record<string, unknown>, ctx: AuditContext) {
      requireAdmin(actor);
      const current = await load(id);
      const data: Record<string, unknown> = {};
      if (input.url !== undefined) data.url = await checkedUrl(input.url);
      if (input.events !== undefined) data.events = parseEvents(input.events);
      if (input.description !== undefined) data.description = parseDescription(input.description);
      if (input.connections !== undefined) data.connections = await parseConnections(input.connections);
      if (input.enabled !== undefined && typeof input.enabled !== 'boolean') throw new AppError(ErrorCode.BadInput, '"enabled" must be true or false.');
      if (input.rotateSecret !== undefined && input.rotateSecret !== true) throw new AppError(ErrorCode.BadInput, '"rotateSecret" can only be true (a new secret; the old one stays valid for 24 h).');
      const rotate = input.rotateSecret === true;
      const secret = rotate ? generateSecret() : undefined;
      if (Object.keys(data).length === 0 && input.enabled === undefined && !rotate) throw new AppError(ErrorCode.BadInput, `Nothing to change: give any of ${UPDATE_FIELDS.join(', ')}.`);
      const row = await db.$transaction(async (tx) => {
        // The row as it is now, locked: two admins at once each see the other's change in their
        // "before", and a rotation keeps the secret that was really signing.
        await tx.$queryRaw`SELECT 1 FROM "WebhookEndpoint" WHERE "id" = ${current.id}::uuid FOR UPDATE`;
        const fresh = (await findEndpoint(tx, current.id)) ?? current;
        if (input.enabled !== undefined) {
          data.enabled = input.enabled;
          // Enabling again forgets the failures that disabled it: the next day is counted afresh.
          if (input.enabled && !fresh.enabled) Object.assign(data, { disabledAt: null, disabledReason: null, failingSince: null });
          if (!input.enabled && fresh.enabled) Object.assign(data, { disabledAt: clock.now(), disabledReason: `disabled by ${ctx.actor}` });
        }
        if (rotate) Object.assign(data, { secret, previousSecret: fresh.secret, previousSecretExpiresAt: new Date(clock.now().getTime() + ROTATION_OVERLAP_MS) });
        // A subscription that starts now (enabled again, other events or connections): the sweep's
        // repair of lost dispatches sends it nothing from before (src/notify/webhooks/repair.ts).
        const sameSet = (a: string[], b: unknown) => Array.isArray(b) && a.length === b.length && a.every((x) => b.includes(x));
        const resubscribed = (data.enabled === true && !fresh.enabled) || (data.events !== undefined && !sameSet(fresh.events, data.events)) || (data.connections !== undefined && !sameSet(fresh.connections, data.connections));
        if (resubscribed) data.subscribedAt = clock.now();
        const updated = await tx.webhookEndpoint.update({ where: { id: current.id }, data });
        // The secret's rotation is its own event; the rest is before/after of what changed.
        const change = configChange(webhookConfig(fresh), webhookConfig(updated), { url: redactAccessUrl });
        if (Object.keys(change.after).length) await recordAudit(tx, ctx, 'webhook.updated', null, { webhookId: current.id, ...change } as object);
        if (rotate) await recordAudit(tx, ctx, 'webhook.secret_rotated', null, { webhookId: current.id, previousSecretExpiresAt: (data.previousSecretExpiresAt as Date).toISOString() });
        return updated;
      });
      return { webhook: { ...webhookView(row), ...(secret ? { secret } : {}) } };
    },

    async remove(actor: WebhookActor, id: string, ctx: AuditContext) {
      requireAdmin(actor);
      const current = await load(id);
      await db.$transaction(async (tx) => {
        await tx.webhookEndpoint.delete({ where: { id: current.id } });
        await recordAudit(tx, ctx, 'webhook.deleted', null, { webhookId: current.id, url: redactUrl(current.url), before: redactFields(webhookConfig(current), { url: redactAccessUrl }) } as object);
      });
      return { webhook: webhookView(current) };
    },

    async deliveries(actor: WebhookActor, id: string, page: { take: number; before?: { createdAt: Date; id: string } }) {
      requireAdmin(actor);
      const endpoint = await load(id);
      const rows = await listDeliveries(db, endpoint.id, page);
      const attempts = await attemptsOf(db, rows.map((r) => r.id));
      return rows.map((r) => ({ row: r, view: deliveryView(r, attempts.filter((a) => a.deliveryId === r.id)) }));
    },

    /**
     * Sends a delivery again, now: the same body and `webhook-id` (Standard Webhooks keeps the id of
     * one message across its attempts), a fresh timestamp and signature. A delivery still on its
     * retry schedule is only brought forward; a finished one gets one more attempt.
     */
    async replay(actor: WebhookActor, id: string, deliveryId: string, ctx: AuditContext) {
      requireAdmin(actor);
      const endpoint = await load(id);
      const d = isUuid(deliveryId) ? await db.webhookDelivery.findFirst({ where: { id: deliveryId, endpointId: endpoint.id } }) : null;
      if (!d) throw new AppError(ErrorCode.NotFound, `Webhook ${endpoint.id} has no delivery ${String(deliveryId).slice(0, 60)}. hoop admin webhook deliveries ${endpoint.id} lists them.`);
      if (!endpoint.enabled) throw new AppError(ErrorCode.Conflict, `Webhook ${endpoint.id} is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}; enable it first: hoop admin webhook enable ${endpoint.id} (or PATCH {"enabled": true}).`);
      const scheduled = (d.status === 'pending' || d.status === 'failed') && d.nextAttemptAt !== null;
      const now = clock.now();
      await db.$transaction(async (tx) => {
        await tx.webhookDelivery.update({ where: { id: d.id }, data: { status: scheduled ? d.status : 'pending', nextAttemptAt: now } });
        await recordAudit(tx, ctx, 'webhook.delivery_replayed', d.reviewId, { webhookId: endpoint.id, deliveryId: d.id, event: d.event, previousStatus: d.status });
      });
      await options.enqueue?.(deliverEntry(d.id, d.attempts + 1, `-replay${now.getTime()}`));
      return { delivery: { id: d.id, status: scheduled ? d.status : 'pending', nextAttemptAt: now.toISOString() } };
    },
  };
}
