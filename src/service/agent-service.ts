// Agents (issue 13): non-human identities with their own API key, each owned by a person. Stored as
// users of kind 'agent' under '<name>@agents.invalid' (src/core/agents.ts), so they authenticate
// like people; what they may not do (decide anything) is the core's rule, not this file's.
import { AGENT_NAME, agentEmail, agentNameOf } from '../core/agents.js';
import { recordAudit, type AuditContext } from '../db/audit.js';
import type { Db } from '../db/client.js';
import type { AgentListView, AgentView } from '../contracts/admin-views.js';
import { AppError, ErrorCode } from '../errors.js';
import type { AuthUser } from './auth-user.js';
import { cleanGroups, EMAIL, generateApiKey, hashApiKey, keyPrefix, normalizeEmail } from './user-fields.js';

/** The fields of a new agent (the HTTP edge refuses any other). */
export const AGENT_FIELDS = ['name', 'owner', 'groups'] as const;

function bad(message: string): AppError {
  return new AppError(ErrorCode.BadInput, message);
}

interface StoredAgent {
  email: string;
  groups: string[];
  active: boolean;
  createdAt: Date;
  owner: { email: string } | null;
}

function agentView(a: StoredAgent): AgentView {
  return { name: agentNameOf(a.email), owner: a.owner?.email ?? '', groups: a.groups, active: a.active, createdAt: a.createdAt.toISOString() };
}

export type AgentService = ReturnType<typeof createAgentService>;

export function createAgentService(db: Db) {
  function requireAdmin(actor: AuthUser): void {
    if (!actor.isAdmin) throw new AppError(ErrorCode.Forbidden, 'Only an admin can manage agents; ask an admin of your gateway.');
  }

  /** A new agent and its first API key, shown this once (stored only as its hash). */
  async function createAgent(actor: AuthUser, input: Record<string, unknown>, ctx: AuditContext) {
    requireAdmin(actor);
    // Case-insensitive like the email it becomes: stored and shown lower-case.
    const name = typeof input.name === 'string' ? input.name.trim().toLowerCase() : '';
    if (!AGENT_NAME.test(name)) {
      throw bad('Give the agent a "name" of letters, digits, "-" or "_" (at most 63, starting with a letter or digit), e.g. {"name": "deploy-bot", "owner": "alice@company.com", "groups": ["eng"]}.');
    }
    const owner = typeof input.owner === 'string' ? normalizeEmail(input.owner) : '';
    if (!EMAIL.test(owner)) throw bad('Give the agent\'s "owner": the email of the person answerable for it, e.g. "alice@company.com".');
    const groups = cleanGroups(input.groups, 'groups');
    const email = agentEmail(name);
    const apiKey = generateApiKey();
    const taken = () => new AppError(ErrorCode.Conflict, `An agent named "${name}" already exists (hoop admin get agents); choose another name.`);
    const agent = await db.$transaction(async (tx) => {
      const person = await tx.user.findUnique({ where: { email: owner }, select: { id: true, email: true, kind: true, active: true } });
      if (!person) throw bad(`No user is "${owner}"; an agent's owner must be an existing person (hoop admin get users).`);
      if (person.kind !== 'person') throw bad(`"${owner}" is an agent; an agent's owner must be a person.`);
      if (!person.active) throw bad(`${owner} is deactivated; an agent's owner must be an active person (reactivate them, or name someone else).`);
      if (await tx.user.findUnique({ where: { email }, select: { id: true } })) throw taken();
      const created = await tx.user.create({
        data: { email, name, kind: 'agent', ownerId: person.id, isAdmin: false, groups, apiKeys: { create: { hash: hashApiKey(apiKey), prefix: keyPrefix(apiKey) } } },
        include: { owner: { select: { email: true } } },
      });
      await recordAudit(tx, ctx, 'agent.created', null, { name, email, before: null, after: { name, owner: person.email, groups, admin: false } });
      return created;
    }).catch((error: unknown) => {
      // Two creations of one name at once: the unique email refuses the second.
      throw (error as { code?: string }).code === 'P2002' ? taken() : error;
    });
    const { active: _active, ...view } = agentView(agent);
    return { agent: view, apiKey };
  }

  /** Every agent, by name, with how many of its keys still work (admins only). */
  async function listAgents(actor: AuthUser): Promise<AgentListView[]> {
    requireAdmin(actor);
    const rows = await db.user.findMany({
      where: { kind: 'agent' },
      orderBy: { email: 'asc' },
      include: { owner: { select: { email: true } }, _count: { select: { apiKeys: { where: { revokedAt: null } } } } },
    });
    return rows.map((a) => ({ ...agentView(a), activeKeys: a._count.apiKeys }));
  }

  return { createAgent, listAgents };
}
