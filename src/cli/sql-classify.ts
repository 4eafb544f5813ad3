// `hoop sql classify`: the gateway's own classifier, locally, on a file or stdin.
import { strictestKind, type Classification, type Dialect } from '../sql/types.js';
import { CliError, EXIT } from './exit-codes.js';
import { jsonText } from './output.js';

export interface ClassifyCliOptions {
  dialect: Dialect;
  inputFormat: 'sql' | 'jsonl';
  allowFunctions: string[];
}

// The parsers (megabytes of JavaScript and WebAssembly) load only for this command: every other
// command of the CLI starts without them.
async function classifier(opts: ClassifyCliOptions): Promise<(sql: string) => Classification> {
  if (opts.dialect === 'mysql') return (await import('../sql/classify-mysql.js')).classifyMysql;
  const { classifyPostgres, loadPostgresParser } = await import('../sql/classify-postgres.js');
  await loadPostgresParser();
  return (sql) => classifyPostgres(sql, { allowFunctions: opts.allowFunctions });
}

const statementJson = (s: Classification['statements'][number]) => ({ index: s.index, kind: s.kind, statement: s.statement, tables: s.tables, warnings: s.warnings });

/** One JSON line per statement (sql), or per input line (jsonl: one JSON-encoded SQL text a line). */
export async function classifyLines(text: string, opts: ClassifyCliOptions, write: (line: string) => void): Promise<void> {
  const classify = await classifier(opts);
  if (opts.inputFormat === 'sql') {
    for (const s of classify(text).statements) write(jsonText(statementJson(s)));
    return;
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    let sql: unknown;
    try {
      sql = JSON.parse(lines[i]);
    } catch {
      throw new CliError(`line ${i + 1}: not a JSON string; with --input-format jsonl each line is one JSON-encoded SQL text, e.g. "SELECT 1".`, EXIT.usage);
    }
    if (typeof sql !== 'string') throw new CliError(`line ${i + 1}: expected a JSON string, got ${typeof sql}.`, EXIT.usage);
    const c = classify(sql);
    write(jsonText({ line: i + 1, kind: c.parsed ? strictestKind(c.statements) : 'unknown', statements: c.statements.map(statementJson) }));
  }
}
