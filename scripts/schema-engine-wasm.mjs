#!/usr/bin/env node
// A stand-in for Prisma's native `schema-engine` binary, for machines that cannot download it.
// The Prisma CLI spawns this file (PRISMA_SCHEMA_ENGINE_BINARY, set in prisma.config.ts) and
// talks to it exactly as to the native engine: JSON-RPC, one object per line on stdin/stdout,
// logs as JSON lines on stderr. Each method is delegated to Prisma's own wasm schema engine
// (@prisma/schema-engine-wasm) running over @prisma/adapter-pg, with four gaps of that adapter
// bridged below. Migrations applied this way are recorded in `_prisma_migrations` exactly as the
// native engine records them.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';

const ENGINE_VERSION = '0edf323efd1d98336f3f0a68684b56f689b900d3';
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;

function log(level, message, fields = {}) {
  process.stderr.write(
    JSON.stringify({ timestamp: new Date().toISOString(), level, target: 'schema_engine::logger', fields: { message, ...fields } }) + '\n',
  );
}

function parseArgs(argv) {
  const args = { datamodels: [], datasource: null, cli: null, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--version' || arg === '-V') args.version = true;
    else if (arg === '--datamodels') args.datamodels.push(argv[++i]);
    else if (arg === '--datasource') args.datasource = JSON.parse(argv[++i]);
    else if (arg === 'cli') args.cli = argv[++i];
    else if (arg === '--enabled-preview-features' || arg === '--extension-types') i++;
  }
  return args;
}

function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

function databaseOf(url) {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, '')) || 'postgres';
}

// Gap 1: the engine's catalog queries return Postgres's internal "char" type (e.g.
// pg_constraint.contype), which adapter-pg refuses. Its text form is one letter: let the adapter
// read it as text, then hand it to the engine as the Character column the engine asks for (it
// panics on a Text column there).
const CHARACTER = ColumnTypeEnum.Character;
function relabelCharColumns(queryable) {
  const charColumns = new WeakMap();
  const performIO = queryable.performIO.bind(queryable);
  queryable.performIO = async (query) => {
    const result = await performIO(query);
    const indexes = [];
    (result?.fields ?? []).forEach((field, i) => {
      if (field.dataTypeID !== PG_CHAR_OID) return;
      field.dataTypeID = PG_TEXT_OID;
      indexes.push(i);
    });
    if (indexes.length && query && typeof query === 'object') charColumns.set(query, indexes);
    return result;
  };
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => {
    const result = await queryRaw(query);
    for (const i of charColumns.get(query) ?? []) result.columnTypes[i] = CHARACTER;
    return result;
  };
  return queryable;
}

function patchAdapter(adapter) {
  relabelCharColumns(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (...args) => relabelCharColumns(await startTransaction(...args));
  // Gap 2: adapter-pg splits scripts on every ';', which breaks $$-quoted bodies. The native
  // engine sends a migration as one simple-protocol query; so do we.
  adapter.executeScript = async (script) => {
    try {
      await adapter.client.query(script);
    } catch (error) {
      adapter.onError(error);
    }
  };
  return adapter;
}

// Runs `fn` on a client of the main database, or of `postgres` when the main one does not exist
// yet (`migrate diff` needs only a shadow database).
async function withAdminClient(url, fn) {
  let client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    if (error.code !== '3D000') throw error;
    client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
    await client.connect();
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function createFactory(url) {
  const base = new PrismaPg({ connectionString: url });
  return {
    provider: base.provider,
    adapterName: base.adapterName,
    async connect() {
      return patchAdapter(await base.connect());
    },
    // Gap 3: adapter-pg's own shadow database connects to the main database when configured
    // with a connection string, so create, connect to and drop the shadow database here.
    async connectToShadowDb() {
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      await withAdminClient(url, (client) => client.query(`CREATE DATABASE "${name}"`));
      const shadow = patchAdapter(await new PrismaPg({ connectionString: withDatabase(url, name) }).connect());
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose();
        await withAdminClient(url, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
      };
      return shadow;
    },
  };
}

// The wasm engine reports a Rust panic's message here before it traps; without the registry the
// report itself throws, and the CLI sees a dead engine with no message.
let panicMessage = null;
globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  set_message(message) {
    panicMessage = String(message);
  },
};

async function loadEngine(args) {
  // The package targets bundlers (it imports the .wasm file as a module); instantiate it by hand.
  const runtime = await import('@prisma/schema-engine-wasm/schema_engine_bg');
  const wasmPath = fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg')).replace(/\.js$/, '.wasm');
  const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), { './schema_engine_bg.js': runtime });
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  const { SchemaEngine } = runtime;
  const datamodels = args.datamodels.map((file) => [file, readFileSync(file, 'utf8')]);
  const url = args.datasource?.url ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const factory = bindMigrationAwareSqlAdapterFactory(createFactory(url));
  return SchemaEngine.new({ datamodels: datamodels.length ? datamodels : undefined }, () => {}, factory);
}

// `cli create-database` / `cli can-connect-to-database`, used by `migrate dev|deploy` before the
// JSON-RPC session to create a missing database.
async function runCliCommand(command, datasource) {
  const url = datasource?.url;
  if (!url) throw Object.assign(new Error('No datasource URL was given.'), { code: 'P1012' });
  const database = databaseOf(url);
  if (command === 'can-connect-to-database') {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
    } catch (error) {
      if (error.code === '3D000') {
        throw Object.assign(new Error(`Database \`${database}\` does not exist on the database server.`), { code: 'P1003' });
      }
      throw Object.assign(new Error(`Can't reach database server: ${error.message}`), { code: 'P1001' });
    } finally {
      await client.end().catch(() => {});
    }
    process.stdout.write('Connection successful\n');
    return;
  }
  if (command === 'create-database') {
    const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } catch (error) {
      // Replicas started at once race to create a missing database: the loser gets 42P04, or
      // 23505 when both passed the existence check before either committed (pg_database's
      // unique index). Either way the database is there, which is all the caller asked for.
      if (error.code !== '42P04' && error.code !== '23505') throw error;
    } finally {
      await client.end();
    }
    process.stdout.write(`Database '${database}' was successfully created.\n`);
    return;
  }
  throw Object.assign(new Error(`Unknown cli command: ${command}`), { code: 'P1012' });
}

function createRpc() {
  let nextOwnId = 1_000_000;
  const pendingOwn = new Map();
  const send = (message) => process.stdout.write(JSON.stringify({ jsonrpc: '2.0', ...message }) + '\n');
  return {
    send,
    // The CLI answers `print` requests after writing their content to its stdout.
    print(content) {
      const id = nextOwnId++;
      return new Promise((resolve) => {
        pendingOwn.set(id, resolve);
        send({ id, method: 'print', params: { content } });
      });
    },
    takeResponse(message) {
      const resolve = pendingOwn.get(message.id);
      if (!resolve) return false;
      pendingOwn.delete(message.id);
      resolve(message.result);
      return true;
    },
  };
}

const RENAMED = { getDatabaseVersion: 'version' };
// Gap 4: after migrations have been applied in this session, these fail with "PostgreSQL shadow
// DB must be provided through an external factory" unless devDiagnostic has run again.
const NEEDS_DIAGNOSTIC = new Set(['evaluateDataLoss', 'createMigration']);

async function callEngine(engine, rpc, method, params) {
  if (method === 'diff') {
    const result = await engine.diff(params);
    if (result.stdout) await rpc.print(result.stdout.replace(/\n$/, ''));
    return { exitCode: result.exitCode };
  }
  if (method === 'createDatabase') {
    await runCliCommand('create-database', params?.datasource?.tag === 'ConnectionString' ? { url: params.datasource.url } : null);
    return { databaseName: '' };
  }
  if (NEEDS_DIAGNOSTIC.has(method) && params?.migrationsList) {
    await engine.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters ?? { externalTables: [], externalEnums: [] } });
  }
  const name = RENAMED[method] ?? method;
  if (typeof engine[name] !== 'function') {
    throw Object.assign(new Error(`The wasm schema engine has no method ${method}.`), { rpcCode: -32601 });
  }
  const result = await engine[name](params ?? undefined);
  return result === undefined ? {} : result;
}

function errorPayload(error) {
  if (panicMessage !== null) {
    const message = `The schema engine panicked: ${panicMessage}`;
    panicMessage = null;
    return { code: 4466, message: 'An error happened. Check the data field for details.', data: { is_panic: true, message, meta: null, error_code: null } };
  }
  const message = error?.message ?? String(error);
  const code = error?.code && /^P\d{4}$/.test(error.code) ? error.code : error?.error_code;
  return {
    code: error?.rpcCode ?? 4466,
    message: 'An error happened. Check the data field for details.',
    data: { is_panic: false, message, meta: error?.meta ?? null, error_code: code ?? null },
  };
}

async function serve(args) {
  const rpc = createRpc();
  // A wasm trap (a Rust panic) can surface outside the awaited call, as an uncaught exception.
  // Answer the request in flight with it, so the CLI fails with a message instead of reading a
  // dead engine as success, then exit as the native engine does after a panic.
  let current = null;
  process.on('uncaughtException', (error) => {
    log('ERROR', panicMessage ?? error?.message ?? String(error));
    if (current !== null) rpc.send({ id: current, error: errorPayload(error) });
    process.exitCode = 1;
    setImmediate(() => process.exit(1));
  });
  let enginePromise;
  const engine = () => (enginePromise ??= loadEngine(args));
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      log('ERROR', `Could not parse request: ${line.slice(0, 200)}`);
      return;
    }
    if (message.method === undefined && rpc.takeResponse(message)) return;
    // The native engine handles one request at a time; keep that order.
    queue = queue.then(async () => {
      current = message.id;
      try {
        const result = await callEngine(await engine(), rpc, message.method, message.params);
        rpc.send({ id: message.id, result });
      } catch (error) {
        log('ERROR', panicMessage ?? error?.message ?? String(error));
        rpc.send({ id: message.id, error: errorPayload(error) });
      }
      current = null;
    });
  });
  lines.on('close', () => {
    queue.then(() => process.exit(0));
  });
}

const args = parseArgs(process.argv.slice(2));
if (args.version) {
  process.stdout.write(`schema-engine-cli ${ENGINE_VERSION}\n`);
} else if (args.cli) {
  // The CLI skips the first stderr line of a `cli` sub-command, as the native engine logs one.
  log('INFO', `Running ${args.cli} with the wasm schema engine`);
  runCliCommand(args.cli, args.datasource).then(
    () => process.exit(0),
    (error) => {
      log('ERROR', error.message, { error_code: error.code ?? 'P1000' });
      process.exit(1);
    },
  );
} else {
  serve(args);
}
