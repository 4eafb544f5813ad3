// A line diff of two texts, as a correction shows who changed what: the longest common subsequence
// of their lines, written unified-style (' ' kept, '-' removed, '+' added). Pure: imports nothing.

/** Longest inputs diffed line by line; past this (lines × lines) the whole text is shown replaced. */
const MAX_CELLS = 1_000_000;

/** The lines of `before` and `after`, each prefixed ' ', '-' or '+', joined with newlines. */
export function lineDiff(before: string, after: string): string {
  const a = splitLines(before);
  const b = splitLines(after);
  // Common head and tail first: a correction usually changes a line or two of a longer command.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const out = [...a.slice(0, head).map((l) => ` ${l}`), ...diffMiddle(midA, midB), ...a.slice(a.length - tail).map((l) => ` ${l}`)];
  return out.join('\n');
}

function splitLines(text: string): string[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function diffMiddle(a: string[], b: string[]): string[] {
  if (a.length * b.length > MAX_CELLS) return [...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)];
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push(`-${a[i++]}`);
    else out.push(`+${b[j++]}`);
  }
  while (i < a.length) out.push(`-${a[i++]}`);
  while (j < b.length) out.push(`+${b[j++]}`);
  return out;
}
