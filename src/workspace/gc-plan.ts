import { isFinished } from "../agents/status.ts";
import { formatDuration } from "../duration.ts";
import type { WorkspaceListing } from "../store/workspaces.ts";

export interface GcPolicy {
  /** Only workspaces last used longer ago than this are removed. */
  olderThanMs: number;
  now: Date;
}

export type GcDecision =
  | { action: "remove"; workspace: WorkspaceListing }
  | { action: "keep"; workspace: WorkspaceListing; reason: string };

/**
 * Which workspaces garbage collection removes, and why it keeps the others: it removes the
 * managed workspaces (directories and worktrees) of finished agents that nobody used for longer
 * than the policy allows. Those already removed are left out. Whether a removal would lose work
 * is checked when it is carried out.
 */
export function planGc(workspaces: readonly WorkspaceListing[], policy: GcPolicy): GcDecision[] {
  return workspaces
    .filter((workspace) => workspace.status !== "removed")
    .map((workspace) => {
      const reason = reasonToKeep(workspace, policy);
      return reason === null
        ? { action: "remove", workspace }
        : { action: "keep", workspace, reason };
    });
}

function reasonToKeep(workspace: WorkspaceListing, policy: GcPolicy): string | null {
  if (workspace.kind === "external") return "an external cwd: agentd never removes it";
  if (!isFinished(workspace.agent_status)) {
    return `its agent is ${workspace.agent_status}`;
  }
  const idleMs = policy.now.getTime() - Date.parse(workspace.accessed_at);
  if (!(idleMs > policy.olderThanMs)) {
    return `last used ${workspace.accessed_at}, less than ${formatDuration(policy.olderThanMs)} ago`;
  }
  return null;
}
