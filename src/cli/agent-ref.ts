import type { AgentView } from "../api/schemas.ts";
import type { DaemonClient } from "./client.ts";
import { CommandFailure } from "./command.ts";
import { formatTable } from "./table.ts";

/**
 * Agents as people name them on a command line: the id, the name, or the start of the id.
 * Decided here, in the CLI, not by the API: a script's request names one agent exactly and
 * always will, where a prefix unique today can be ambiguous tomorrow, and a DELETE must never
 * guess. The CLI asks for the agent by id first, and looks at the list only when that fails.
 */
export async function resolveAgent(client: DaemonClient, ref: string): Promise<AgentView> {
  const exact = await client.jsonOrNull<AgentView>("GET", agentPath(ref));
  if (exact !== null) return exact;
  return pickAgent(ref, await client.all<AgentView>("/agents"));
}

/** The id of the agent `ref` names. */
export async function resolveAgentId(client: DaemonClient, ref: string): Promise<string> {
  return (await resolveAgent(client, ref)).id;
}

/** From a list of agents: the one whose id or name is `ref`, else the one whose id starts with it. */
export function pickAgent(ref: string, agents: readonly AgentView[]): AgentView {
  const rules = [
    (agent: AgentView) => agent.id === ref,
    (agent: AgentView) => agent.name === ref,
    (agent: AgentView) => agent.id.startsWith(ref),
  ];
  for (const rule of rules) {
    const matches = agents.filter(rule);
    if (matches.length === 1) return matches[0] as AgentView;
    if (matches.length > 1) {
      const rows = matches.map((agent) => [agent.id, agent.status, agent.name, agent.created_at]);
      const table = formatTable(["ID", "STATUS", "NAME", "CREATED"], rows);
      throw new CommandFailure(
        `"${ref}" names ${matches.length} agents; give more of the id:\n${table.trimEnd()}`,
      );
    }
  }
  throw new CommandFailure(
    `no agent has the id or name "${ref}", nor an id starting with it; \`agentd ls\` lists them`,
  );
}

export function agentPath(id: string): string {
  return `/agents/${encodeURIComponent(id)}`;
}
