// `hoop admin create agent` and `hoop admin get agents` (issue 13): non-human identities with their
// own API key, each owned by a person, listed apart from people.
import type { Command } from 'commander';
import type { AgentListView, AgentView } from '../contracts/admin-views.js';
import type { IdentityCommandsContext } from './identity-commands.js';
import { list, outputOption } from './options.js';
import { table } from './output.js';

/** Adds `create agent` and `get agents` under `hoop admin`. */
export function registerAgentCommands(cmds: { create: Command; get: Command }, { client, print, json }: IdentityCommandsContext): void {
  cmds.create
    .command('agent')
    .description('create an agent (a non-human identity owned by a person) and print its API key (shown once)')
    .argument('<name>', "letters, digits, '-' or '_'")
    .requiredOption('--owner <email>', 'the person answerable for the agent')
    .option('--groups <groups>', 'comma-separated groups (what it may use; an agent never approves)', list)
    .addOption(outputOption())
    .action(async (name: string, opts: { owner: string; groups?: string[]; output: string }) => {
      const res = await client().request<{ agent: AgentView; apiKey: string }>('POST', '/api/agents', { name, owner: opts.owner, groups: opts.groups ?? [] });
      if (opts.output === 'json') return json(res.body);
      const a = res.body.agent;
      print(`Agent ${a.name} created, owned by ${a.owner} (groups: ${a.groups.join(', ') || 'none'}). It cannot approve or reject requests, and must give a reason with each one.`);
      print(`API key (shown once, store it now): ${res.body.apiKey}`);
    });

  cmds.get
    .command('agents')
    .description('list agents (people: hoop admin get users)')
    .addOption(outputOption())
    .action(async (opts: { output: string }) => {
      const res = await client().request<{ agents: AgentListView[] }>('GET', '/api/agents');
      if (opts.output === 'json') return json(res.body.agents);
      const agents = res.body.agents;
      print(agents.length ? table(['name', 'owner', 'groups', 'active', 'keys', 'created'], agents.map((a) => [a.name, a.owner, a.groups.join(','), a.active ? 'yes' : 'no', String(a.activeKeys), a.createdAt.slice(0, 19).replace('T', ' ')])) : 'No agents.');
    });
}
