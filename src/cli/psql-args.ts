// Turns the psql command line of the seeds (`-- psql -h HOST -p PORT -U USER DBNAME`) into a URL.
import { CliError, EXIT } from './exit-codes.js';

export interface PsqlTarget {
  host: string;
  port: number;
  user?: string;
  database?: string;
}

const WITH_VALUE: Record<string, keyof PsqlTarget> = {
  '-h': 'host',
  '--host': 'host',
  '-p': 'port',
  '--port': 'port',
  '-U': 'user',
  '--username': 'user',
  '-d': 'database',
  '--dbname': 'database',
};

function usage(message: string): CliError {
  return new CliError(`${message}. Expected: -- psql -h HOST [-p PORT] -U USER [DBNAME] (or a postgres:// URI).`, EXIT.usage);
}

function fromUri(uri: string): PsqlTarget {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw usage(`"${uri}" is not a valid connection URI`);
  }
  if (u.password) throw new CliError('Do not put the password in the URI (it would be echoed and kept in shell history); pass it with --env PGPASSWORD=... or the PGPASSWORD variable.', EXIT.usage);
  return {
    host: decodeURIComponent(u.hostname) || 'localhost',
    port: u.port ? Number(u.port) : 5432,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
  };
}

/** Parses psql's arguments (the words after `--`, starting with `psql`). */
export function parsePsqlArgs(words: readonly string[]): PsqlTarget {
  const args = [...words];
  if (args[0] !== 'psql') throw usage(args.length ? `Only psql connections are supported, not "${args[0]}"` : 'Missing the psql command line after --');
  args.shift();
  const target: Partial<Record<keyof PsqlTarget, string>> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const attached = /^-[hpUd]./.exec(arg) ? arg.slice(2) : undefined; // -hlocalhost, -p5433
    const key = WITH_VALUE[attached !== undefined ? arg.slice(0, 2) : flag];
    if (key) {
      const value = eq > 0 ? arg.slice(eq + 1) : attached ?? args[++i];
      if (value === undefined || value === '') throw usage(`${flag} needs a value`);
      target[key] = value;
    } else if (arg.startsWith('-')) {
      throw usage(`Unknown psql flag ${flag}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length > 2) throw usage(`Unexpected argument "${positional[2]}"`);
  let result: PsqlTarget = { host: 'localhost', port: 5432, database: undefined, user: undefined };
  if (positional[0] && /^postgres(ql)?:\/\//.test(positional[0])) {
    if (positional[1]) throw usage(`Unexpected argument "${positional[1]}"`);
    result = fromUri(positional[0]);
  } else {
    // As psql: words fill DBNAME, then USERNAME, unless a flag already gave them.
    for (const word of positional) {
      if (!target.database && !result.database) result.database = word;
      else if (!target.user && !result.user) result.user = word;
      else throw usage(`Unexpected argument "${word}"`);
    }
  }
  if (target.host) result.host = target.host;
  if (target.user) result.user = target.user;
  if (target.database) result.database = target.database;
  if (target.port) {
    const port = Number(target.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage(`"${target.port}" is not a port number`);
    result.port = port;
  }
  return result;
}

/** The connection URL for `target`, with the password when one is given. */
export function toPostgresUrl(target: PsqlTarget, password?: string): string {
  const user = target.user ? encodeURIComponent(target.user) + (password ? `:${encodeURIComponent(password)}` : '') + '@' : '';
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const db = target.database ? `/${encodeURIComponent(target.database)}` : '';
  return `postgres://${user}${host}:${target.port}${db}`;
}
