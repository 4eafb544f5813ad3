// The webhooks part of `hoop admin doctor`: endpoints disabled or failing, with their last error,
// and connections that list the webhooks plugin with no endpoint to receive them. The webhooks
// channel is built alongside: until its tables exist (to_regclass), there is nothing to check. Raw
// SQL, so this compiles whether or not the Prisma client knows those tables yet.
import { check, type DoctorCheck } from '../../contracts/doctor.js';
import type { Db } from '../../db/client.js';
import type { DoctorConnection } from '../doctor-connection.js';

export interface WebhookDoctorOptions {
  db: Db;
  connections: DoctorConnection[];
  now: Date;
}

interface EndpointRow {
  id: string;
  url: string;
  description: string | null;
  connections: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: Date | null;
}

/** Where an endpoint points, without its path or query (either may carry a token). */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}

async function tableExists(db: Db, table: string): Promise<boolean> {
  const rows = await db.$queryRaw<{ found: boolean }[]>`SELECT to_regclass(${`"${table}"`}) IS NOT NULL AS found`;
  return rows[0]?.found === true;
}

/** The last error of an endpoint's deliveries, when the delivery log exists. */
async function lastErrorOf(db: Db, endpointId: string, withDeliveries: boolean): Promise<string | null> {
  if (!withDeliveries) return null;
  const rows = await db.$queryRaw<{ lastError: string | null; lastStatusCode: number | null }[]>`
    SELECT "lastError", "lastStatusCode" FROM "WebhookDelivery"
    WHERE "endpointId" = ${endpointId}::uuid AND ("lastError" IS NOT NULL OR "lastStatusCode" IS NOT NULL) AND "status" <> 'succeeded'
    ORDER BY "updatedAt" DESC LIMIT 1`;
  const r = rows[0];
  if (!r) return null;
  return [r.lastStatusCode ? `HTTP ${r.lastStatusCode}` : null, r.lastError].filter(Boolean).join(': ').slice(0, 300) || null;
}

/** The webhook checks; none while the webhooks channel's tables do not exist. */
export async function webhookChecks({ db, connections }: WebhookDoctorOptions): Promise<DoctorCheck[]> {
  if (!(await tableExists(db, 'WebhookEndpoint'))) return [];
  const withDeliveries = await tableExists(db, 'WebhookDelivery');
  const endpoints = await db.$queryRaw<EndpointRow[]>`
    SELECT "id"::text AS id, "url", "description", "connections", "enabled", "disabledReason", "failingSince" FROM "WebhookEndpoint" ORDER BY "createdAt", "id"`;
  const out: DoctorCheck[] = [];
  for (const e of endpoints) {
    const name = `endpoint ${e.id}`;
    const label = `Webhook endpoint ${e.id} (${hostOf(e.url)}${e.description ? `, ${e.description}` : ''})`;
    if (!e.enabled) {
      const last = await lastErrorOf(db, e.id, withDeliveries);
      out.push(check('webhooks', name, 'fail', `${label} is disabled${e.disabledReason ? `: ${e.disabledReason}` : ''}${last ? `; last error: ${last}` : ''}. It receives nothing.`, `Fix the receiver, then enable it: hoop admin get webhooks; PATCH /api/webhooks/${e.id} {"enabled": true}`));
    } else if (e.failingSince) {
      const last = await lastErrorOf(db, e.id, withDeliveries);
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
