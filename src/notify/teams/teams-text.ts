// Text for Adaptive Card TextBlocks, which Teams reads as a subset of Markdown (bold, italic, lists,
// links) and scans for {{DATE()}}/{{TIME()}} functions. Whatever a requester typed must show as
// typed: a `**` in a command must not turn bold (and lose its asterisks), `[x](http://evil)` must
// not become a link next to our Approve button, a line "- 1" must not become a bullet.
//
// Backslash escapes alone are not enough: Teams on Android and (before 2024) iOS shows the
// backslash and some renderers ignore it (microsoft/AdaptiveCards#5758, msteams-docs#5793). So the
// constructs that matter most are also broken with a zero-width space, which no renderer needs to
// understand: `](`, `**`, `__`, `://`, `www.`, `{{`. A renderer that ignores escapes then shows a
// stray backslash at worst, never a link or a hidden character.

const ZWSP = '\u200b';

/** Characters escaped with a backslash (CommonMark escapes any ASCII punctuation). */
const ESCAPED = new Set(['\\', '*', '_', '[', ']', '<', '>', '`', '~', '|']);

/** Direction overrides and isolates ("Trojan Source"): shown by name so a command reads as it runs. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const IS_BIDI = /^[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]$/;
/** A half of a surrogate pair without its other half: not text, and JSON spells it in 6 bytes. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Control characters but tab and newline. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** `text` as plain text for a TextBlock: no Markdown, link, list, date function or hidden direction change survives. */
export function plainText(text: string): string {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .replace(CONTROL, '\ufffd')
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(BIDI, (c) => `⟦U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟧`)
    .split('\n');
  const out = lines.map((line) => {
    let s = '';
    for (const ch of line) s += ESCAPED.has(ch) ? `\\${ch}` : ch;
    // A line that would start a list, a heading or a numbered item: escape its marker.
    s = s.replace(/^(\s*)([-+#])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
    return s
      .replaceAll('\\*\\*', `\\*${ZWSP}\\*`)
      .replaceAll('\\_\\_', `\\_${ZWSP}\\_`)
      .replaceAll('\\*\\*', `\\*${ZWSP}\\*`) // a run of three or more: the second pass catches the overlaps
      .replaceAll('\\_\\_', `\\_${ZWSP}\\_`)
      .replaceAll('\\](', `\\]${ZWSP}(`)
      .replace(/:\/\//g, `:${ZWSP}//`)
      .replace(/www\./gi, (m) => `${m.slice(0, 3)}${ZWSP}.`)
      .replaceAll('{{', `{${ZWSP}{`)
      .replaceAll('{{', `{${ZWSP}{`);
  });
  // Teams joins lines of a TextBlock separated by one newline; two keep them apart.
  return out.join('\n\n');
}

/** Bytes a character takes in the JSON of a card, once made plain (an upper bound). */
function cost(ch: string): number {
  const code = ch.codePointAt(0)!;
  if (ch === '\n') return 5; // "\n\n" and an escaped list marker on the next line
  if (code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)) return 3; // becomes U+FFFD
  if (ESCAPED.has(ch)) return 2 * 2 + 3; // "\\*" in JSON is 4 bytes (the backslash itself escaped), and a ZWSP
  if (ch === ']' || ch === ':' || ch === '{' || ch === '.') return 1 + 3 + 2;
  if (ch === '"') return 2;
  if (IS_BIDI.test(ch)) return 14;
  return Buffer.byteLength(ch, 'utf8') + 2; // +2: a line-start marker's escape, spread over the line
}

/** The longest head of `text` whose plain form fits in `maxBytes` of card JSON; never splits a surrogate pair. */
function headWithin(text: string, maxBytes: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    used += cost(ch);
    if (used > maxBytes) break;
    end += ch.length;
  }
  return text.slice(0, end);
}

export interface Cut {
  /** The plain text to show. */
  text: string;
  /** Characters of the original shown, and in all (equal when nothing was cut). */
  shown: number;
  total: number;
}

/** `text` made plain and cut to `maxBytes` of card JSON. */
export function cutPlain(text: string, maxBytes: number): Cut {
  const head = headWithin(text, maxBytes);
  return { text: plainText(head), shown: head.length, total: text.length };
}

/** Bytes of `value` as JSON (what Teams counts against its message limit). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}
