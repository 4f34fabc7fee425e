import type { AgentView } from "../api/schemas.ts";
import type { AgentWorkspaceView } from "../api/workspaces.ts";
import { formatFields, formatTable, truncate } from "./table.ts";
import { formatBytes } from "./workspaces.ts";

const DESCRIPTION_CHARS = 60;

/** `ls`: one row per agent. */
export function agentTable(agents: readonly AgentView[]): string {
  const rows = agents.map((agent) => [
    agent.id,
    agent.status,
    agent.mode,
    String(agent.turns),
    formatCost(agent.cost_micro_usd),
    truncate(agent.title ?? agent.summary ?? "", DESCRIPTION_CHARS),
  ]);
  return formatTable(["ID", "STATUS", "MODE", "TURNS", "COST", "TITLE/SUMMARY"], rows);
}

/** `show`: everything about one agent, one field per line. */
export function agentFields(agent: AgentView): string {
  return formatFields([
    ["id", agent.id],
    ["name", agent.name],
    ["title", orDash(agent.title)],
    ["status", agent.status],
    ["mode", agent.mode],
    ["protocol", agent.protocol],
    ["command", agent.command === null ? "-" : agent.command.join(" ")],
    ["provider", agent.provider],
    ["model", agent.model],
    ["cwd", agent.cwd],
    ["workspace", agent.workspace === null ? "-" : workspaceLines(agent.workspace)],
    ["pid", orDash(agent.pid)],
    ["exit code", orDash(agent.exit_code)],
    ["error", orDash(agent.error)],
    ["turns", String(agent.turns)],
    ["tokens", `${agent.input_tokens} in, ${agent.output_tokens} out`],
    ["cost", formatCost(agent.cost_micro_usd)],
    ["prompt", orDash(agent.prompt)],
    ["summary", orDash(agent.summary)],
    ["created", agent.created_at],
    ["started", orDash(agent.started_at)],
    ["completed", orDash(agent.completed_at)],
    ["updated", agent.updated_at],
  ]);
}

/** What it is and where, the branch of a worktree, its size and last use. */
function workspaceLines(workspace: AgentWorkspaceView): string {
  const lines = [`${workspace.kind} ${workspace.path} (${workspace.status})`];
  if (workspace.kind === "worktree") {
    lines.push(`branch ${workspace.branch} from ${workspace.base} in ${workspace.repo}`);
  }
  const size =
    workspace.size_bytes === null ? "size not measured yet" : formatBytes(workspace.size_bytes);
  lines.push(`${size}, last used ${workspace.accessed_at}`);
  return lines.join("\n");
}

/** US dollars to a hundredth of a cent; "-" when the cost is unknown, which is not zero. */
export function formatCost(microUsd: number | null): string {
  return microUsd === null ? "-" : `$${(microUsd / 1_000_000).toFixed(4)}`;
}

function orDash(value: string | number | null): string {
  return value === null ? "-" : String(value);
}
