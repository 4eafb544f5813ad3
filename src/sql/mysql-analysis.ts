// What one MySQL/MariaDB statement is and what it runs: its kind, its command, and the statements it
// carries (`nested`) and SQL it runs that cannot be checked (`unchecked`), so guardrails see through
// `SET STATEMENT … FOR`, `ANALYZE`, `PREPARE`/`EXECUTE`, `EXECUTE IMMEDIATE`, `CREATE OR REPLACE`,
// `REPLACE` and stored-program bodies. Where it cannot tell, it says so and reads the worse case.
import { parseOne, sqlify } from './mysql-statement.js';
import { classifyAst } from './mysql-ast.js';
import { bodyStart, bodyStatements } from './mysql-body.js';
import { carrierOf, CARRIER_FIRST, type Carrier, type SqlSource } from './mysql-carried.js';
import { MysqlCode } from './mysql-code.js';
import { commandFromWords, STATEMENT_WORDS } from './mysql-commands.js';
import { extrasOf } from './mysql-extras.js';
import { found, type Carried, type Found } from './mysql-found.js';
import type { MysqlLexOptions } from './mysql-mode.js';
import { splitMysqlTokens, statementOfTokens, type MysqlStatement } from './mysql-split.js';
import type { MysqlToken } from './mysql-tokens.js';
import { unboundedOfAst, unboundedOfTokens } from './mysql-where.js';
import { strictestKind } from './types.js';

// Statements inside statements inside statements…: beyond this, what runs is not followed (and says so).
const MAX_DEPTH = 8;

type Node = Record<string, any>;
type Parsed = { ok: true; ast: Node; tables: string[]; normalized: string } | { ok: false; error: string };

export interface MysqlContext {
  sql: string;
  tokens: MysqlToken[];
  options: MysqlLexOptions;
  cache: Map<string, Parsed>;
  /** Statements PREPAREd so far, by lower-cased name. */
  prepared: Map<string, Carried>;
  /** User variables set to a string literal so far (`SET @q = '…'`), by lower-cased name. */
  variables: Map<string, string>;
  depth: number;
  /** Bodies of stored programs are read up to this token already (a later program inside one is part of it). */
  covered: { until: number };
  /** Inside a body: a stored program cannot be created there, so no body is read. */
  inBody: boolean;
}

export function createContext(sql: string, tokens: MysqlToken[], options: MysqlLexOptions, cache = new Map<string, Parsed>()): MysqlContext {
  return { sql, tokens, options, cache, prepared: new Map(), variables: new Map(), depth: 0, covered: { until: 0 }, inBody: false };
}

function parse(cache: Map<string, Parsed>, text: string): Parsed {
  const hit = cache.get(text);
  if (hit) return hit;
  const one = parseOne(text);
  let parsed: Parsed;
  try {
    // Entries look like "select::db::table"; keep db.table (or table). sqlify may throw on what it cannot print.
    parsed = 'error' in one ? { ok: false, error: one.error } : { ok: true, ast: one.ast, tables: [...new Set(one.tableList.map((t) => t.split('::').slice(1).filter((p) => p && p !== 'null').join('.')).filter(Boolean))], normalized: sqlify(one.ast) };
  } catch (error) {
    parsed = { ok: false, error: (error as Error).message };
  }
  cache.set(text, parsed);
  return parsed;
}

/** What `s` is and runs; a statement the server may read differently (hazards) is `unknown`. */
export function analyseStatement(ctx: MysqlContext, s: MysqlStatement): Found {
  const found = analyse(ctx, s);
  if (s.hazards.length) {
    found.kind = 'unknown';
    found.reasons.push(...s.hazards.map((h) => h.message));
  }
  return found;
}

function analyse(ctx: MysqlContext, s: MysqlStatement): Found {
  const first = s.lead[0] ?? '';
  if (ctx.depth > MAX_DEPTH) {
    const why = 'it nests statements deeper than the gateway follows';
    return found(commandFromWords(s.lead), s.serverText, { reasons: [why], unchecked: [why] });
  }
  let memo: MysqlCode | undefined;
  const code = () => (memo ??= new MysqlCode(ctx.sql, ctx.tokens, s.from, s.to));
  if (CARRIER_FIRST.has(first)) {
    const c = code();
    const carrier = carrierOf(c, ctx.options);
    if (carrier) return fromCarrier(ctx, s, c, carrier);
  }
  const parsed = parse(ctx.cache, s.parserText);
  let f: Found;
  if (parsed.ok) {
    const { kind, command, reasons } = classifyAst(parsed.ast, s.lead);
    f = found(command, parsed.normalized, { kind, reasons, tables: [...parsed.tables], unbounded: unboundedOfAst(parsed.ast) });
    // node-sql-parser reads `a = 1 || 1` as a = (1 || 1); the server as (a = 1) OR 1, which bounds nothing.
    if (!f.unbounded && (command === 'UPDATE' || command === 'DELETE') && s.serverText.includes('||')) f.unbounded = unboundedOfTokens(code());
  } else {
    // node-sql-parser reads no WITH before an UPDATE or DELETE of every form: look past it.
    const c = first === 'WITH' ? code() : undefined;
    const carrier = c && carrierOf(c, ctx.options);
    if (c && carrier) return fromCarrier(ctx, s, c, carrier);
    const command = commandFromWords(s.lead);
    f = found(command, s.serverText, { reasons: [`could not be parsed: ${parsed.error}`], parseError: parsed.error });
    if (command === 'UPDATE' || command === 'DELETE') f.unbounded = unboundedOfTokens(code());
    const word = command.split(' ')[0];
    if (!STATEMENT_WORDS.has(word)) f.unchecked.push(`${word === 'UNKNOWN' ? 'it' : word} is not a statement the gateway knows, so it cannot tell what it runs`);
  }
  extrasOf(s, f, code, ctx.variables, ctx.options);
  readBody(ctx, s, f);
  return f;
}

const RUNS: Record<string, (command: string) => string> = {
  'SET STATEMENT … FOR': (c) => `SET STATEMENT … FOR runs ${c}, with the settings before FOR`,
  ANALYZE: (c) => `ANALYZE runs ${c} (it does not only plan it) and reports how it ran`,
  'EXPLAIN ANALYZE': (c) => `EXPLAIN ANALYZE runs ${c} (it does not only plan it) and reports how it ran`,
  WITH: (c) => `runs ${c} after its WITH`,
  'EXECUTE IMMEDIATE': (c) => `EXECUTE IMMEDIATE runs the SQL of its string: ${c}`,
};
const HELD = 'a read inside another statement is not run without review: the gateway runs only plain reads at once';

/** The statement `s` as what it carries and runs now (`f`): its command, kind and tables are those of `f`. */
function runs(f: Found, by: string, s: MysqlStatement): Found {
  const reasons = [RUNS[by](f.command), ...(f.kind === 'read' ? [HELD] : []), ...f.reasons];
  return { ...f, kind: f.kind === 'read' ? 'unknown' : f.kind, reasons, normalized: s.serverText };
}

function deeper(ctx: MysqlContext, more: Partial<MysqlContext> = {}): MysqlContext {
  return { ...ctx, depth: ctx.depth + 1, ...more };
}

function fromCarrier(ctx: MysqlContext, s: MysqlStatement, code: MysqlCode, c: Carrier): Found {
  switch (c.type) {
    case 'runs': {
      const inner = statementOfTokens(ctx.sql, ctx.tokens, ...code.tokenRange(c.from, c.to), ctx.options)!;
      return runs(analyse(deeper(ctx), inner), c.by, s);
    }
    case 'explain-connection':
      return found('EXPLAIN', s.serverText, { reasons: ['EXPLAIN FOR CONNECTION shows the plan of what another connection runs; it runs nothing itself'] });
    case 'prepare': {
      const carried = carriedBy(sqlOf(ctx, c.source, `PREPARE ${c.name}`));
      ctx.prepared.set(c.name.toLowerCase(), carried);
      const what = carried.nested.length ? carried.nested.map((n) => n.command).join(', ') : 'SQL';
      return asFound('PREPARE', s, carried, `PREPARE ${c.name} prepares ${what}, which EXECUTE ${c.name} runs`);
    }
    case 'execute': {
      const known = ctx.prepared.get(c.name.toLowerCase());
      if (known) return asFound('EXECUTE', s, known, `EXECUTE ${c.name} runs the statement PREPAREd as ${c.name} above`);
      const why = `EXECUTE ${c.name} runs a statement prepared outside this request`;
      return found('EXECUTE', s.serverText, { reasons: [why], unchecked: [why] });
    }
    case 'execute-immediate': {
      const list = sqlOf(ctx, c.source, 'EXECUTE IMMEDIATE');
      if (list.found.length === 1 && list.unchecked.length === 0) return runs(list.found[0], 'EXECUTE IMMEDIATE', s);
      return asFound('EXECUTE IMMEDIATE', s, carriedBy(list), 'EXECUTE IMMEDIATE runs the SQL of its argument');
    }
    case 'deallocate':
      ctx.prepared.delete(c.name.toLowerCase());
      return found('DEALLOCATE PREPARE', s.serverText, { kind: 'session' });
    case 'unreadable':
      return found(c.command, s.serverText, { reasons: [c.why], unchecked: [c.why], parseError: c.why });
  }
}

function asFound(command: string, s: MysqlStatement, c: Carried, reason: string): Found {
  const { kind, tables, nested, unchecked, parseError } = c;
  return found(command, s.serverText, { kind: kind === 'read' ? 'unknown' : kind, tables, nested, unchecked, parseError, reasons: [reason, ...(kind === 'read' ? [HELD] : [])] });
}

/** The statements of SQL given as a string: read when it is a literal, unchecked otherwise. */
function sqlOf(ctx: MysqlContext, source: SqlSource, what: string): { found: Found[]; unchecked: string[] } {
  if ('expression' in source) {
    const shown = source.expression.length > 80 ? `${source.expression.slice(0, 80)}…` : source.expression;
    return { found: [], unchecked: [`${what} runs SQL built at run time (${shown})`] };
  }
  if ('variable' in source) {
    // The variable may have changed since (SELECT … INTO, a function): a literal set above is shown, never trusted.
    const known = ctx.variables.get(source.variable);
    return { found: known === undefined ? [] : analyseText(ctx, known), unchecked: [`${what} runs the SQL held in @${source.variable}, which the gateway cannot check`] };
  }
  return { found: analyseText(ctx, source.literal), unchecked: [] };
}

/** Every statement of `text`, SQL the server reads on its own (a prepared statement's string). */
function analyseText(ctx: MysqlContext, text: string): Found[] {
  const { tokens, statements } = splitMysqlTokens(text, ctx.options);
  const inner = { ...createContext(text, tokens, ctx.options, ctx.cache), depth: ctx.depth + 1 };
  return statements.map((s) => analyseStatement(inner, s));
}

/** What a list of statements runs, as statements carried by another one. */
function carriedBy(list: { found: Found[]; unchecked: string[] }): Carried {
  const { found: all } = list;
  const unchecked = [...list.unchecked, ...all.flatMap((f) => f.unchecked)];
  return {
    // What cannot be checked could be anything.
    kind: all.length && !unchecked.length ? strictestKind(all) : 'unknown',
    tables: [...new Set(all.flatMap((f) => f.tables))],
    // A SELECT is a command no guardrail denies; what it carries still counts.
    nested: all.flatMap((f) => [...(f.command === 'SELECT' ? [] : [{ command: f.command, unboundedWrite: f.unbounded !== null }]), ...f.nested]),
    unchecked,
    parseError: all.find((f) => f.parseError)?.parseError,
  };
}

const PROGRAM_FIRST = new Set(['CREATE', 'ALTER', 'BEGIN', 'IF', 'CASE', 'LOOP', 'REPEAT', 'WHILE', 'FOR']);
// Words that start a part of a compound statement cut at a `;` (`ELSE DROP TABLE t`).
const CONTROL = new Set(['BEGIN', 'IF', 'ELSEIF', 'ELSE', 'CASE', 'WHEN', 'THEN', 'LOOP', 'REPEAT', 'UNTIL', 'WHILE', 'FOR', 'DO', 'DECLARE', 'END']);

/** The statements of a stored program or compound statement `s` starts, as carried by it. */
function readBody(ctx: MysqlContext, s: MysqlStatement, f: Found): void {
  if (ctx.inBody) return;
  const first = s.lead[0];
  const label = s.lead[1] === ':' && s.lead[2] !== '=';
  let code: MysqlCode;
  let start = 0;
  let where = 'this part of a compound statement';
  let whole = false;
  if ((PROGRAM_FIRST.has(first) || label) && s.from >= ctx.covered.until) {
    code = new MysqlCode(ctx.sql, ctx.tokens, s.from, ctx.tokens.length);
    const at = bodyStart(code, f.command);
    if (!at) return;
    if ('unchecked' in at) {
      f.unchecked.push(at.unchecked);
      return;
    }
    ({ start, where } = at);
  } else if (CONTROL.has(first) || label) {
    // What follows the control words runs too, whether or not the body read above accounted for it.
    code = new MysqlCode(ctx.sql, ctx.tokens, s.from, s.to);
    whole = true;
  } else return;
  const body = bodyStatements(code, start, whole);
  if (!whole) ctx.covered.until = code.has(body.end) ? code.at[body.end] : ctx.tokens.length;
  // A stored program runs later, in a session of its own: it sees none of this input's PREPAREs.
  const stored = s.lead[0] === 'CREATE' || s.lead[0] === 'ALTER';
  const inner = deeper(ctx, { inBody: true, ...(stored ? { prepared: new Map(), variables: new Map() } : {}) });
  const all = body.statements.map(([a, b]) => analyseStatement(inner, statementOfTokens(ctx.sql, ctx.tokens, ...code.tokenRange(a, b), ctx.options)!));
  const carried = carriedBy({ found: all, unchecked: body.unreadable.map((u) => `${where} could not be read (${u})`) });
  f.nested.push(...carried.nested);
  f.unchecked.push(...carried.unchecked);
  const commands = [...new Set(carried.nested.map((n) => n.command))];
  if (commands.length) f.reasons.push(`${where} runs ${commands.slice(0, 8).join(', ')}${commands.length > 8 ? ', …' : ''}`);
}
