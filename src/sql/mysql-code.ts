// The code tokens of a stretch of MySQL input (comments and executable-comment markers left out, `;`
// kept), with the small questions the readers of statements inside statements ask of them.
import { isTrivia, type MysqlToken } from './mysql-tokens.js';

export class MysqlCode {
  /** Indices into `tokens` of the code tokens of tokens[from, to), found as far as asked for. */
  readonly at: number[] = [];
  private next: number;

  // Lazy: a stored program's body is read from its start to the end of the input, but only as far as
  // its END; indexing every token up front would make an input of many programs quadratic.
  constructor(
    readonly sql: string,
    readonly tokens: MysqlToken[],
    from: number,
    private readonly to: number,
  ) {
    this.next = from;
  }

  /** Whether there is a code token at position `k`. */
  has(k: number): boolean {
    while (this.at.length <= k && this.next < this.to) {
      if (!isTrivia(this.tokens[this.next])) this.at.push(this.next);
      this.next++;
    }
    return k >= 0 && k < this.at.length;
  }

  /** The number of code tokens (indexes them all). */
  get length(): number {
    this.has(Number.MAX_SAFE_INTEGER);
    return this.at.length;
  }

  token(k: number): MysqlToken | undefined {
    return this.has(k) ? this.tokens[this.at[k]] : undefined;
  }

  text(k: number): string {
    const t = this.token(k);
    return t ? this.sql.slice(t.start, t.end) : '';
  }

  /** The word at `k`, upper-cased, or undefined when it is no word (a string, a quoted name, `;`…). */
  word(k: number): string | undefined {
    const t = this.token(k);
    return t?.type === 'word' ? this.sql.slice(t.start, t.end).toUpperCase() : undefined;
  }

  is(k: number, ...words: string[]): boolean {
    const w = this.word(k);
    return w !== undefined && words.includes(w);
  }

  /** Whether the token at `k` is the operator character `op`. */
  op(k: number, op: string): boolean {
    return this.token(k)?.type === 'operator' && this.text(k) === op;
  }

  semicolon(k: number): boolean {
    return this.token(k)?.type === 'semicolon';
  }

  /** A name: a word or a `quoted` identifier, unquoted. */
  name(k: number): string | undefined {
    const t = this.token(k);
    if (t?.type === 'word') return this.text(k);
    if (t?.type === 'quoted-identifier') return this.text(k).slice(1, -1).replace(/``/g, '`').replace(/""/g, '"');
    return undefined;
  }

  /** After a `(` at `k`: the position after its `)` (or the end, or the next `;`, when it is never closed). */
  afterParens(k: number): number {
    let depth = 0;
    for (let j = k; this.has(j); j++) {
      if (this.semicolon(j)) return j;
      if (this.op(j, '(')) depth++;
      else if (this.op(j, ')') && --depth === 0) return j + 1;
    }
    return this.length;
  }

  /**
   * The first position from `k` holding one of `words` outside parentheses and CASE … END, before
   * the statement's `;`; -1 when there is none.
   */
  find(k: number, words: readonly string[]): number {
    let depth = 0;
    let cases = 0;
    for (let j = k; this.has(j); j++) {
      if (this.semicolon(j)) return -1;
      if (this.op(j, '(')) depth++;
      else if (this.op(j, ')')) depth = Math.max(0, depth - 1);
      const w = this.word(j);
      if (w === undefined || depth > 0) continue;
      if (cases === 0 && words.includes(w)) return j;
      if (w === 'CASE') cases++;
      else if (w === 'END' && cases > 0) cases--;
    }
    return -1;
  }

  /** The position of the first `;` from `k` (the server ends a statement at any), or the end. */
  end(k: number): number {
    for (let j = k; this.has(j); j++) if (this.semicolon(j)) return j;
    return this.length;
  }

  /** The token range [from, to) of the code positions [a, b), for building a statement from it. */
  tokenRange(a: number, b: number): [number, number] {
    this.has(b - 1);
    return [this.at[a], this.at[b - 1] + 1];
  }
}
