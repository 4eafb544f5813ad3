// `hoop admin get keys`, `create key`, `revoke key` and `update user`: users and API keys after
// creation. Admins manage anyone; everyone may list, create and revoke their own keys.
import type { Command } from 'commander';
import type { GatewayClient } from './api-client.js';
import type * as Views from '../contracts/admin-views.js';
import { CliError, EXIT } from './exit-codes.js';
import { list, outputOption } from './options.js';
import { table } from './output.js';

// The fields the CLI prints, of the API's views (src/contracts/admin-views.ts).
type KeyView = Views.KeyView;
type UserView = Pick<Views.UserView, 'email' | 'name' | 'admin' | 'active' | 'groups'>;

export interface IdentityCommandsContext {
  client: () => GatewayClient;
  print: (text: string) => void;
  json: (value: unknown) => void;
}

/** The user part of an API path; emails compare case-insensitively, so any spelling works. */
function userPath(email: string): string {
  // The server folds case (ASCII letters only, so look-alikes stay apart): send it as typed.
  return `/api/users/${encodeURIComponent(email.trim())}`;
}

const when = (iso: string | null) => (iso ? iso.slice(0, 19).replace('T', ' ') : null);

/** Keys as `hoop admin get keys` prints them: the id to revoke by, never the key. */
export function keysTable(keys: KeyView[]): string {
  return table(
    ['id', 'prefix', 'name', 'user', 'created', 'last used', 'revoked', 'bootstrap'],
    keys.map((k) => [k.id, `${k.prefix}…`, k.name, k.user, when(k.createdAt), when(k.lastUsedAt), when(k.revokedAt), k.bootstrap ? 'yes' : 'no']),
  );
}

function describeUser(u: UserView): string {
  return `${u.email}${u.name ? ` (${u.name})` : ''}: groups ${u.groups.join(', ') || 'none'}; admin ${u.admin ? 'yes' : 'no'}; ${u.active ? 'active' : 'deactivated'}`;
}

/** Adds the key and user-update commands under `hoop admin`. */
export function registerIdentityCommands(cmds: { admin: Command; create: Command; get: Command }, { client, print, json }: IdentityCommandsContext): void {
  cmds.get
    .command('keys')
    .description("list API keys: your own, or EMAIL's (admins)")
    .argument('[email]', 'whose keys (default: yours)')
    .addOption(outputOption())
    .action(async (email: string | undefined, opts: { output: string }) => {
      const res = await client().request<{ keys: KeyView[] }>('GET', email ? `${userPath(email)}/keys` : '/api/me/keys');
      if (opts.output === 'json') return json(res.body.keys);
      print(res.body.keys.length ? keysTable(res.body.keys) : 'No API keys.');
    });

  cmds.create
    .command('key')
    .description('create an API key for EMAIL (yourself, or anyone as an admin) and print it once')
    .argument('<email>')
    .option('--name <name>', 'a label to recognise it by, e.g. laptop or ci')
    .addOption(outputOption())
    .action(async (email: string, opts: { name?: string; output: string }) => {
      const res = await client().request<{ key: KeyView; apiKey: string }>('POST', `${userPath(email)}/keys`, opts.name === undefined ? {} : { name: opts.name });
      if (opts.output === 'json') return json(res.body);
      const k = res.body.key;
      print(`API key ${k.id} created for ${k.user}${k.name ? ` (${k.name})` : ''}; revoke it with: hoop admin revoke key ${k.id}`);
      print(`API key (shown once, store it now): ${res.body.apiKey}`);
    });

  cmds.admin
    .command('revoke')
    .description('revoke an API key')
    .command('key')
    .description('revoke an API key at once: requests made with it fail from now on')
    .argument('<id>', 'the key id (hoop admin get keys)')
    .addOption(outputOption())
    .action(async (id: string, opts: { output: string }) => {
      const res = await client().request<{ key: KeyView }>('DELETE', `/api/keys/${encodeURIComponent(id.trim())}`);
      if (opts.output === 'json') return json(res.body.key);
      const k = res.body.key;
      print(`Key ${k.prefix}… (${k.id}) of ${k.user} revoked; it no longer authenticates.`);
    });

  cmds.admin
    .command('update')
    .description('change a user')
    .command('user')
    .description("change a user's groups, admin flag, activation or name (admins)")
    .argument('<email>')
    .option('--groups <groups>', 'replace the groups, comma-separated ("" for none)', list)
    .option('--admin', 'make the user an admin')
    .option('--no-admin', 'take admin away (refused for the last active admin)')
    .option('--deactivate', 'the user can no longer authenticate, decide in Slack or get review messages')
    .option('--activate', 'undo --deactivate (their keys work again)')
    .option('--name <name>', 'display name ("" to clear it)')
    .addOption(outputOption())
    .action(async (email: string, opts: { groups?: string[]; admin?: boolean; deactivate?: boolean; activate?: boolean; name?: string; output: string }) => {
      if (opts.deactivate && opts.activate) throw new CliError('Give --deactivate or --activate, not both.', EXIT.usage);
      const body = { groups: opts.groups, admin: opts.admin, active: opts.deactivate ? false : opts.activate ? true : undefined, name: opts.name };
      if (Object.values(body).every((v) => v === undefined)) {
        throw new CliError('Nothing to change: give --groups, --admin or --no-admin, --deactivate or --activate, or --name.', EXIT.usage);
      }
      const res = await client().request<{ user: UserView }>('PATCH', userPath(email), body);
      if (opts.output === 'json') return json(res.body.user);
      print(`Updated ${describeUser(res.body.user)}.`);
    });
}
