import type { Database } from "bun:sqlite";
import { formatDuration } from "../duration.ts";
import { errorMessage } from "../errors.ts";
import {
  getWorkspaceListing,
  listWorkspaces,
  markWorkspaceRemoved,
  type WorkspaceKind,
  type WorkspaceListing,
} from "../store/workspaces.ts";
import { type GcDecision, type GcPolicy, planGc } from "./gc-plan.ts";
import { removeWorkspace, WorkAtRiskError, workAtRisk } from "./removal.ts";
import { describeWorkAtRisk, type WorkAtRisk } from "./safety.ts";

export interface GcOptions {
  olderThanMs: number;
  /** Decide and check, remove nothing. */
  dryRun: boolean;
  now?: Date | undefined;
}

export interface GcRemoved {
  agent_id: string;
  kind: WorkspaceKind;
  path: string;
  /** Its size when last measured: roughly what was freed. */
  size_bytes: number | null;
  note: string | null;
}

export interface GcKept {
  agent_id: string;
  kind: WorkspaceKind;
  path: string;
  reason: string;
  work_at_risk?: WorkAtRisk[];
}

export interface GcReport {
  dry_run: boolean;
  older_than: string;
  /** With dry_run: what would be removed. */
  removed: GcRemoved[];
  kept: GcKept[];
}

/**
 * Remove the workspaces of finished agents that nobody used for `olderThanMs`, with the safety
 * rules of a delete and never forced: a workspace holding work is kept, and the report says what.
 * Each worktree removal ends with `git worktree prune` in its repository.
 */
export async function collectGarbage(db: Database, options: GcOptions): Promise<GcReport> {
  const policy = { olderThanMs: options.olderThanMs, now: options.now ?? new Date() };
  const report: GcReport = {
    dry_run: options.dryRun,
    older_than: formatDuration(options.olderThanMs),
    removed: [],
    kept: [],
  };
  for (const decision of planGc(listWorkspaces(db), policy)) {
    if (decision.action === "keep") {
      report.kept.push(kept(decision.workspace, decision.reason));
      continue;
    }
    const current = decideAgain(db, decision.workspace.agent_id, policy);
    if (current?.action === "keep") report.kept.push(kept(current.workspace, current.reason));
    if (current?.action !== "remove") continue;
    const workspace = current.workspace;
    const outcome = options.dryRun ? await checkOnly(workspace) : await remove(db, workspace);
    if ("reason" in outcome) report.kept.push(outcome);
    else report.removed.push(outcome);
  }
  return report;
}

/** Removals take time: the agent may have been started or deleted since the plan was made. */
function decideAgain(db: Database, agentId: string, policy: GcPolicy): GcDecision | null {
  const listing = getWorkspaceListing(db, agentId);
  return listing ? (planGc([listing], policy)[0] ?? null) : null;
}

async function checkOnly(workspace: WorkspaceListing): Promise<GcRemoved | GcKept> {
  try {
    const risks = await workAtRisk(workspace);
    return risks.length > 0 ? keptForWork(workspace, risks) : removed(workspace, null);
  } catch (error) {
    return kept(workspace, `could not check it: ${errorMessage(error)}`);
  }
}

async function remove(db: Database, workspace: WorkspaceListing): Promise<GcRemoved | GcKept> {
  try {
    const outcome = await removeWorkspace(workspace, { force: false });
    markWorkspaceRemoved(db, workspace.agent_id);
    return removed(workspace, outcome.note);
  } catch (error) {
    if (error instanceof WorkAtRiskError) return keptForWork(workspace, error.risks);
    return kept(workspace, `could not remove it: ${errorMessage(error)}`);
  }
}

function removed(workspace: WorkspaceListing, note: string | null): GcRemoved {
  const { agent_id, kind, path, size_bytes } = workspace;
  return { agent_id, kind, path, size_bytes, note };
}

function kept(workspace: WorkspaceListing, reason: string): GcKept {
  const { agent_id, kind, path } = workspace;
  return { agent_id, kind, path, reason };
}

function keptForWork(workspace: WorkspaceListing, risks: WorkAtRisk[]): GcKept {
  return {
    ...kept(workspace, `it holds work: ${describeWorkAtRisk(risks)}`),
    work_at_risk: risks,
  };
}
