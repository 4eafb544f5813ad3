// Before/after of a configuration change for the audit trail, with secrets redacted. The change is
// found on the raw values and redacted afterwards, so a new password alone still shows as a change
// of the URL (both sides read `postgres://app:***@db/app`) without either password being kept.
// Pure: node's hash only.
import { createHash } from 'node:crypto';

/** What a secret is replaced with. */
export const REDACTED = '***';

/** Turns a field's value into what the audit trail may keep. */
export type Redactor = (value: unknown) => unknown;

/**
 * Query and key=value parameters of a database URL known to carry no secret; every other value is
 * redacted (a driver may take anything there: MySQL's `ssl={"key": "-----BEGIN PRIVATE KEY…"}`).
 */
const SAFE_PARAM = /^(host|hostaddr|port|dbname|user|sslmode|ssl-mode|application_name|connect_timeout|target_session_attrs|schema|charset|timezone|sslrootcert|sslcert|keepalives(_idle|_interval|_count)?)$/i;
const secretParam = (name: string) => !SAFE_PARAM.test(name);

/** A libpq key=value connection string (`host=db password=x dbname=app`), not a URL; values quoted or with backslash escapes. */
const DSN_PAIR = /([A-Za-z_][A-Za-z0-9_]*)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)*)/g;

function redactUserinfoAndQuery(raw: string, secretParam: (name: string) => boolean): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if (u.password) u.password = REDACTED;
  const hidden = [...u.searchParams.keys()].filter(secretParam);
  for (const name of hidden) u.searchParams.set(name, REDACTED);
  // URL escapes the marker in userinfo and queries (%2A); people read the trail, so it is spelled out.
  return u.toString().replaceAll('%2A%2A%2A', REDACTED).replaceAll('%2a%2a%2a', REDACTED);
}

/**
 * A database connection string that keeps host, port, database and user but not the password:
 * in the userinfo (`postgres://app:PW@db/app`), in the query (`?password=PW`, `?sslpassword=`), or
 * as a libpq key=value string (`host=db password=PW`). Anything it cannot read is withheld whole.
 */
export function redactDatabaseUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactUserinfoAndQuery(value, secretParam) ?? REDACTED;
  if (DSN_PAIR.test(value)) {
    DSN_PAIR.lastIndex = 0;
    return value.replace(DSN_PAIR, (pair, key: string) => (secretParam(key) ? `${key}=${REDACTED}` : pair));
  }
  return REDACTED;
}

/**
 * A URL that is itself a credential (a Teams Workflows or Office 365 connector URL, a webhook
 * receiver's): its path may hold the secret (`…/IncomingWebhook/<secret>/…`, `/services/T/B/X`) as
 * well as its query (`sig=`). Scheme and host stay, with the first 8 hex digits of the whole URL's
 * SHA-256, so a change shows and the same URL reads the same, without anything usable.
 */
export function redactAccessUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return REDACTED;
  }
  return `${u.protocol}//${u.host}/${REDACTED} (sha256 ${createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 8)})`;
}

/** A value that is a secret whole (a signing secret, a token): only whether it is set is kept. */
export function redactWhole(value: unknown): unknown {
  return value === null || value === undefined ? value : REDACTED;
}

/** Values compare as JSON: two lists with the same items in the same order are equal. */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** `fields` of `obj` with each redactor applied; fields without one are kept as they are. */
export function redactFields(obj: Record<string, unknown>, redactors: Readonly<Record<string, Redactor>> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, redactors[k] ? redactors[k](v) : v]));
}

/** The fields whose values differ between `before` and `after` (a field missing on one side is null there), in `after`'s order then `before`'s. */
export function changedFields(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): string[] {
  const keys = [...new Set([...Object.keys(after), ...Object.keys(before)])];
  return keys.filter((k) => !same(before[k], after[k]));
}

/** The audit detail of a configuration change: `{ before, after }` of the fields that changed, secrets redacted. */
export function configChange(
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
  redactors: Readonly<Record<string, Redactor>> = {},
): { before: Record<string, unknown>; after: Record<string, unknown> } {
  const changed = changedFields(before, after);
  const pick = (side: Readonly<Record<string, unknown>>) => redactFields(Object.fromEntries(changed.map((k) => [k, side[k] ?? null])), redactors);
  return { before: pick(before), after: pick(after) };
}
