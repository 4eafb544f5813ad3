// `hoop`: submit commands, review them and configure the gateway, from a terminal or a script.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { ReviewListView, ReviewView } from '../contracts/review-view.js';
import { GatewayClient } from './api-client.js';
import { loadCliConfig, saveCliConfig } from './config-file.js';
import { runExec } from './exec-command.js';
import { CliError, EXIT } from './exit-codes.js';
import { registerIdentityCommands } from './identity-commands.js';
import { registerAgentCommands } from './agent-commands.js';
import { durationWords } from '../core/access-window.js';
import { registerAccessCommands } from './access-commands.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerAnalyticsCommand } from './analytics-command.js';
import { registerAuditCommands } from './audit-commands.js';
import { list, outputOption, positiveInt } from './options.js';
import { describeReview, historyTable, reviewsTable, table, type HistoryEvent, printable, jsonText } from './output.js';
import { parsePsqlArgs, toPostgresUrl } from './psql-args.js';
import { CLI_VERSION } from './version.js';
import { classifyLines } from './sql-classify.js';
import { registerWebhookCommands } from './webhook-commands.js';
import { exportQuery, registerAuditExport, streamExport } from './export-commands.js';

/** A flag's whole number, or undefined when absent (the gateway checks its range). */
function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value.trim())) throw new CliError(`${flag} takes a whole number (got "${value}").`, EXIT.usage);
  return Number(value.trim());
}

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const STATUSES = ['pending', 'approved', 'running', 'executed', 'failed', 'rejected', 'expired', 'granted', 'ended'];

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `deny:DROP TABLE`, `regex:PATTERN`, `no-unbounded-write`; an optional `=message` after `|`. */
export function parseGuardrailFlag(flag: string): Record<string, string | undefined> {
  const [rule, message] = flag.split('|', 2);
  const colon = rule.indexOf(':');
  const type = colon < 0 ? rule.trim() : rule.slice(0, colon).trim();
  const value = colon < 0 ? '' : rule.slice(colon + 1).trim();
  const extra = { message: message?.trim() || undefined };
  if (type === 'deny' && value) return { type: 'deny-command', command: value, ...extra };
  if (type === 'regex' && value) return { type: 'regex', pattern: value, ...extra };
  if (type === 'no-unbounded-write' && !value) return { type: 'deny-unbounded-write', ...extra };
  if (type === 'no-unchecked-sql' && !value) return { type: 'deny-unchecked-sql', ...extra };
  throw new CliError(`--guardrail "${flag}" is not a rule: use 'deny:DROP TABLE', 'regex:PATTERN', 'no-unbounded-write' or 'no-unchecked-sql' (add '|message' for your own message).`, EXIT.usage);
}

/** Builds the command tree; actions resolve to an exit code. */
export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const print = (text: string): void => {
    const shown = printable(text);
    io.stdout.write(shown.endsWith('\n') ? shown : shown + '\n');
  };
  const client = () => {
    const c = loadCliConfig(io.env);
    return new GatewayClient(c.apiUrl, c.apiKey);
  };
  // JSON keeps its own escapes: printable() would turn them into text JSON does not allow.
  const json = (value: unknown): void => void io.stdout.write(jsonText(value, 2) + '\n');
  /** --teams-webhook-url: `-` reads the (secret) URL from stdin, out of shell history; `none` removes it. */
  const teamsUrlOption = async (value: string | undefined): Promise<string | null | undefined> => {
    if (value === undefined) return undefined;
    if (value === 'none') return null;
    if (value !== '-') return value;
    if (io.stdin.isTTY) throw new CliError('--teams-webhook-url - reads the URL from stdin: pipe it in, e.g. hoop ... --teams-webhook-url - < url.txt', EXIT.usage);
    const url = (await readAll(io.stdin)).trim();
    if (!url) throw new CliError('--teams-webhook-url - read nothing from stdin: pipe the Workflows URL in.', EXIT.usage);
    return url;
  };

  const program = new Command('hoop')
    .description('Approvals for production database commands: submit, review and configure.')
    .version(CLI_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride();

  program
    .command('login')
    .description('store the gateway URL and API key in ~/.hoop/config.json (mode 0600)')
    .requiredOption('--api-url <url>', 'the gateway, e.g. https://hoop.internal:8009')
    .requiredOption('--api-key <key>', 'your API key (hoop admin create user prints one)')
    .action(async (opts: { apiUrl: string; apiKey: string }) => {
      const apiUrl = opts.apiUrl.replace(/\/+$/, '');
      if (!/^https?:\/\//.test(apiUrl)) throw new CliError(`"${opts.apiUrl}" is not an http(s) URL.`, EXIT.usage);
      const me = await new GatewayClient(apiUrl, opts.apiKey).request<{ user: { email: string; groups: string[]; admin: boolean } }>('GET', '/api/me');
      const file = saveCliConfig({ apiUrl, apiKey: opts.apiKey }, io.env);
      const u = me.body.user;
      print(`Logged in to ${apiUrl} as ${u.email}${u.admin ? ' (admin)' : ''}; groups: ${u.groups.join(', ') || 'none'}. Saved to ${file}.`);
    });

  program
    .command('exec')
    .description('run a command on a connection, waiting for approval when it needs one')
    .argument('<connection>', 'the connection name (hoop admin get connections)')
    .option('-i, --input <sql>', 'the SQL to run')
    .option('-f, --file <path>', 'read the SQL from a file')
    .option('--reason <text>', 'why, shown to the reviewers')
    .option('--no-wait', 'print the review id and exit without waiting')
    .addOption(outputOption())
    .action(async (connection: string, opts: { input?: string; file?: string; reason?: string; wait: boolean; output: string }) => {
      let input = opts.input;
      if (input !== undefined && opts.file) throw new CliError('Give the SQL with -i or -f, not both.', EXIT.usage);
      if (opts.file) {
        try {
          input = readFileSync(opts.file, 'utf8');
        } catch (error) {
          throw new CliError(`Cannot read ${opts.file}: ${(error as Error).message}`, EXIT.usage);
        }
      } else if (input === undefined && !io.stdin.isTTY) {
        input = await readAll(io.stdin);
      }
      if (input === undefined || input.trim() === '') {
        throw new CliError('No SQL given: use -i "SQL", -f FILE, or pipe it on stdin.', EXIT.usage);
      }
      setExit(await runExec(client(), io, { connection, input, reason: opts.reason, wait: opts.wait, json: opts.output === 'json' }));
    });

  const get = program.command('get').description('show one object');
  get
    .command('review')
    .description('show a review, its approvals and its output')
    .argument('<id>')
    .option('--history', 'also print the audit trail: who did what, when, from where')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string; history?: boolean }) => {
      const c = client();
      const { review } = await c.getReview(id);
      const events = opts.history ? (await c.request<{ events: HistoryEvent[] }>('GET', `/api/reviews/${encodeURIComponent(id)}/events`)).body.events : undefined;
      if (opts.output === 'json') return json(events ? { ...review, history: events } : review);
      print(describeReview(review));
      if (events) print('History:\n' + historyTable(events));
    });

  const review = program.command('review').description('approve, reject, or suggest a change to a request from the terminal');
  review
    .command('approve')
    .description('approve for your pending group; name it with --group when you are in several')
    .argument('<id>')
    .option('--group <group>', 'approve for this group only')
    .option('--max-rows <n>', 'approve on condition that the command changes at most N rows in all; more, and it is rolled back (PostgreSQL)')
    .addOption(outputOption())
    .action(async (id: string, opts: { group?: string; maxRows?: string; output: string }) => {
      if (opts.maxRows !== undefined && !/^\d{1,10}$/.test(opts.maxRows.trim())) throw new CliError(`--max-rows takes a whole number of rows (got "${opts.maxRows}"), e.g. --max-rows 10.`, EXIT.usage);
      const body = { ...(opts.group ? { group: opts.group } : {}), ...(opts.maxRows !== undefined ? { maxRows: Number(opts.maxRows.trim()) } : {}) };
      const res = await client().request<ReviewView>('PUT', `/api/reviews/${encodeURIComponent(id)}/approve`, body);
      if (opts.output === 'json') return json(res.body);
      const r = res.body;
      const limit = opts.maxRows !== undefined ? `, on condition it changes at most ${Number(opts.maxRows)} ${Number(opts.maxRows) === 1 ? 'row' : 'rows'}` : '';
      print(`Approved${limit}. Review ${r.id} is ${r.status} (${r.approvals.approved} of ${r.approvals.total} groups).`);
    });
  review
    .command('reject')
    .description('reject a request; it will not run')
    .argument('<id>')
    .option('--reason <text>', 'why, shown to the requester and the reviewers')
    .option('--group <group>', 'reject for this group')
    .addOption(outputOption())
    .action(async (id: string, opts: { reason?: string; group?: string; output: string }) => {
      const res = await client().request<ReviewView>('PUT', `/api/reviews/${encodeURIComponent(id)}/reject`, { reason: opts.reason, group: opts.group });
      if (opts.output === 'json') return json(res.body);
      print(`Rejected. Review ${res.body.id} will not run.`);
    });

  review
    .command('suggest')
    .description('suggest a change instead of only rejecting: the request is rejected, and the corrected command becomes a new request in the requester\'s name with your approval')
    .argument('<id>')
    .option('-i, --input <sql>', 'the corrected SQL')
    .option('-f, --file <path>', 'read the corrected SQL from a file')
    .option('--comment <text>', 'why the command changes (required), shown to everyone')
    .option('--group <group>', 'the group your approval of the correction counts for')
    .addOption(outputOption())
    .action(async (id: string, opts: { input?: string; file?: string; comment?: string; group?: string; output: string }) => {
      if (opts.input !== undefined && opts.file) throw new CliError('Give the corrected SQL with --input or --file, not both.', EXIT.usage);
      let input = opts.input;
      if (opts.file) {
        try {
          input = readFileSync(opts.file, 'utf8');
        } catch (error) {
          throw new CliError(`Cannot read ${opts.file}: ${(error as Error).message}`, EXIT.usage);
        }
      }
      if (input === undefined || input.trim() === '') throw new CliError('No corrected SQL given: use --input "SQL" or --file FILE.', EXIT.usage);
      if (!opts.comment?.trim()) throw new CliError('Say why the command changes: --comment "TEXT" is required.', EXIT.usage);
      const res = await client().request<{ original: ReviewView; correction: ReviewView }>('POST', `/api/reviews/${encodeURIComponent(id)}/suggest`, { input, comment: opts.comment, ...(opts.group ? { group: opts.group } : {}) });
      if (opts.output === 'json') return json(res.body);
      const c = res.body.correction;
      print(`Suggested. Request ${id} is rejected; its correction ${c.id} waits for ${c.requester} to accept it (${c.approvals.approved} of ${c.approvals.total} groups approved).`);
      print('Changes:\n' + (c.correction?.diff ?? '').split('\n').map((l) => `  ${l}`).join('\n'));
    });
  review
    .command('accept')
    .description('accept a change a reviewer made to your request; it runs once every group has approved it')
    .argument('<id>', 'the correction\'s id')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<ReviewView>('PUT', `/api/reviews/${encodeURIComponent(id)}/accept`, {});
      if (opts.output === 'json') return json(res.body);
      const r = res.body;
      print(r.status === 'PENDING' ? `Accepted. Review ${r.id} waits for its reviewer groups (${r.approvals.approved} of ${r.approvals.total} approved).` : `Accepted. Review ${r.id} is ${r.status}.`);
    });

  const admin = program.command('admin').description('configure the gateway (admins)');
  const create = admin.command('create').description('create a connection, a user, an API key or a webhook');
  create
    .command('connection')
    .description('create (or --overwrite) a connection: hoop admin create connection NAME --reviewers a,b -- psql -h HOST -U USER DB')
    .argument('<name>', 'the connection name')
    .argument('[psql...]', 'after --: the psql command line of the database, or a mysql:// URI')
    .option('--agent <agent>', 'accepted for compatibility with hoop.dev (the gateway runs the proxy itself)', 'default')
    .option('--reviewers <groups>', 'comma-separated reviewer groups; none means commands run without review', list)
    .option('--plugin <plugin>', 'a channel that announces its requests: slack, teams, webhooks (repeatable or a comma list; none: every channel configured on the gateway)', collect)
    .option('--channel <id>', 'Slack channel for this connection\'s requests')
    .option('--teams-webhook-url <url>', 'the Teams Workflows URL for this connection\'s requests (a secret: - reads it from stdin, kept out of shell history; none removes it; default: TEAMS_WEBHOOK_URL)')
    .option('--env <KEY=VALUE>', 'connection environment, e.g. PGPASSWORD=... (never echoed)', collect)
    .option('--overwrite', 'change an existing connection')
    .addOption(new Option('--review-mode <mode>', 'writes: reads run at once read-only; all: every command is reviewed; none: nothing is').choices(['writes', 'all', 'none']))
    .option('--guardrail <rule>', "block before review: 'deny:DROP TABLE', 'regex:PATTERN', 'no-unbounded-write', 'no-unchecked-sql' (repeatable; replaces the defaults)", collect)
    .option('--mask-column <pattern>', 'mask values of columns named like this, e.g. email or *_ssn (repeatable)', collect)
    .option('--mask-detector <name>', 'mask values found by: email, phone, credit_card, ssn, iban, ip (repeatable)', collect)
    .option('--allowed-groups <groups>', 'only these groups (and the reviewers) see the connection', list)
    .option('--allow-function <name>', 'a function this database only reads with (repeatable)', collect)
    .option('--distinct-approvers', 'one person approves for one reviewer group (the default)')
    .option('--no-distinct-approvers', 'let one person in several reviewer groups approve for all of them')
    .addOption(new Option('--access-mode <mode>', 'command: each command is reviewed (the default); jit: people ask for access windows (hoop request access); both').choices(['command', 'jit', 'both']))
    .option('--max-access-duration <duration>', 'the longest access window one request may ask for, e.g. 30m, 4h, 1d (default 1h)')
    .option('--jit-agents', 'agents may ask for access windows too')
    .option('--no-jit-agents', 'agents may not ask for access windows (the default)')
    .addOption(new Option('--preview <mode>', 'impact preview of writes: auto (a dry run, rolled back, where safe; else the estimate; the default), estimate, off').choices(['auto', 'estimate', 'off']))
    .option('--preview-timeout-ms <ms>', "the dry run's statement timeout (default 2000)")
    .option('--preview-lock-timeout-ms <ms>', 'how long the dry run waits for a lock (default 200)')
    .option('--row-tolerance <percent>', 'how many percent more rows than the dry run counted an approved run may change (default 0)')
    .addOption(outputOption())
    .action(async (name: string, psql: string[], opts: { reviewers?: string[]; plugin?: string[]; channel?: string; teamsWebhookUrl?: string; env?: string[]; overwrite?: boolean; output: string; reviewMode?: string; guardrail?: string[]; maskColumn?: string[]; maskDetector?: string[]; allowedGroups?: string[]; allowFunction?: string[]; distinctApprovers?: boolean; accessMode?: string; maxAccessDuration?: string; jitAgents?: boolean; preview?: string; previewTimeoutMs?: string; previewLockTimeoutMs?: string; rowTolerance?: string }) => {
      const plugins = opts.plugin?.flatMap((p) => p.split(',')).map((p) => p.trim().toLowerCase()).filter(Boolean);
      const unknownPlugin = plugins?.find((p) => !['slack', 'teams', 'webhooks'].includes(p));
      if (unknownPlugin) throw new CliError(`Unknown plugin "${unknownPlugin}"; use slack, teams or webhooks (repeat --plugin, or a comma list).`, EXIT.usage);
      const envs = new Map<string, string>();
      for (const kv of opts.env ?? []) {
        const eq = kv.indexOf('=');
        if (eq < 1) throw new CliError(`--env takes KEY=VALUE, got "${kv}".`, EXIT.usage);
        envs.set(kv.slice(0, eq), kv.slice(eq + 1));
      }
      const unknownEnv = [...envs.keys()].find((k) => k !== 'PGPASSWORD');
      if (unknownEnv) throw new CliError(`--env ${unknownEnv} is not supported; only PGPASSWORD is.`, EXIT.usage);
      let url: string | undefined;
      if (psql.length === 1 && /^mysql:\/\//.test(psql[0])) url = psql[0];
      else if (psql.length > 0) url = toPostgresUrl(parsePsqlArgs(psql), envs.get('PGPASSWORD') ?? io.env.PGPASSWORD);
      else if (!opts.overwrite) throw new CliError('Give the database after --, e.g. -- psql -h db.internal -U app appdb (or use --overwrite to change an existing connection).', EXIT.usage);
      const body = {
        name,
        url,
        reviewers: opts.reviewers,
        slackChannel: opts.channel,
        reviewMode: opts.reviewMode,
        guardrails: opts.guardrail?.map(parseGuardrailFlag),
        maskColumns: opts.maskColumn,
        maskDetectors: opts.maskDetector,
        allowedGroups: opts.allowedGroups,
        allowFunctions: opts.allowFunction,
        distinctApprovers: opts.distinctApprovers,
        plugins,
        teamsWebhookUrl: await teamsUrlOption(opts.teamsWebhookUrl),
        accessMode: opts.accessMode,
        maxAccessDuration: opts.maxAccessDuration,
        jitAgents: opts.jitAgents,
        previewMode: opts.preview,
        previewTimeoutMs: wholeNumber(opts.previewTimeoutMs, '--preview-timeout-ms'),
        previewLockTimeoutMs: wholeNumber(opts.previewLockTimeoutMs, '--preview-lock-timeout-ms'),
        rowTolerancePct: wholeNumber(opts.rowTolerance?.replace(/%$/, ''), '--row-tolerance'),
      };
      const res = await client().request<{ connection: { name: string; reviewers: string[]; slackChannel: string | null; reviewMode: string; plugins: string[]; accessMode: string; maxAccessSec: number; jitAgents: boolean } }>(
        'POST',
        `/api/connections${opts.overwrite ? '?overwrite=true' : ''}`,
        body,
      );
      if (opts.output === 'json') return json(res.body.connection);
      const c = res.body.connection;
      const access = c.accessMode === 'command' ? '' : `; access: ${c.accessMode} (windows up to ${durationWords(c.maxAccessSec)}${c.jitAgents ? ', agents too' : ''})`;
      print(`Connection ${c.name} ${res.status === 201 ? 'created' : 'updated'}; reviewers: ${c.reviewers.join(', ') || 'none (commands run without review)'}; review mode: ${c.reviewMode}; plugins: ${c.plugins.join(', ') || 'every channel configured on the gateway'}${access}.`);
    });
  create
    .command('user')
    .description('create a user and print their API key (shown once)')
    .argument('<email>')
    .option('--groups <groups>', 'comma-separated groups', list)
    .option('--name <name>', 'display name')
    .option('--admin', 'make the user an admin')
    .addOption(outputOption())
    .action(async (email: string, opts: { groups?: string[]; name?: string; admin?: boolean; output: string }) => {
      const res = await client().request<{ user: { email: string; groups: string[] }; apiKey: string }>('POST', '/api/users', { email, name: opts.name, groups: opts.groups ?? [], admin: opts.admin === true });
      if (opts.output === 'json') return json(res.body);
      print(`User ${res.body.user.email} created (groups: ${res.body.user.groups.join(', ') || 'none'}).`);
      print(`API key (shown once, store it now): ${res.body.apiKey}`);
    });

  const adminGet = admin.command('get').description('list connections, users, API keys, reviews or webhooks');
  registerIdentityCommands({ admin, create, get: adminGet }, { client, print, json });
  registerAgentCommands({ create, get: adminGet }, { client, print, json });
  registerAccessCommands({ program, review }, { client, print, json, setExit, note: (text) => void io.stderr.write(`${text}\n`) });
  registerWebhookCommands({ admin, create, get: adminGet }, { client, print, json });
  registerDoctorCommand(admin, { client, print, json, setExit });
  registerAnalyticsCommand(adminGet, { client, print, json });
  adminGet
    .command('connections')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const connections = await client().list<{ name: string; type: string; reviewers: string[]; distinctApprovers: boolean; slackChannel: string | null; plugins: string[] }>('/api/connections', 'connections');
      if (opts.output === 'json') return json(connections);
      print(table(['name', 'type', 'reviewers', 'distinct approvers', 'plugins', 'slack channel'], connections.map((c) => [c.name, c.type, c.reviewers.join(','), c.distinctApprovers ? 'yes' : 'no', c.plugins.join(',') || '(all)', c.slackChannel])));
    });
  adminGet
    .command('users')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const users = await client().list<{ email: string; name: string | null; admin: boolean; active: boolean; groups: string[]; slackUserId: string | null }>('/api/users', 'users');
      if (opts.output === 'json') return json(users);
      print(table(['email', 'name', 'admin', 'active', 'groups', 'slack'], users.map((u) => [u.email, u.name, u.admin ? 'yes' : 'no', u.active ? 'yes' : 'no', u.groups.join(','), u.slackUserId])));
    });
  const exportCtx = { client, stdout: io.stdout, stderr: io.stderr };
  // `hoop admin audit export|verify|head`.
  const audit = admin.command('audit').description('the audit trail (admins): export it, check its hash chain and head');
  registerAuditExport(audit, exportCtx);
  registerAuditCommands(audit, { client, print, json, setExit });
  adminGet
    .command('reviews')
    .addOption(new Option('--status <status>', 'only reviews in this status').choices(STATUSES))
    .option('--connection <name>', 'only reviews of this connection')
    .option('--requester <email>', 'only reviews requested by this person')
    .option('--limit <n>', 'at most this many, newest first (pages are followed)', positiveInt, 50)
    .addOption(outputOption())
    .addOption(new Option('--export <format>', 'stream every matching review you may see, oldest first, to stdout as CSV or JSON lines (no --limit)').choices(['csv', 'jsonl']))
    .option('--from <time>', 'with --export: reviews created at or after this ISO time')
    .option('--to <time>', 'with --export: reviews created before this ISO time')
    .option('--include-output', "with --export: add each command's full output as stored (masked), and outputTruncated when the gateway cut it")
    .action(async (opts: { status?: string; connection?: string; requester?: string; limit: number; output: string; export?: string; from?: string; to?: string; includeOutput?: boolean }) => {
      const filters = { status: opts.status, connection: opts.connection, requester: opts.requester };
      if (opts.export) return streamExport(exportCtx, `/api/reviews/export${exportQuery({ format: opts.export, ...filters, from: opts.from, to: opts.to, include: opts.includeOutput ? 'output' : undefined })}`);
      if (opts.from || opts.to || opts.includeOutput) throw new CliError('--from, --to and --include-output go with --export (the list shows the newest reviews first: use --limit, and hoop get review ID for one output).', EXIT.usage);
      const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined)).toString();
      const reviews = await client().list<ReviewListView>(`/api/reviews${query ? `?${query}` : ''}`, 'reviews', opts.limit);
      if (opts.output === 'json') return json(reviews);
      const said = Object.entries(filters).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`);
      print(reviews.length ? reviewsTable(reviews) : `No reviews${said.length ? ` with ${said.join(', ')}` : ''}.`);
    });

  program
    .command('mcp')
    .description('serve MCP over stdio for an MCP client (its tools call this gateway with your key); see the README, "MCP"')
    .action(async () => {
      const c = loadCliConfig(io.env);
      // The MCP SDK loads only for this command (its own chunk): every other command starts without it.
      const { runMcpServer } = await import('./mcp-command.js');
      await runMcpServer(c.apiUrl, c.apiKey, io);
    });

  const sql = program.command('sql').description('work with SQL locally, without a gateway');
  sql
    .command('classify')
    .description('print how the gateway classifies SQL: one JSON line per statement (or per input line with --input-format jsonl)')
    .addOption(new Option('--dialect <dialect>', 'the SQL dialect').choices(['postgres', 'mysql']).default('postgres'))
    .option('-f, --file <path>', 'read the SQL from a file (default: stdin)')
    .addOption(new Option('--input-format <format>', 'sql: one SQL text; jsonl: one JSON-encoded SQL text per line').choices(['sql', 'jsonl']).default('sql'))
    .option('--allow-function <name>', 'a function to treat as read-only, as a connection allow-list would (repeatable)', collect)
    .action(async (opts: { dialect: 'postgres' | 'mysql'; file?: string; inputFormat: 'sql' | 'jsonl'; allowFunction?: string[] }) => {
      let text: string;
      if (opts.file) {
        try {
          text = readFileSync(opts.file, 'utf8');
        } catch (error) {
          throw new CliError(`Cannot read ${opts.file}: ${(error as Error).message}`, EXIT.usage);
        }
      } else {
        if (io.stdin.isTTY) throw new CliError('Give the SQL with -f FILE or on stdin.', EXIT.usage);
        text = await readAll(io.stdin);
      }
      await classifyLines(text, { dialect: opts.dialect, inputFormat: opts.inputFormat, allowFunctions: opts.allowFunction ?? [] }, (line) => void io.stdout.write(line + '\n')); // JSON lines: jsonText escaped them
    });

  return program;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr.write(`hoop: ${printable(error.message)}\n`);
      return error.exitCode;
    }
    io.stderr.write(`hoop: unexpected error: ${(error as Error).stack ?? error}\n`);
    return EXIT.usage;
  }
}
