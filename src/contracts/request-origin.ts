// Where a request came from (issue 13): the client's address, its User-Agent and, for an agent
// acting through MCP, the MCP client's own name and version. Every field is what a client said of
// itself (an X-Forwarded-For behind TRUST_PROXY, a header): a label to show, never who acted, and
// text an attacker chose. Each renderer escapes it for its surface (Slack mrkdwn, Adaptive Card
// markdown, HTML, a terminal); this file only composes the words around it.

/** Where a request came from, as stored on it; null for requests made before this was recorded. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
  /** The MCP client an agent acted through, as it names itself. */
  client: { name: string; version: string } | null;
}

/** Longest of each field kept: an address (an IPv6 with a zone fits), a User-Agent, an MCP client's name or version. */
export const ORIGIN_LIMITS = { ip: 100, userAgent: 512, clientPart: 100 } as const;

const cut = (v: string | null | undefined, max: number): string | null => (v ? [...v].slice(0, max).join('') : null);

/**
 * The origin to store on a new request, from the context it came in with: each field cut to its
 * limit (a label does not need 8 kB); null when nothing is known (the gateway's own actions).
 */
export function originOf(from: { ip?: string | null; userAgent?: string | null; client?: { name: string; version: string } | null }): RequestOrigin | null {
  const ip = cut(from.ip, ORIGIN_LIMITS.ip);
  const userAgent = cut(from.userAgent, ORIGIN_LIMITS.userAgent);
  const client = from.client?.name ? { name: cut(from.client.name, ORIGIN_LIMITS.clientPart)!, version: cut(from.client.version, ORIGIN_LIMITS.clientPart) ?? '' } : null;
  return ip || userAgent || client ? { ip, userAgent, client } : null;
}

/** A stored origin (JSON) read back defensively: anything not a string where a string belongs is dropped. */
export function originFromJson(json: unknown): RequestOrigin | null {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return null;
  const o = json as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const c = o.client && typeof o.client === 'object' ? (o.client as Record<string, unknown>) : null;
  const client = c && typeof c.name === 'string' ? { name: c.name, version: str(c.version) ?? '' } : null;
  return { ip: str(o.ip), userAgent: str(o.userAgent), client };
}

/** What a request says of who made it: enough to name an agent, its owner and its origin. */
export interface RequesterFacts {
  requester: string;
  requesterKind: 'person' | 'agent';
  requesterOwner: string | null;
  origin: RequestOrigin | null;
}

/** A piece of a requester line: our own words, or a value someone else chose (to be escaped). */
export type LinePart = { text: string } | { value: string; max: number };

const AGENT_SUFFIX = '@agents.invalid';

/** The agent's name, from the email it is stored under. */
export function agentName(requester: string): string {
  return requester.endsWith(AGENT_SUFFIX) ? requester.slice(0, -AGENT_SUFFIX.length) : requester;
}

/**
 * "Agent ci-bot (owner alice@example.com) via claude-desktop 1.2.0 from 203.0.113.7" for an agent,
 * "alice@example.com from 203.0.113.7" for a person; as parts, so that each surface escapes the
 * values its own way and our words stay ours.
 */
export function requesterLine(r: RequesterFacts): LinePart[] {
  const o = r.origin;
  const parts: LinePart[] = [];
  if (r.requesterKind === 'agent') {
    parts.push({ text: 'Agent ' }, { value: agentName(r.requester), max: 100 }, { text: ' (owner ' }, { value: r.requesterOwner ?? 'unknown', max: 200 }, { text: ')' });
  } else {
    parts.push({ value: r.requester, max: 200 });
  }
  if (o?.client) {
    parts.push({ text: ' via ' }, { value: o.client.name, max: ORIGIN_LIMITS.clientPart });
    if (o.client.version) parts.push({ text: ' ' }, { value: o.client.version, max: ORIGIN_LIMITS.clientPart });
  }
  if (o?.ip) parts.push({ text: ' from ' }, { value: o.ip, max: ORIGIN_LIMITS.ip });
  return parts;
}

/** The line as plain text, each value cut to its maximum with "…" (a terminal or a log line escapes it further). */
export function requesterLineText(r: RequesterFacts, escape: (value: string, max: number) => string = (v, max) => (v.length > max ? `${v.slice(0, max - 1)}…` : v)): string {
  return requesterLine(r)
    .map((p) => ('text' in p ? p.text : escape(p.value, p.max)))
    .join('');
}
