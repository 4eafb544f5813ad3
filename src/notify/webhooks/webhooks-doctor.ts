// The webhooks part of `hoop admin doctor`: endpoints disabled or failing, with their last error,
// and connections that list the webhooks plugin with no endpoint to receive them. An endpoint's URL
// may carry a token in its path or query: only its host is shown.
import { check, type DoctorCheck } from '../../contracts/doctor.js';
import type { Db } from '../../db/client.js';
import type { DoctorConnection } from '../doctor-connection.js';

export interface WebhookDoctorOptions {
  db: Db;
  connections: DoctorConnection[];
  now: Date;
}

/** Where an endpoint points, without its path or query (either may carry a token). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

/** The last error of an endpoint's deliveries that did not succeed, as "HTTP 502: ...". */
async function lastErrorOf(db: Db, endpointId: string): Promise<string | null> {
  const d = await db.webhookDelivery.findFirst({
    where: { endpointId, status: { not: 'succeeded' }, OR: [{ lastError: { not: null } }, { lastStatusCode: { not: null } }] },
    orderBy: { updatedAt: 'desc' },
    select: { lastError: true, lastStatusCode: true },
  });
  if (!d) return null;
  return [d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : null, d.lastError].filter(Boolean).join(': ').slice(0, 300) || null;
}

/** The webhook checks. */
export async function webhookChecks({ db, connections }: WebhookDoctorOptions): Promise<DoctorCheck[]> {
  const endpoints = await db.webhookEndpoint.findMany({
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { id: true, url: true, description: true, connections: true, enabled: true, disabledReason: true, failingSince: true },
  });
  const out: DoctorCheck[] = [];
  for (const e of endpoints) {
    const name = `endpoint ${e.id}`;
    const label = `Webhook endpoint ${e.id} (${hostOf(e.url)}${e.description ? `, ${e.description}` : ''})`;
    if (!e.enabled) {
      const last = await lastErrorOf(db, e.id);
      out.push(check('webhooks', name, 'fail', `${label} is disabled${e.disabledReason ? `: ${e.disabledReason}` : ''}${last ? `; last error: ${last}` : ''}. It receives nothing.`, `Fix the receiver, then enable it again: hoop admin webhook enable ${e.id} (or PATCH /api/webhooks/${e.id} {"enabled": true})`));
    } else if (e.failingSince) {
      const last = await lastErrorOf(db, e.id);
      out.push(check('webhooks', name, 'warn', `${label} has been failing since ${e.failingSince.toISOString()}${last ? `; last error: ${last}` : ''}. It is disabled after a day of failures.`, `Fix the receiver; hoop admin webhook deliveries ${e.id} shows each attempt, and hoop admin webhook replay ${e.id} DELIVERY_ID resends one.`));
    } else {
      out.push(check('webhooks', name, 'ok', `${label} is enabled and its deliveries succeed.`));
    }
  }
  for (const c of connections.filter((x) => x.plugins.includes('webhooks'))) {
    const receiving = endpoints.filter((e) => e.enabled && (e.connections.length === 0 || e.connections.includes(c.name)));
    if (receiving.length === 0) {
      out.push(check('webhooks', `endpoints: ${c.name}`, 'fail', `Connection ${c.name} lists the webhooks plugin, but no enabled endpoint receives its events.`, `hoop admin create webhook --url https://... --event review.created --connection ${c.name} (or enable a disabled one)`));
    }
  }
  return out;
}
