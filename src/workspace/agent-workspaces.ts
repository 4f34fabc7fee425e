import type { Database } from "bun:sqlite";
import { BadRequestError } from "../errors.ts";
import {
  getWorkspace,
  insertWorkspace,
  listWorkspaces,
  markWorkspaceRemoved,
  touchWorkspace,
  type WorkspaceListing,
  type WorkspaceRecord,
} from "../store/workspaces.ts";
import { collectGarbage, type GcOptions, type GcReport } from "./gc.ts";
import { createManagedDir, ensureWorkspaceRoot, workspacePath } from "./managed-dir.ts";
import { type RemovalOutcome, removeWorkspace, workAtRisk } from "./removal.ts";
import type { WorkAtRisk } from "./safety.ts";
import { DEFAULT_SIZE_TIMEOUT_MS, WorkspaceSizer } from "./sizer.ts";
import { addWorktree, type WorktreeSpec } from "./worktree.ts";

/** Where an agent works, as a create request says it: at most one of the two. */
export interface WorkspaceRequest {
  /** A directory the caller has checked exists; used as it is and never changed. */
  cwd?: string | undefined;
  worktree?: WorktreeSpec | undefined;
}

/** A workspace made on disk for an agent whose record does not exist yet. */
export type PreparedWorkspace = Pick<WorkspaceRecord, "kind" | "path" | "repo" | "branch" | "base">;

export interface AgentWorkspacesDeps {
  db: Database;
  /** `<root>/<agent id>` is where managed workspaces go (config.workspaceRoot). */
  root: string;
  sizeTimeoutMs?: number | undefined;
}

/**
 * Agents' workspaces: made at creation, kept track of while the agent uses them, removed with the
 * agent or by garbage collection, never at the cost of uncommitted or unmerged work unless forced.
 *
 * The agent service calls, for both modes:
 * - create: `prepare` before inserting the agent (its path is the agent's cwd), `record` once the
 *   agent row exists, `discard` if the creation fails after `prepare`;
 * - at each turn's end and on stop: `used` (returns at once; the size is measured later);
 * - delete: `remove` before deleting the agent's row; it throws WorkAtRiskError (409) unless
 *   forced, and then nothing has been removed.
 */
export class AgentWorkspaces {
  private readonly db: Database;
  private readonly root: string;
  private readonly sizer: WorkspaceSizer;

  constructor(deps: AgentWorkspacesDeps) {
    this.db = deps.db;
    this.root = deps.root;
    this.sizer = new WorkspaceSizer(deps.db, deps.sizeTimeoutMs ?? DEFAULT_SIZE_TIMEOUT_MS);
  }

  /**
   * Make the workspace on disk: no cwd and no worktree is a managed directory, a worktree is
   * added on a new branch (`agentd/<id>` unless named), a cwd is used as it is.
   */
  async prepare(agentId: string, request: WorkspaceRequest): Promise<PreparedWorkspace> {
    if (request.cwd !== undefined && request.worktree !== undefined) {
      throw new BadRequestError(
        "give cwd or worktree, not both: a worktree is the agent's working directory",
      );
    }
    const none = { repo: null, branch: null, base: null };
    if (request.cwd !== undefined) return { kind: "external", path: request.cwd, ...none };
    if (request.worktree === undefined) {
      return { kind: "dir", path: createManagedDir(this.root, agentId), ...none };
    }
    ensureWorkspaceRoot(this.root);
    const worktree = await addWorktree(
      request.worktree,
      workspacePath(this.root, agentId),
      `agentd/${agentId}`,
    );
    return { kind: "worktree", ...worktree };
  }

  /** Store the workspace of an agent that now exists. */
  record(agentId: string, prepared: PreparedWorkspace): WorkspaceRecord {
    return insertWorkspace(this.db, { agent_id: agentId, ...prepared });
  }

  /** Undo `prepare` for an agent that was not created: what it made holds no one's work yet. */
  async discard(prepared: PreparedWorkspace): Promise<void> {
    await removeWorkspace(prepared, { force: true });
  }

  /** The agent used its workspace just now: note the time, and measure it soon. */
  used(agentId: string): void {
    touchWorkspace(this.db, agentId);
    this.sizer.request(agentId);
  }

  get(agentId: string): WorkspaceRecord | null {
    return getWorkspace(this.db, agentId);
  }

  list(): WorkspaceListing[] {
    return listWorkspaces(this.db);
  }

  /** What removing the agent's workspace would lose (e.g. to refuse a delete before stopping). */
  async workAtRisk(agentId: string): Promise<WorkAtRisk[]> {
    const workspace = this.get(agentId);
    return workspace && workspace.status !== "removed" ? workAtRisk(workspace) : [];
  }

  /**
   * Remove the agent's workspace under the safety rules (see removeWorkspace); null when it has
   * none or it is already gone.
   */
  async remove(agentId: string, options: { force: boolean }): Promise<RemovalOutcome | null> {
    const workspace = this.get(agentId);
    if (!workspace || workspace.status === "removed") return null;
    const outcome = await removeWorkspace(workspace, options);
    if (outcome.removed) markWorkspaceRemoved(this.db, agentId);
    return outcome;
  }

  gc(options: GcOptions): Promise<GcReport> {
    return collectGarbage(this.db, options);
  }

  /** Wait for the size measurements under way, after stopping them. Call before closing the db. */
  async close(): Promise<void> {
    await this.sizer.close();
  }

  /** Resolves once every measurement asked for is stored. */
  sizesMeasured(): Promise<void> {
    return this.sizer.idle();
  }
}
