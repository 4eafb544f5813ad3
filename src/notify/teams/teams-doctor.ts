// The Teams part of `hoop admin doctor`: is a Workflows URL set for every connection Teams serves,
// and did its cards arrive (its ChannelMessage rows). A Workflows URL carries a secret (sig=): nothing here
// reads it beyond whether it is set, so no check can show it.
import { check, type DoctorCheck } from '../../contracts/doctor.js';
import type { Db } from '../../db/client.js';
import { channelOnFor, type DoctorConnection } from '../doctor-connection.js';

export interface TeamsDoctorOptions {
  /** TEAMS_WEBHOOK_URL is set. */
  defaultUrlSet: boolean;
  db: Db;
  connections: DoctorConnection[];
  now: Date;
}

/**
 * A card still 'posting' this long after its first attempt has not arrived: its job is failing
 * (Teams answers an error, or does not answer) or gave up. A post's own job takes seconds.
 */
export const TEAMS_STUCK_AFTER_MS = 2 * 60_000;
/** Stuck cards older than this are left out, as the sweep leaves them (it repairs the last day's). */
const STUCK_WINDOW_MS = 24 * 3600_000;

const URL_FIX = (name: string) => `hoop admin create connection ${name} --overwrite --teams-webhook-url '<the Workflows HTTP POST URL>', or set TEAMS_WEBHOOK_URL`;

/** The Teams checks. */
export async function teamsChecks({ defaultUrlSet, db, connections, now }: TeamsDoctorOptions): Promise<DoctorCheck[]> {
  const listing = connections.filter((c) => c.plugins.includes('teams'));
  const out: DoctorCheck[] = [];
  if (defaultUrlSet) out.push(check('teams', 'configured', 'ok', 'TEAMS_WEBHOOK_URL is set: Teams announces the requests of connections that list no plugins, and of those that list teams.'));
  else if (listing.length === 0) out.push(check('teams', 'configured', 'ok', 'Teams is off: TEAMS_WEBHOOK_URL is not set and no connection lists teams.'));
  else out.push(check('teams', 'configured', 'ok', 'TEAMS_WEBHOOK_URL is not set: Teams serves only the connections that list teams, with their own URL.'));

  const served: DoctorConnection[] = [];
  for (const c of connections) {
    if (!channelOnFor(c, 'teams', defaultUrlSet)) continue;
    if (c.teamsWebhookUrlSet || defaultUrlSet) served.push(c);
    else out.push(check('teams', `url: ${c.name}`, 'fail', `Connection ${c.name} lists the teams plugin but has no Workflows URL, and TEAMS_WEBHOOK_URL is not set: none of its requests reach Teams.`, URL_FIX(c.name)));
  }
  for (const c of served) out.push(await deliveryCheck(db, c, now));
  return out;
}

/** What became of the cards of one connection: the last one posted, and those stuck in 'posting'. */
async function deliveryCheck(db: Db, c: DoctorConnection, now: Date): Promise<DoctorCheck> {
  const ofConnection = { channel: 'teams', review: { connectionId: c.id } };
  const [posted, stuck] = await Promise.all([
    db.channelMessage.aggregate({ where: { ...ofConnection, status: 'posted' }, _max: { postedAt: true } }),
    db.channelMessage.aggregate({ where: { ...ofConnection, status: 'posting', createdAt: { lt: new Date(now.getTime() - TEAMS_STUCK_AFTER_MS), gte: new Date(now.getTime() - STUCK_WINDOW_MS) } }, _count: { _all: true }, _min: { createdAt: true }, _max: { attempts: true } }),
  ]);
  const lastPosted = posted._max.postedAt;
  const name = `delivery: ${c.name}`;
  const stuckCount = stuck._count._all;
  const last = lastPosted ? `the last card arrived ${ago(lastPosted, now)} (${lastPosted.toISOString()})` : 'no card has arrived yet';
  if (stuckCount === 0) return check('teams', name, 'ok', `Teams cards of ${c.name}: ${last}; none is stuck.`);
  const since = stuck._min.createdAt!;
  const what = `${stuckCount} ${stuckCount === 1 ? 'card' : 'cards'} of ${c.name} not posted in the last day (the oldest since ${since.toISOString()}, up to ${stuck._max.attempts ?? 0} attempts); ${last}`;
  const fix = `Check that the Workflows flow of ${c.name}'s Teams channel is on and that its URL is current (${URL_FIX(c.name)}); the gateway log says why each post failed ("Teams: post failed", at debug).`;
  // Cards that arrived after the stuck ones began: Teams works, some cards were refused.
  if (lastPosted && lastPosted > since) return check('teams', name, 'warn', `${what}, so Teams accepts others.`, fix);
  return check('teams', name, 'fail', `${what}: Teams has accepted nothing since.`, fix);
}

function ago(at: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}
