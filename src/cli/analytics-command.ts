// `hoop admin get analytics [--from --to --connection] [-o json]`: GET /api/analytics as tables —
// time to decision, outcomes, top requesters, common commands and what is pending now.
import type { Command } from 'commander';
import type { AnalyticsView, DecisionTimes } from '../contracts/analytics-view.js';
import type { GatewayClient } from './api-client.js';
import { outputOption } from './options.js';
import { table } from './output.js';

export interface AnalyticsCommandContext {
  client: () => GatewayClient;
  print: (text: string) => void;
  json: (value: unknown) => void;
}

/** 45s, 12m 5s, 3h 20m, 2d 4h: a wait as a person reads it. */
export function duration(sec: number | null): string {
  if (sec === null) return '-';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** 0.75 → 75%; null (nothing decided) → -. */
export function percent(rate: number | null): string {
  return rate === null ? '-' : `${Math.round(rate * 1000) / 10}%`;
}

const timesRow = (scope: string, t: DecisionTimes) => [scope, t.decided, duration(t.meanSec), duration(t.medianSec), duration(t.p90Sec)];

/** The analytics as titled tables; outcome buckets with no requests are left out. */
export function analyticsText(a: AnalyticsView): string {
  const p = a.pending;
  const counts = (c: AnalyticsView['totals']) => [c.requests, c.approved, c.automatic, c.rejected, c.expired, c.pending, c.executed, c.failed, percent(c.approvalRate)];
  const ttd = a.timeToDecision;
  return [
    `Requests created from ${a.from} to ${a.to}${a.connection ? ` on ${a.connection}` : ''}.`,
    `Pending now: ${p.count}${p.oldest ? ` (oldest: ${p.oldest.id} on ${p.oldest.connection}, waiting ${duration(p.oldest.ageSec)})` : ''}.`,
    '',
    'Time to decision (requests decided by reviewers)',
    table(['scope', 'decided', 'mean', 'median', 'p90'], [
      timesRow('overall', ttd.overall),
      ...ttd.byConnection.map((c) => timesRow(`connection ${c.connection}`, c)),
      ...ttd.byGroup.map((g) => timesRow(`group ${g.group}`, g)),
    ]),
    '',
    `Outcomes by ${a.bucket} (approval rate: approved / (approved + rejected) by reviewers)`,
    table(['', 'requests', 'approved', 'automatic', 'rejected', 'expired', 'pending', 'executed', 'failed', 'approval rate'], [
      ...a.outcomes.filter((o) => o.requests > 0).map((o) => [a.bucket === 'hour' ? o.at.slice(0, 16).replace('T', ' ') : o.at.slice(0, 10), ...counts(o)]),
      ['total', ...counts(a.totals)],
    ]),
    '',
    'Top requesters',
    a.topRequesters.length ? table(['requester', 'requests', 'approved', 'rejected', 'approval rate'], a.topRequesters.map((r) => [r.requester, r.requests, r.approved, r.rejected, percent(r.approvalRate)])) : '(none)',
    '',
    'Common commands',
    a.commonCommands.length ? table(['requests', 'pattern', 'sample'], a.commonCommands.map((c) => [c.requests, c.fingerprint ?? '(not fingerprinted)', c.sample])) : '(none)',
  ].join('\n');
}

/** Adds `hoop admin get analytics`. */
export function registerAnalyticsCommand(get: Command, { client, print, json }: AnalyticsCommandContext): void {
  get
    .command('analytics')
    .description('time to decision, outcomes, top requesters and common commands of the requests you may see')
    .option('--from <date>', 'from this date or time (ISO 8601, UTC unless a zone is given; default: 30 days before --to)')
    .option('--to <date>', 'until this date or time (default: now)')
    .option('--connection <name>', 'only this connection')
    .addOption(outputOption())
    .action(async (opts: { from?: string; to?: string; connection?: string; output: string }) => {
      const q = new URLSearchParams();
      for (const k of ['from', 'to', 'connection'] as const) if (opts[k] !== undefined) q.set(k, opts[k]);
      const { body } = await client().request<AnalyticsView>('GET', `/api/analytics${q.size ? `?${q}` : ''}`);
      if (opts.output === 'json') json(body);
      else print(analyticsText(body));
    });
}
