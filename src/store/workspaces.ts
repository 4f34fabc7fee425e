import type { Database } from "bun:sqlite";
import type { AgentStatus } from "../agents/status.ts";
import { forgetAgent, keepAgent, keptAgent } from "./agent-records.ts";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

/**
 * `dir`: a directory agentd made for the agent; `worktree`: a git worktree agentd added, on a
 * branch it created; `external`: a cwd the agent was given, which agentd never changes.
 */
export const WORKSPACE_KINDS = ["dir", "worktree", "external"] as const;
export type WorkspaceKind = (typeof WORKSPACE_KINDS)[number];

/** `active`: on disk; `missing`: gone, but not removed by agentd; `removed`: removed by agentd. */
export const WORKSPACE_STATUSES = ["active", "missing", "removed"] as const;
export type WorkspaceStatus = (typeof WORKSPACE_STATUSES)[number];

export interface WorkspaceRecord {
  agent_id: string;
  kind: WorkspaceKind;
  path: string;
  /** The repository's top-level directory (worktrees). */
  repo: string | null;
  branch: string | null;
  /** The ref (or commit) the worktree's branch was started from. */
  base: string | null;
  status: WorkspaceStatus;
  /** Disk usage when last measured; null until measured. */
  size_bytes: number | null;
  created_at: string;
  /** When its agent last used it: creation, a turn's end, a stop. */
  accessed_at: string;
}

/** A workspace as part of its agent's record. */
export type AgentWorkspace = Omit<WorkspaceRecord, "agent_id">;

/** SQL: the workspace of the agent row `a`, as a JSON object of AgentWorkspace (or NULL). */
export const WORKSPACE_OF_AGENT = `
  SELECT json_object('kind', w.kind, 'path', w.path, 'repo', w.repo, 'branch', w.branch,
                     'base', w.base, 'status', w.status, 'size_bytes', w.size_bytes,
                     'created_at', w.created_at, 'accessed_at', w.accessed_at)
  FROM workspaces w WHERE w.agent_id = a.id`;

/** A workspace with the status of the agent it belongs to. */
export interface WorkspaceListing extends WorkspaceRecord {
  agent_status: AgentStatus;
}

export type NewWorkspace = Pick<
  WorkspaceRecord,
  "agent_id" | "kind" | "path" | "repo" | "branch" | "base"
> &
  Partial<Pick<WorkspaceRecord, "status" | "size_bytes" | "created_at" | "accessed_at">>;

export function insertWorkspace(db: Database, workspace: NewWorkspace): WorkspaceRecord {
  const now = nowIso();
  const created_at = workspace.created_at ?? now;
  const record: WorkspaceRecord = {
    agent_id: workspace.agent_id,
    kind: workspace.kind,
    path: workspace.path,
    repo: workspace.repo,
    branch: workspace.branch,
    base: workspace.base,
    status: workspace.status ?? "active",
    size_bytes: workspace.size_bytes ?? null,
    created_at,
    accessed_at: workspace.accessed_at ?? created_at,
  };
  const agent = keptAgent(db, workspace.agent_id);
  forgetAgent(db, workspace.agent_id);
  run(
    db,
    `INSERT INTO workspaces
       (agent_id, kind, path, repo, branch, base, status, size_bytes, created_at, accessed_at)
     VALUES ($agent_id, $kind, $path, $repo, $branch, $base, $status, $size_bytes, $created_at,
             $accessed_at)`,
    { ...record },
  );
  // The agent's record holds its workspace: kept with it, it needs no query.
  if (agent) {
    const { agent_id: _agentId, ...asPartOfAgent } = record;
    keepAgent(db, { ...agent, workspace: asPartOfAgent });
  }
  return record;
}

export function getWorkspace(db: Database, agentId: string): WorkspaceRecord | null {
  return db
    .query<WorkspaceRecord, [string]>("SELECT * FROM workspaces WHERE agent_id = ?")
    .get(agentId);
}

/** Every workspace agentd knows, oldest first, with its agent's status. */
export function listWorkspaces(db: Database): WorkspaceListing[] {
  return db
    .query<WorkspaceListing, []>(
      `SELECT w.*, a.status AS agent_status
       FROM workspaces w JOIN agents a ON a.id = w.agent_id
       ORDER BY w.created_at, w.agent_id`,
    )
    .all();
}

export function getWorkspaceListing(db: Database, agentId: string): WorkspaceListing | null {
  return db
    .query<WorkspaceListing, [string]>(
      `SELECT w.*, a.status AS agent_status
       FROM workspaces w JOIN agents a ON a.id = w.agent_id
       WHERE w.agent_id = ?`,
    )
    .get(agentId);
}

/** Its agent used it just now. */
export function touchWorkspace(db: Database, agentId: string): void {
  forgetAgent(db, agentId);
  run(db, "UPDATE workspaces SET accessed_at = $now WHERE agent_id = $agent", {
    agent: agentId,
    now: nowIso(),
  });
}

/** A measurement: the size, or that the directory is gone. A removed workspace stays removed. */
export function recordWorkspaceSize(db: Database, agentId: string, sizeBytes: number | null): void {
  forgetAgent(db, agentId);
  run(
    db,
    `UPDATE workspaces
     SET size_bytes = $size, status = CASE WHEN $size IS NULL THEN 'missing' ELSE 'active' END
     WHERE agent_id = $agent AND status != 'removed'`,
    { agent: agentId, size: sizeBytes },
  );
}

export function markWorkspaceRemoved(db: Database, agentId: string): void {
  forgetAgent(db, agentId);
  run(db, "UPDATE workspaces SET status = 'removed' WHERE agent_id = $agent", { agent: agentId });
}
