// A small SQL tokenizer for showing a command highlighted: keywords, strings, comments, numbers and
// quoted names get a class, everything else is plain text. Display only (the gateway classifies with
// PostgreSQL's own parser): it never drops or changes a character, so the tokens joined are the input.

export type SqlTokenKind = 'keyword' | 'string' | 'comment' | 'number' | 'identifier' | 'text';

export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'select from where and or not in is null like ilike between exists insert into values update set delete ' +
    'create alter drop truncate table view index sequence schema database function procedure trigger ' +
    'grant revoke to on as join inner left right full outer cross natural using group by order having limit offset ' +
    'union all distinct intersect except case when then else end with recursive returning begin commit rollback ' +
    'savepoint release start transaction read only write do declare execute call copy explain analyze vacuum ' +
    'primary key foreign references constraint unique default check cascade restrict if replace asc desc nulls ' +
    'first last true false lateral window over partition rows range for share nowait skip locked lock merge ' +
    'matched role user show use rename add column owner language returns'
  ).split(' '),
);

// One alternative per kind of token, tried in order at each position; `y` makes each match anchored.
const PATTERNS: [SqlTokenKind, RegExp][] = [
  ['comment', /--[^\n]*/y],
  ['comment', /\/\*[\s\S]*?(?:\*\/|$)/y],
  ['string', /[Ee]'(?:[^'\\]|\\[\s\S]|'')*(?:'|$)/y],
  ['string', /'(?:[^']|'')*(?:'|$)/y],
  ['string', /\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?(?:\$\1\$|$)/y],
  ['identifier', /"(?:[^"]|"")*(?:"|$)/y],
  ['identifier', /`(?:[^`]|``)*(?:`|$)/y],
  ['number', /\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/y],
  ['text', /[A-Za-z_][A-Za-z0-9_$]*/y],
];

/** The tokens of `sql`; their texts joined are exactly `sql`. */
export function tokenizeSql(sql: string): SqlToken[] {
  const out: SqlToken[] = [];
  const push = (kind: SqlTokenKind, text: string) => {
    const last = out[out.length - 1];
    if (last && last.kind === kind && kind === 'text') last.text += text;
    else out.push({ kind, text });
  };
  let i = 0;
  while (i < sql.length) {
    let matched = false;
    for (const [kind, re] of PATTERNS) {
      re.lastIndex = i;
      const m = re.exec(sql);
      if (!m || m[0].length === 0) continue;
      const text = m[0];
      push(kind === 'text' && KEYWORDS.has(text.toLowerCase()) ? 'keyword' : kind, text);
      i += text.length;
      matched = true;
      break;
    }
    if (!matched) {
      push('text', sql[i]);
      i += 1;
    }
  }
  return out;
}
