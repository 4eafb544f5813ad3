// How the server reads MySQL string literals and quoted names, and how node-sql-parser (which assumes
// the default sql_mode) must see them to read the same thing.
import type { MysqlLexOptions } from './mysql-mode.js';
import type { MysqlToken } from './mysql-tokens.js';

/** Whether a string or name must be re-quoted for node-sql-parser, which assumes the default sql_mode. */
export function needsRewrite(sql: string, t: MysqlToken, options: MysqlLexOptions): boolean {
  if (t.type === 'quoted-identifier') return sql.charCodeAt(t.start) === 34;
  if (t.type !== 'string') return false;
  return sql.charCodeAt(t.start) !== 39 || sql.slice(t.start, t.end).includes('\\') || options.noBackslashEscapes === true;
}

/** A token as node-sql-parser must see it to read what the server reads. */
export function parserToken(t: MysqlToken, text: string, options: MysqlLexOptions): string {
  if (t.type === 'string') {
    const prefix = text[0] === "'" || text[0] === '"' ? '' : text[0];
    const value = stringValue(text, options);
    return `${prefix}'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  }
  if (t.type === 'quoted-identifier' && text[0] === '"') {
    const name = text.endsWith('"') && text.length > 1 ? text.slice(1, -1) : text.slice(1);
    return `\`${name.replace(/""/g, '"').replace(/`/g, '``')}\``;
  }
  if (t.type === 'word' && text === '\\N') return 'NULL';
  return text;
}

/** The value of a string token ('…', "…", N'…') as the server reads it with the given sql_mode flags. */
export function stringValue(text: string, options: MysqlLexOptions = {}): string {
  const prefix = text[0] === "'" || text[0] === '"' ? '' : text[0];
  return unquote(text.slice(prefix.length + 1, -1), text[prefix.length], options.noBackslashEscapes === true);
}

/** A string literal's value as the server reads it (my_unescape). */
function unquote(body: string, quote: string, noBackslashEscapes: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\' && !noBackslashEscapes && i + 1 < body.length) {
      const e = body[++i];
      out.push(e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === 'b' ? '\b' : e === '0' ? '\0' : e === 'Z' ? '\x1a' : e === '%' || e === '_' ? `\\${e}` : e);
    } else if (c === quote && body[i + 1] === quote) {
      out.push(quote);
      i++;
    } else out.push(c);
  }
  return out.join('');
}
