// `hoop admin audit verify [--expect-head HASH]` and `hoop admin audit head`: the audit hash
// chain's checks, through /api/audit/*. verify exits 0 when the chain is intact and EXIT.auditBroken
// when it found an event changed, removed or inserted, or a cut tail, so a monitor can run it.
import type { Command } from 'commander';
import type { AuditHeadView, AuditVerifyReport } from '../contracts/audit.js';
import type { GatewayClient } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { outputOption } from './options.js';

export interface AuditCommandsContext {
  client: () => GatewayClient;
  print: (text: string) => void;
  json: (value: unknown) => void;
  setExit: (code: number) => void;
}

/** The report as lines for a person: what was found and where, or that the chain is intact. */
export function verifyText(r: AuditVerifyReport, expectHead?: string): string {
  const lines: string[] = [];
  if (r.ok) {
    lines.push(`✓ The audit chain is intact: ${r.events} events, head ${r.head?.hash ?? '(empty)'}.`);
    if (expectHead) lines.push(expectHead === r.head?.hash ? '  The head you kept is the last event.' : '  The head you kept is in the chain; events were added after it.');
  } else {
    lines.push(`✗ The audit chain is broken (${r.events} events checked before the first problem):`);
    for (const p of r.problems) lines.push(`  ${p.kind}: ${p.message}`);
  }
  if (r.pending > 0) lines.push(`  ${r.pending} newer events are not chained yet (their transactions may still be running).`);
  return lines.join('\n');
}

/** Adds `verify` and `head` to `hoop admin audit`. */
export function registerAuditCommands(audit: Command, { client, print, json, setExit }: AuditCommandsContext): void {
  audit
    .command('verify')
    .description(`walk the audit hash chain and name the first event changed, removed or inserted (exit ${EXIT.auditBroken} when broken)`)
    .option('--expect-head <hash>', 'a head hash kept outside the database (hoop admin audit head, or the log): also detects a cut tail')
    .addOption(outputOption())
    .action(async (opts: { expectHead?: string; output: string }) => {
      const expectHead = opts.expectHead?.trim().toLowerCase();
      if (expectHead !== undefined && !/^[0-9a-f]{64}$/.test(expectHead)) {
        throw new CliError(`--expect-head must be a head hash: 64 hex digits, as printed by 'hoop admin audit head' or logged as auditHead.hash (got '${opts.expectHead}').`, EXIT.usage);
      }
      const { body } = await client().request<AuditVerifyReport>('GET', `/api/audit/verify${expectHead ? `?expectHead=${expectHead}` : ''}`);
      if (opts.output === 'json') json(body);
      else print(verifyText(body, expectHead));
      setExit(body.ok ? EXIT.ok : EXIT.auditBroken);
    });
  audit
    .command('head')
    .description('print the number of chained audit events and the head hash (keep it outside the database)')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const { body } = await client().request<AuditHeadView>('GET', '/api/audit/head');
      if (opts.output === 'json') json(body);
      else print(`${body.events} events, head ${body.hash ?? '(none yet)'}`);
    });
}
