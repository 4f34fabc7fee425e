import type { Database } from "bun:sqlite";
import type { StoredEvent } from "../api/events.ts";
import { BadRequestError, errorMessage } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
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
import { type RemovalOutcome, removeWorkspace, WorkAtRiskError, workAtRisk } from "./removal.ts";
import { Rests } from "./rests.ts";
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
 * An agent's use is noted at once, unless one was noted less than this long ago: then when that
 * much time has passed (an agent answering a turn a millisecond writes no row per turn).
 */
const USE_SPACING_MS = 1000;

/** The events after which an agent has used its workspace: a turn's end, its process's end. */
const USE_EVENTS = new Set<StoredEvent["type"]>([
  "turn.completed",
  "turn.failed",
  "turn.cancelled",
  "exit",
]);

/**
 * Agents' workspaces: made at creation, kept track of while the agent uses them, removed with the
 * agent or by garbage collection, never at the cost of uncommitted or unmerged work unless forced.
 *
 * The agent service calls, for both modes:
 * - create: `prepare` before inserting the agent (its path is the agent's cwd), `record` once the
 *   agent row exists, `discard` if the creation fails after `prepare`;
 * - delete: `refuseWorkAtRisk` before stopping the agent, `remove` after, before deleting the
 *   agent's row; `remove` throws WorkAtRiskError (409) unless forced, and then nothing has been
 *   removed.
 * After each turn's end and each exit (`followUse`), `used`: the time is noted and the size
 * measured later, off the paths that record events.
 */
export class AgentWorkspaces {
  private readonly db: Database;
  private readonly root: string;
  private readonly sizer: WorkspaceSizer;
  /** Agents whose use was seen in events and is not noted yet. */
  private readonly usedSoon = new Set<string>();
  private noteUse: ReturnType<typeof setImmediate> | null = null;
  /** Agents whose use was noted lately (USE_SPACING_MS). */
  private readonly noted = new Rests((agentId) => {
    try {
      this.note(agentId);
    } catch (error) {
      useNotNoted(agentId, error);
    }
  });
  private unfollow: (() => void) | null = null;

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

  /** The agent used its workspace just now: note the time (see USE_SPACING_MS), and measure it soon. */
  used(agentId: string): void {
    if (!this.noted.defer(agentId)) this.note(agentId);
    this.sizer.request(agentId);
  }

  private note(agentId: string): void {
    this.noted.begin(agentId).endIn(USE_SPACING_MS);
    touchWorkspace(this.db, agentId);
  }

  /**
   * Note the use of an agent's workspace after its turns end and its process exits, as the bus
   * publishes those events: after the commit that stored them, and on a later turn of the event
   * loop, so that the recorder's transaction and its caller never wait for it.
   */
  followUse(bus: EventBus): void {
    this.unfollow ??= bus.observe({
      event: (event) => {
        if (!USE_EVENTS.has(event.type)) return;
        this.usedSoon.add(event.agent_id);
        this.noteUse ??= setImmediate(() => this.noteUses());
      },
    });
  }

  private noteUses(): void {
    this.noteUse = null;
    for (const agentId of this.usedSoon) {
      try {
        this.used(agentId);
      } catch (error) {
        useNotNoted(agentId, error);
      }
    }
    this.usedSoon.clear();
  }

  get(agentId: string): WorkspaceRecord | null {
    return getWorkspace(this.db, agentId);
  }

  list(): WorkspaceListing[] {
    return listWorkspaces(this.db);
  }

  /** Throws WorkAtRiskError (409) listing what removing the agent's workspace would lose. */
  async refuseWorkAtRisk(agentId: string): Promise<void> {
    const workspace = this.get(agentId);
    if (!workspace || workspace.status === "removed") return;
    const risks = await workAtRisk(workspace);
    if (risks.length > 0) throw new WorkAtRiskError(workspace.path, risks);
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

  /**
   * Stop following events and measuring; waits for a measurement under way. Call before closing
   * the database.
   */
  async close(): Promise<void> {
    this.unfollow?.();
    if (this.noteUse) clearImmediate(this.noteUse);
    this.noteUse = null;
    this.usedSoon.clear();
    this.noted.clear();
    await this.sizer.close();
  }

  /** Resolves once every use seen so far is noted and every measurement asked for stored. */
  async sizesMeasured(): Promise<void> {
    while (this.noteUse) await new Promise((resolve) => setImmediate(resolve));
    await this.noted.resumed();
    return this.sizer.idle();
  }
}

function useNotNoted(agentId: string, error: unknown): void {
  log.warn(`${agentId}: noting the use of its workspace failed: ${errorMessage(error)}`);
}
