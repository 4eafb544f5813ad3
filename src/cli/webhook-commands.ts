// `hoop admin create webhook`, `get webhooks`, `get webhook`, `delete webhook`, `webhook
// enable|disable|rotate`, `webhook deliveries` and `webhook replay`: custom webhook endpoints and
// their delivery log, through /api/webhooks.
import type { Command } from 'commander';
import type { GatewayClient } from './api-client.js';
import { outputOption, positiveInt } from './options.js';
import { table } from './output.js';
import type * as Views from '../contracts/admin-views.js';

// The fields the CLI prints, of the API's views (src/contracts/admin-views.ts).
type WebhookView = Pick<Views.WebhookView, 'id' | 'url' | 'description' | 'events' | 'connections' | 'enabled' | 'disabledReason'> & { secret?: string };
type DeliveryView = Pick<Views.DeliveryView, 'id' | 'reviewId' | 'event' | 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatusCode' | 'lastDurationMs' | 'lastError' | 'createdAt'>;



export interface WebhookCommandsContext {
  client: () => GatewayClient;
  print: (text: string) => void;
  json: (value: unknown) => void;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : null);
const path = (id: string) => `/api/webhooks/${encodeURIComponent(id.trim())}`;

/** Webhooks as `hoop admin get webhooks` prints them: never a secret. */
export function webhooksTable(webhooks: WebhookView[]): string {
  return table(
    ['id', 'url', 'events', 'connections', 'enabled', 'description'],
    webhooks.map((w) => [w.id, w.url, w.events.join(','), w.connections.join(',') || 'all', w.enabled ? 'yes' : `no (${w.disabledReason ?? 'disabled'})`, w.description]),
  );
}

/** One endpoint as `hoop admin get webhook` prints it: its state and last delivery, never a secret. */
export function describeWebhook(w: Views.WebhookListView, now = new Date()): string {
  const state = !w.enabled
    ? `disabled${w.disabledAt ? ` since ${when(w.disabledAt)}` : ''}${w.disabledReason ? `: ${w.disabledReason}` : ''} (hoop admin webhook enable ${w.id} sends to it again)`
    : w.failingSince
      ? `enabled, its deliveries failing since ${when(w.failingSince)} (disabled after a day of failures; hoop admin webhook deliveries ${w.id} shows why)`
      : 'enabled';
  const d = w.lastDelivery;
  const last = d ? `${d.event} ${d.status} after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastStatusCode ? `, HTTP ${d.lastStatusCode}` : ''}${d.lastError ? `, ${d.lastError.slice(0, 120)}` : ''} (${when(d.updatedAt)})` : 'none yet';
  const rows: [string, string][] = [
    ['id', w.id],
    ['url', w.url],
    ['description', w.description ?? '-'],
    ['events', w.events.join(', ')],
    ['connections', w.connections.join(', ') || 'every connection'],
    ['state', state],
    ...(w.previousSecretExpiresAt && new Date(w.previousSecretExpiresAt) > now ? [['secret', `rotated; the previous one signs too until ${when(w.previousSecretExpiresAt)}`] as [string, string]] : []),
    ['last delivery', last],
    ['created', when(w.createdAt)!],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`).join('\n');
}

/** A delivery log as `hoop admin webhook deliveries` prints it. */
export function deliveriesTable(deliveries: DeliveryView[]): string {
  return table(
    ['id', 'event', 'review', 'status', 'attempts', 'last code', 'ms', 'next attempt', 'created', 'last error'],
    deliveries.map((d) => [d.id, d.event, d.reviewId, d.status, d.attempts, d.lastStatusCode, d.lastDurationMs, when(d.nextAttemptAt), when(d.createdAt), d.lastError?.slice(0, 80)]),
  );
}

/** Adds the webhook commands under `hoop admin`. */
export function registerWebhookCommands(cmds: { admin: Command; create: Command; get: Command }, { client, print, json }: WebhookCommandsContext): void {
  cmds.create
    .command('webhook')
    .description('send signed POSTs (Standard Webhooks) of request events to a URL; prints its signing secret once')
    .requiredOption('--url <url>', 'the https:// address that receives the webhooks')
    .requiredOption('--event <event>', 'an event to send: review.created, review.group_approved, review.approved, review.rejected, review.expired, review.executed, review.failed; of access windows: review.access_granted, review.access_ended, review.access_revoked (repeatable or comma-separated)', collect)
    .option('--connection <name>', 'only requests on this connection (repeatable; default: every connection)', collect)
    .option('--description <text>', 'what it is for, e.g. "PagerDuty"')
    .addOption(outputOption())
    .action(async (opts: { url: string; event: string[]; connection?: string[]; description?: string; output: string }) => {
      const res = await client().request<{ webhook: WebhookView }>('POST', '/api/webhooks', { url: opts.url, events: opts.event, connections: opts.connection ?? [], description: opts.description });
      if (opts.output === 'json') return json(res.body.webhook);
      const w = res.body.webhook;
      print(`Webhook ${w.id} created: ${w.events.join(', ')} of ${w.connections.join(', ') || 'every connection'} to ${w.url}.`);
      print(`Signing secret (shown once, store it now in the receiver; it cannot be shown again): ${w.secret}`);
      print('Receivers verify the webhook-signature header with any Standard Webhooks library and this secret.');
    });

  cmds.get
    .command('webhooks')
    .description('list webhook endpoints (never their secrets)')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const webhooks = await client().list<WebhookView>('/api/webhooks', 'webhooks');
      if (opts.output === 'json') return json(webhooks);
      print(webhooks.length ? webhooksTable(webhooks) : 'No webhooks. Create one with hoop admin create webhook --url URL --event review.created.');
    });

  cmds.get
    .command('webhook')
    .description('show one webhook endpoint: enabled or why not, since when it fails, its last delivery (never its secret)')
    .argument('<id>', 'the webhook id (hoop admin get webhooks)')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<{ webhook: Views.WebhookListView }>('GET', path(id));
      if (opts.output === 'json') return json(res.body.webhook);
      print(describeWebhook(res.body.webhook));
    });

  cmds.admin
    .command('delete')
    .description('delete a webhook endpoint')
    .command('webhook')
    .description('delete a webhook endpoint and its delivery log; nothing more is sent to it')
    .argument('<id>', 'the webhook id (hoop admin get webhooks)')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<{ webhook: WebhookView }>('DELETE', path(id));
      if (opts.output === 'json') return json(res.body.webhook);
      print(`Webhook ${res.body.webhook.id} (${res.body.webhook.url}) deleted.`);
    });

  const webhook = cmds.admin.command('webhook').description('enable or disable a webhook, rotate its secret; its delivery log, and replays');
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    webhook
      .command(name)
      .description(enabled ? 'send to a webhook again (after it was disabled by an admin or by a day of failures); its failures are forgotten' : 'stop sending to a webhook; it and its delivery log are kept')
      .argument('<id>', 'the webhook id (hoop admin get webhooks)')
      .addOption(outputOption())
      .action(async (id: string, opts: { output: string }) => {
        const res = await client().request<{ webhook: WebhookView }>('PATCH', path(id), { enabled });
        if (opts.output === 'json') return json(res.body.webhook);
        const w = res.body.webhook;
        print(enabled ? `Webhook ${w.id} (${w.url}) is enabled: new events are sent to it.` : `Webhook ${w.id} (${w.url}) is disabled: nothing more is sent to it until hoop admin webhook enable ${w.id}.`);
      });
  }
  webhook
    .command('rotate')
    .description('make a new signing secret, printed once; the old one keeps signing too for 24 h')
    .argument('<id>', 'the webhook id (hoop admin get webhooks)')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<{ webhook: WebhookView & Pick<Views.WebhookView, 'previousSecretExpiresAt'> }>('PATCH', path(id), { rotateSecret: true });
      if (opts.output === 'json') return json(res.body.webhook);
      const w = res.body.webhook;
      print(`New signing secret of webhook ${w.id} (shown once, store it now in the receiver; it cannot be shown again): ${w.secret}`);
      print(`The old secret signs too until ${when(w.previousSecretExpiresAt)} UTC: switch the receiver over before then.`);
    });
  webhook
    .command('deliveries')
    .description('list the deliveries of a webhook, newest first')
    .argument('<id>', 'the webhook id (hoop admin get webhooks)')
    .option('--limit <n>', 'at most this many (pages are followed)', positiveInt, 50)
    .addOption(outputOption())
    .action(async (id: string, opts: { limit: number; output: string }) => {
      const deliveries = await client().list<DeliveryView>(`${path(id)}/deliveries`, 'deliveries', opts.limit);
      if (opts.output === 'json') return json(deliveries);
      print(deliveries.length ? deliveriesTable(deliveries) : `Webhook ${id.trim()} has no deliveries yet.`);
    });
  webhook
    .command('replay')
    .description('send a delivery again now (same body and webhook-id, fresh signature)')
    .argument('<webhookId>', 'the webhook id')
    .argument('<deliveryId>', 'the delivery id (hoop admin webhook deliveries WEBHOOK_ID)')
    .addOption(outputOption())
    .action(async (webhookId: string, deliveryId: string, opts: { output: string }) => {
      const res = await client().request<{ delivery: { id: string; status: string } }>('POST', `${path(webhookId)}/deliveries/${encodeURIComponent(deliveryId.trim())}/replay`);
      if (opts.output === 'json') return json(res.body.delivery);
      print(`Delivery ${res.body.delivery.id} queued to be sent again; hoop admin webhook deliveries ${webhookId.trim()} shows how it went.`);
    });
}
