// `hoop admin doctor`: the gateway's checks of why notifications may not arrive, as a table with
// the fix under each check that is not ok. Exits 1 when a check fails, so a script or a monitor
// can run it.
import type { Command } from 'commander';
import type { DoctorCheck, DoctorReport } from '../contracts/doctor.js';
import type { GatewayClient } from './api-client.js';
import { EXIT } from './exit-codes.js';
import { outputOption } from './options.js';

export interface DoctorCommandContext {
  client: () => GatewayClient;
  print: (text: string) => void;
  json: (value: unknown) => void;
  setExit: (code: number) => void;
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/** The checks as lines: a mark, the channel and name, the message; the fix indented under each that is not ok. */
export function doctorText(checks: DoctorCheck[]): string {
  if (checks.length === 0) return 'Nothing to check.';
  const label = (c: DoctorCheck) => `${c.channel} ${c.name}`;
  const width = Math.max(...checks.map((c) => [...label(c)].length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status] ?? '?'} ${label(c)}${' '.repeat(width - [...label(c)].length)}   ${c.message}`);
    if (c.status !== 'ok' && c.fix) lines.push(`    fix: ${c.fix}`);
  }
  const count = (s: DoctorCheck['status']) => checks.filter((c) => c.status === s).length;
  lines.push('', `${count('ok')} ok, ${count('warn')} ${count('warn') === 1 ? 'warning' : 'warnings'}, ${count('fail')} failed.`);
  return lines.join('\n');
}

/** 0 when nothing failed (warnings included), 1 when a check failed. */
export function doctorExitCode(checks: DoctorCheck[]): number {
  return checks.some((c) => c.status === 'fail') ? EXIT.checksFailed : EXIT.ok;
}

/** Adds `hoop admin doctor`. */
export function registerDoctorCommand(admin: Command, { client, print, json, setExit }: DoctorCommandContext): void {
  admin
    .command('doctor')
    .description('check why notifications may not arrive: Slack token and channels, unlinked reviewers, Teams URLs and posts, webhook endpoints (exit 1 when a check fails)')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const { body } = await client().request<DoctorReport>('GET', '/api/admin/doctor');
      if (opts.output === 'json') json(body);
      else print(doctorText(body.checks));
      setExit(doctorExitCode(body.checks));
    });
}
