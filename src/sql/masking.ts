// Live data masking of results, before they are stored or sent anywhere: by column name and by
// content. The same masked text reaches the API, the CLI, Slack and the stored output.

export type Detector = 'email' | 'phone' | 'credit_card' | 'ssn' | 'iban' | 'ip';
export const DETECTORS: readonly Detector[] = ['email', 'phone', 'credit_card', 'ssn', 'iban', 'ip'];

export interface MaskingRules {
  /** Column names or patterns with `*` (e.g. `email`, `*_ssn`), case-insensitive. */
  columns: readonly string[];
  detectors: readonly Detector[];
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function ibanValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of v) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest === 1;
}

const maskEmail = (m: string) => {
  const [local, domain] = m.split('@');
  return `${local[0]}***@${domain}`;
};
const lastFour = (m: string) => `****${m.replace(/\D/g, '').slice(-4)}`;

/** Replaces every match of `pattern` that `mask` accepts. */
const replacing = (pattern: RegExp, mask: (match: string) => string | null) => (text: string) => text.replace(pattern, (m) => mask(m) ?? m);

// Order matters: longer, more specific shapes first so a card number is not taken for a phone.
const IMPLS: Record<Detector, (text: string) => string> = {
  email: (text) => maskEmails(text),
  iban: replacing(
    /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g,
    (m) => {
      const compact = m.replace(/ /g, '');
      return ibanValid(compact) ? compact.slice(0, 2) + '*'.repeat(compact.length - 6) + compact.slice(-4) : null;
    },
  ),
  credit_card: replacing(/\b\d(?:[ -]?\d){12,18}\b/g, (m) => (luhn(m.replace(/\D/g, '')) ? lastFour(m) : null)),
  ssn: replacing(/\b\d{3}-\d{2}-\d{4}\b/g, (m) => `***-**-${m.slice(-4)}`),
  phone: replacing(/(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,4}\)[ .-]?|\b\d{2,4}[ .-])\d{3,4}[ .-]?\d{3,4}\b|\+\d{8,15}\b/g, (m) => `***-***-${m.replace(/\D/g, '').slice(-4)}`),
  ip: replacing(/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, (m) => (m.split('.').every((o) => Number(o) <= 255) ? `${m.split('.').slice(0, 2).join('.')}.*.*` : null)),
};
const ORDER: Detector[] = ['email', 'iban', 'credit_card', 'ssn', 'phone', 'ip'];

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const DOMAIN_CHAR = /[A-Za-z0-9.-]/;
const LETTER = /[A-Za-z]/;

/**
 * The email detector in linear time. A regular expression like `[...]+@[...]+\.[A-Za-z]{2,}` tries
 * every start position of a long run of letters without an `@` and scans to its end: quadratic, and
 * a 256 KB value held the event loop for half a minute. Here each `@` looks left and right once.
 */
function maskEmails(text: string): string {
  let out = '';
  let done = 0;
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let left = at;
    while (left > done && LOCAL_CHAR.test(text[left - 1])) left--;
    let right = at + 1;
    while (right < text.length && DOMAIN_CHAR.test(text[right])) right++;
    // The domain ends at the last '.' followed by two or more letters (the pattern's \.[A-Za-z]{2,}).
    let end = -1;
    for (let dot = text.lastIndexOf('.', right - 1); dot > at + 1 && end < 0; dot = text.lastIndexOf('.', dot - 1)) {
      let letters = dot + 1;
      while (letters < right && LETTER.test(text[letters])) letters++;
      if (letters - dot - 1 >= 2) end = letters;
    }
    if (left === at || end < 0) continue;
    out += text.slice(done, left) + maskEmail(text.slice(left, end));
    done = end;
    at = end - 1;
  }
  return done === 0 ? text : out + text.slice(done);
}

/** Masks whatever `detectors` find inside `text`; the rest of the text is kept. */
export function maskText(text: string, detectors: readonly Detector[]): string {
  let out = text;
  for (const d of ORDER) {
    if (!detectors.includes(d)) continue;
    out = IMPLS[d](out);
  }
  return out;
}

/** The value of a masked column: its detector mask when one recognises it, else `****`. */
export function maskValue(value: string): string {
  const masked = maskText(value, DETECTORS);
  return masked !== value ? masked : '****';
}

/** A test of a column name (or `relation.column`) against mask patterns with `*`, case-insensitive. */
export function columnMatcher(patterns: readonly string[]): (name: string) => boolean {
  const res = patterns.map((p) => new RegExp('^' + p.trim().split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 'i'));
  return (name) => res.some((re) => re.test(name));
}

/** True when the rules mask anything at all. */
export function hasMasking(rules: MaskingRules): boolean {
  return rules.columns.length > 0 || rules.detectors.length > 0;
}

