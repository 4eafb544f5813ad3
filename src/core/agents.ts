// Agents (issue 13): non-human identities stored as users of kind 'agent'. They are keyed like
// people by the unique email column, as '<name>@agents.invalid': '.invalid' is reserved (RFC 2606)
// and never routable, so no mail reaches anyone and no person's address can collide with it.
// Pure: imports nothing.

export const AGENT_EMAIL_DOMAIN = 'agents.invalid';

/** What an agent's name may be: letters, digits, '-' and '_' (it becomes the local part of its email). */
export const AGENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** The email an agent named `name` is stored under (lower-case, as every email). */
export function agentEmail(name: string): string {
  return `${name.toLowerCase()}@${AGENT_EMAIL_DOMAIN}`;
}

/** The name of the agent stored under `email`. */
export function agentNameOf(email: string): string {
  return email.endsWith(`@${AGENT_EMAIL_DOMAIN}`) ? email.slice(0, -AGENT_EMAIL_DOMAIN.length - 1) : email;
}

/** What an agent's request says of it in the audit trail: the agent and the person answerable for it. */
export function agentDetail(user: { kind: 'person' | 'agent'; email: string; owner: string | null }): { agent: { name: string; owner: string | null } } | Record<string, never> {
  return user.kind === 'agent' ? { agent: { name: agentNameOf(user.email), owner: user.owner } } : {};
}
