import type { Database } from "bun:sqlite";
import { rmSync } from "node:fs";
import type { DeleteResult } from "../api/schemas.ts";
import { AgentdError, errorMessage, IncompleteRemovalError } from "../errors.ts";
import type { EventBus } from "../events/bus.ts";
import { log } from "../log.ts";
import type { AgentLogs } from "../logs/agent-logs.ts";
import type { AgentRuntime } from "../runtimes/runtime.ts";
import { type AgentRecord, deleteAgent } from "../store/agents.ts";
import type { Transactions } from "../store/transactions.ts";
import type { AgentWorkspaces, PreparedWorkspace } from "../workspace/agent-workspaces.ts";
import type { AgentTurns } from "./turns.ts";

/** `force`: remove the agent's workspace even if that loses uncommitted or unmerged work. */
export interface RemoveOptions {
  force: boolean;
}

export interface RemovalDeps {
  db: Database;
  transactions: Transactions;
  bus: EventBus;
  turns: AgentTurns;
  logs: AgentLogs;
  workspaces: AgentWorkspaces;
}

/**
 * What goes when an agent goes, in an order that never leaves it half-deleted: its process
 * (the runtime's), its workspace, its logs, then its records — or, after a creation that
 * failed, whatever of it had been made.
 */
export class AgentRemoval {
  constructor(private readonly deps: RemovalDeps) {}

  /**
   * Unless forced, an agent whose workspace holds uncommitted or unmerged work is refused (409
   * listing it) before anything is touched. If the workspace cannot be removed after the stop,
   * the agent stays (stopped), and the error says why.
   */
  async remove(
    agent: AgentRecord,
    runtime: AgentRuntime,
    options: RemoveOptions,
  ): Promise<DeleteResult> {
    if (!options.force) await this.deps.workspaces.refuseWorkAtRisk(agent.id);
    await runtime.remove(agent);
    const workspace = await this.removeWorkspace(agent, options);
    this.forget(agent.id);
    return { id: agent.id, deleted: true, workspace };
  }

  /** Undo a creation that failed: the agent (if recorded) and the workspace made for it. */
  async abandon(
    id: string,
    created: { agent: AgentRecord; runtime: AgentRuntime } | null,
    workspace: PreparedWorkspace,
  ): Promise<void> {
    const failed = (what: string) => (cleanup: unknown) => {
      log.warn(`${id}: after a failed creation, ${what} failed: ${errorMessage(cleanup)}`);
    };
    if (created) {
      await created.runtime
        .remove(created.agent)
        .then(() => this.forget(id))
        .catch(failed("removing the agent"));
    }
    await this.deps.workspaces.discard(workspace).catch(failed("removing its workspace"));
  }

  private async removeWorkspace(
    agent: AgentRecord,
    options: RemoveOptions,
  ): Promise<DeleteResult["workspace"]> {
    const recorded = agent.workspace;
    try {
      const outcome = await this.deps.workspaces.remove(agent.id, options);
      return recorded && outcome && { kind: recorded.kind, path: recorded.path, ...outcome };
    } catch (error) {
      throw workspaceKept(agent.id, recorded?.path ?? agent.cwd, error);
    }
  }

  /**
   * Its logs, then its records: a log directory that cannot be removed keeps the agent
   * (stopped) for another try, and the error names what is left. Streams open now are told
   * (`removed`); the event goes with the agent's others, as nothing is kept of a removed agent.
   */
  private forget(id: string): void {
    const logDir = this.deps.logs.dir(id);
    try {
      rmSync(logDir, { recursive: true, force: true });
    } catch (error) {
      throw new IncompleteRemovalError(
        `agent ${id} is stopped but not removed: its log directory ${logDir} could not be removed (${errorMessage(error)}). Its records are kept; fix that and DELETE it again`,
        [{ path: logDir, error: errorMessage(error) }],
      );
    }
    this.deps.transactions.run(() => {
      this.deps.bus.record(id, "removed", {});
      this.deps.bus.writeRecorded();
      deleteAgent(this.deps.db, id);
    });
    this.deps.turns.forget(id);
    this.deps.bus.forget(id);
  }
}

/** The agent was stopped, but its workspace stays, and so does the agent: nothing half-deleted. */
function workspaceKept(id: string, path: string, error: unknown): AgentdError {
  const message = `agent ${id} is stopped but was not deleted: its workspace ${path} stays, because ${errorMessage(error)}`;
  return error instanceof AgentdError
    ? new AgentdError(error.status, error.code, message, error.details)
    : new AgentdError(500, "workspace_not_removed", message);
}
