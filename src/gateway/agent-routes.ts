// The HTTP routes of agents (issue 13): create one (its API key shown once) and list them apart
// from people. Registered inside the authenticated /api scope of http-server.ts; the rules live in
// the agent service.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditContext } from '../db/audit.js';
import { AGENT_FIELDS, type AgentService } from '../service/agent-service.js';
import { objectBody } from './request-body.js';

export interface AgentRoutesOptions {
  /** The admin service, which offers the agent use cases. */
  agents: Pick<AgentService, 'createAgent' | 'listAgents'>;
  auditCtx: (req: FastifyRequest) => AuditContext;
}

/** `POST /agents` → 201 {agent, apiKey}; `GET /agents` → {agents}. Admins only. */
export function registerAgentRoutes(api: FastifyInstance, { agents, auditCtx }: AgentRoutesOptions): void {
  api.post('/agents', async (req, reply) => reply.status(201).send(await agents.createAgent(req.user!, objectBody(req, AGENT_FIELDS), auditCtx(req))));
  api.get('/agents', async (req) => ({ agents: await agents.listAgents(req.user!) }));
}
