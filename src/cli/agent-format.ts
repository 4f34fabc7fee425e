import { formatUsd } from "../agents/budget.ts";
import { TURN_STATUSES } from "../agents/status.ts";
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
    String(turnTotal(agent)),
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
    ["restart", `${agent.restart} (${agent.restarts} automatic restart(s) since started)`],
    ["timeout", agent.turn_timeout_s === null ? "-" : `${agent.turn_timeout_s} s a turn`],
    [
      "idle limit",
      agent.turn_idle_timeout_s === null
        ? "-"
        : `${agent.turn_idle_timeout_s} s without output in a turn`,
    ],
    ["error", orDash(agent.error)],
    ["turns", turnBreakdown(agent)],
    ["tokens", `${agent.input_tokens} in, ${agent.output_tokens} out`],
    ["cost", formatCost(agent.cost_micro_usd)],
    ["budget", budgetLine(agent)],
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
  return microUsd === null ? "-" : formatUsd(microUsd);
}

/** How many stderr lines of a failed agent `show` prints. */
const STDERR_LINES = 10;
const STDERR_PREFIX = "[stderr] ";

/**
 * Why a failed agent failed, as far as its log says: its last stderr lines, and where to read
 * more. A persistent agent's stderr goes to the journal, not the log.
 */
export function failureReport(agent: AgentView, logTail: string): string {
  const stderr = logTail
    .split("\n")
    .filter((line) => line.startsWith(STDERR_PREFIX))
    .map((line) => line.slice(STDERR_PREFIX.length))
    .slice(-STDERR_LINES);
  const lines = ["", `last stderr lines:`];
  if (stderr.length > 0) lines.push(...stderr.map((line) => `  ${line}`));
  else if (agent.mode === "persistent") {
    lines.push(`  (in the journal: journalctl --user -u agentd-agent@${agent.name}.service)`);
  } else lines.push("  (none)");
  lines.push(`the whole log: agentd logs ${agent.id}`);
  return `${lines.join("\n")}\n`;
}

function turnTotal(agent: AgentView): number {
  return Object.values(agent.turn_counts).reduce((sum, n) => sum + n, 0);
}

/** `5 (3 completed, 1 error, 1 running)`: every turn, and those of each status there are. */
function turnBreakdown(agent: AgentView): string {
  const parts = TURN_STATUSES.filter((status) => agent.turn_counts[status] > 0).map(
    (status) => `${agent.turn_counts[status]} ${status}`,
  );
  const total = turnTotal(agent);
  return parts.length === 0 ? "0" : `${total} (${parts.join(", ")})`;
}

function budgetLine(agent: AgentView): string {
  if (agent.budget_usd === null) return "none";
  const budget = formatUsd(Math.round(agent.budget_usd * 1_000_000));
  const state = agent.budget_state === "ok" ? "" : `, ${agent.budget_state}`;
  return `${budget} (at the budget: ${agent.budget_action} the running turn${state})`;
}

function orDash(value: string | number | null): string {
  return value === null ? "-" : String(value);
}
