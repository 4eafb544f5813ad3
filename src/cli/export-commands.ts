// `hoop admin audit export` and `hoop admin get reviews --export`: the gateway's exports streamed to
// stdout or a file as they arrive, never held whole in memory. A file is written under a temporary
// name and renamed when complete, so a cut export never looks like a finished one.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import type { GatewayClient } from './api-client.js';

export interface ExportCommandsContext {
  client: () => GatewayClient;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** The query of an export from its flags (undefined ones left out). */
export function exportQuery(params: Record<string, string | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const item of v) q.append(k, item);
    else if (v !== undefined) q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Streams `path` to `file` (renamed into place when complete) or to stdout. */
export async function streamExport(ctx: ExportCommandsContext, path: string, file?: string): Promise<void> {
  if (!file) {
    await ctx.client().download(path, ctx.stdout, { end: false });
    return;
  }
  const partial = `${file}.partial`;
  try {
    const bytes = await ctx.client().download(path, createWriteStream(partial));
    await rename(partial, file);
    ctx.stderr.write(`Wrote ${bytes} bytes to ${file}.\n`);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** `hoop admin audit export`; the `audit` command is shared with verify/head. */
export function registerAuditExport(audit: Command, ctx: ExportCommandsContext): void {
  audit
    .command('export')
    .description('stream the audit trail (admins), oldest first, as JSON lines or CSV')
    .option('--from <time>', 'events at or after this ISO time, e.g. 2026-01-01')
    .option('--to <time>', 'events before this ISO time')
    .option('--connection <name>', "only events of this connection's requests and reads")
    .option('--requester <email>', "only events of this person's requests and reads")
    .option('--action <name>', 'only these actions (repeatable, or comma-separated), e.g. review.approved', collect)
    .addOption(new Option('--format <format>', 'the file format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (opts: { from?: string; to?: string; connection?: string; requester?: string; action?: string[]; format: string; output?: string }) => {
      const q = exportQuery({ format: opts.format, from: opts.from, to: opts.to, connection: opts.connection, requester: opts.requester, action: opts.action });
      await streamExport(ctx, `/api/audit/export${q}`, opts.output);
    });
}
