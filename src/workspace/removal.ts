import { ConflictError } from "../errors.ts";
import type { WorkspaceRecord } from "../store/workspaces.ts";
import { isRepository } from "./git.ts";
import { removeTree } from "./managed-dir.ts";
import {
  describeWorkAtRisk,
  directoryWorkAtRisk,
  type WorkAtRisk,
  worktreeWorkAtRisk,
} from "./safety.ts";
import { removeWorktree } from "./worktree.ts";

export type RemovableWorkspace = Pick<WorkspaceRecord, "kind" | "path" | "repo" | "branch">;

/** 409: removing the workspace would destroy work; `details.work_at_risk` lists it exactly. */
export class WorkAtRiskError extends ConflictError {
  constructor(
    path: string,
    readonly risks: WorkAtRisk[],
  ) {
    super(
      `removing the workspace ${path} would lose work: ${describeWorkAtRisk(risks)}. ` +
        "Commit it and merge or push the commits, or force the removal (?force=1)",
      { work_at_risk: risks },
    );
  }
}

export interface RemovalOutcome {
  removed: boolean;
  /** Why something stayed: an external cwd, or a branch git would not delete. */
  note: string | null;
}

export const EXTERNAL_NOTE = "an external cwd: agentd never removes it";

/** What removing this workspace would lose; nothing for an external cwd, which is never removed. */
export async function workAtRisk(workspace: RemovableWorkspace): Promise<WorkAtRisk[]> {
  const worktree = asWorktree(workspace);
  if (worktree) {
    const risk = await worktreeWorkAtRisk(worktree);
    return risk ? [risk] : [];
  }
  return workspace.kind === "dir" ? directoryWorkAtRisk(workspace.path) : [];
}

/**
 * Remove a managed workspace: a directory is deleted, a worktree removed with its branch. Unless
 * forced, nothing is removed when that would lose work (WorkAtRiskError). An external cwd is
 * never touched.
 */
export async function removeWorkspace(
  workspace: RemovableWorkspace,
  options: { force: boolean },
): Promise<RemovalOutcome> {
  if (workspace.kind === "external") return { removed: false, note: EXTERNAL_NOTE };
  if (!options.force) {
    const risks = await workAtRisk(workspace);
    if (risks.length > 0) throw new WorkAtRiskError(workspace.path, risks);
  }
  const worktree = asWorktree(workspace);
  if (worktree && (await isRepository(worktree.repo))) {
    const { branchKept } = await removeWorktree(worktree);
    const note = branchKept && `branch ${worktree.branch} was kept: ${branchKept}`;
    return { removed: true, note };
  }
  // A directory, or a worktree whose repository is gone (or is one no more): nothing but the
  // files is left of it.
  await removeTree(workspace.path);
  return { removed: true, note: null };
}

function asWorktree(
  workspace: RemovableWorkspace,
): { repo: string; path: string; branch: string } | null {
  const { kind, repo, branch, path } = workspace;
  return kind === "worktree" && repo !== null && branch !== null ? { repo, path, branch } : null;
}
