import type { Database } from "bun:sqlite";
import { run } from "./sql.ts";
import { nowIso } from "./time.ts";

export interface WorkspaceRecord {
  agent_id: string;
  path: string;
  managed: number;
  repo: string | null;
  branch: string | null;
  base: string | null;
  status: string | null;
  size_bytes: number | null;
  created_at: string;
  accessed_at: string | null;
}

export function insertWorkspace(
  db: Database,
  workspace: Pick<WorkspaceRecord, "agent_id" | "path" | "repo" | "branch" | "base"> & {
    managed: boolean;
  },
): void {
  run(
    db,
    `INSERT INTO workspaces (agent_id, path, managed, repo, branch, base, created_at)
     VALUES ($agent_id, $path, $managed, $repo, $branch, $base, $now)`,
    { ...workspace, managed: workspace.managed ? 1 : 0, now: nowIso() },
  );
}

export function getWorkspace(db: Database, agentId: string): WorkspaceRecord | null {
  return db
    .query<WorkspaceRecord, [string]>("SELECT * FROM workspaces WHERE agent_id = ?")
    .get(agentId);
}
